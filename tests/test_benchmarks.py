"""The benchmark scripts run end to end (``--quick``) and write their results.

Each script runs in a subprocess with this interpreter, writing into a
temporary directory; the tests check the tables they write, not timings.
"""

import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

# Each test runs a script end to end in a fresh interpreter: seconds each.
pytestmark = pytest.mark.slow

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
NUMBER = r"\d+(?:\.\d+)?"


def run_quick(script, out_dir, *extra):
    command = [sys.executable, str(BENCHMARKS / script), "--quick", "--out"]
    done = subprocess.run(
        [*command, str(out_dir), *extra],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, f"{script} failed:\n{done.stdout}\n{done.stderr}"
    return done


def common_header_checks(text, script):
    assert "- machine: " in text
    assert "- load average at start (1, 5, 15 min): " in text
    assert "torch " in text and "skorch " in text
    assert f"- command: `python benchmarks/{script} --quick --out " in text


def test_bench_overhead_quick_writes_a_positive_ratio(tmp_path):
    run_quick("bench_overhead.py", tmp_path, "--repeats", "1")
    text = (tmp_path / "overhead.md").read_text()
    common_header_checks(text, "bench_overhead.py")
    assert (
        "| torch threads | clock | CNNClassifier.fit median (s) "
        "| raw loop median (s) | ratio of medians |" in text
    )
    for clock in ("wall-clock", "CPU \\(process\\)"):
        row = re.search(
            rf"^\| 1 \| {clock} \| ({NUMBER}) \| ({NUMBER}) \| ({NUMBER}) \|",
            text,
            re.M,
        )
        assert row is not None, text
        skimbal_seconds, raw_seconds, ratio = (float(v) for v in row.groups())
        assert skimbal_seconds > 0 and raw_seconds > 0
        assert ratio > 0
        assert ratio == pytest.approx(skimbal_seconds / raw_seconds, rel=2e-2)
    added = re.search(
        rf"^\| added by CNNClassifier \+ skorch \| (-?{NUMBER}) \|", text, re.M
    )
    assert added is not None, text


def test_bench_memory_paths_quick_reports_both_arms(tmp_path):
    run_quick("bench_memory_paths.py", tmp_path / "out", "--data-dir", str(tmp_path))
    text = (tmp_path / "out" / "memory_paths.md").read_text()
    common_header_checks(text, "bench_memory_paths.py")
    assert "| X given as | X in memory (MB) | peak RSS (MB) |" in text
    peaks = {}
    for arm in ("paths", "pixels"):
        row = re.search(
            rf"^\| {arm} \| ({NUMBER}) \| ({NUMBER}) \| -?{NUMBER} \| {NUMBER} \| "
            rf"{NUMBER} \| (\d+) \|",
            text,
            re.M,
        )
        assert row is not None, text
        peaks[arm] = float(row.group(2))
        # 300 common and 3 rare images, over-sampled to 300 + 300.
        assert int(row.group(3)) == 600
    assert all(peak > 0 for peak in peaks.values())
    assert "300 common : 3 rare (1:100)" in text


def test_bench_imbalance_quick_tabulates_every_ratio(tmp_path):
    run_quick("bench_imbalance.py", tmp_path)
    text = (tmp_path / "imbalance.md").read_text()
    common_header_checks(text, "bench_imbalance.py")
    for ratio in ("1:1", "1:10", "1:100"):
        assert f"## Training ratio odd:even = {ratio}" in text
    assert text.count("| strategy | F1 | precision | recall | fit (s) |") == 3
    f1_values = [
        float(v)
        for v in re.findall(
            rf"^\| (?:plain|oversample|threshold_tuning) \| \**({NUMBER})",
            text,
            re.M,
        )
    ]
    assert len(f1_values) == 9
    assert all(0 <= f1 <= 1 for f1 in f1_values)
    assert "Aim F1 >= 0.93 at 1:100:" in text
    assert (tmp_path / "imbalance.png").stat().st_size > 0
    runs = (tmp_path / "imbalance.csv").read_text().splitlines()
    assert runs[0].startswith("ratio,seed,strategy,candidate,n_negative,n_positive,f1")
    assert len(runs) == 1 + 9


def test_bench_losses_quick_tabulates_every_loss(tmp_path):
    run_quick("bench_losses.py", tmp_path, "--classes", "2", "--batch-size", "64")
    text = (tmp_path / "losses.md").read_text()
    common_header_checks(text, "bench_losses.py")
    rows = re.findall(
        rf"^\| 2 \| (\d+) \| ([^|]+?) \| ({NUMBER}) \| ({NUMBER}) \|$", text, re.M
    )
    losses = {name for _, name, _, _ in rows}
    assert {"cross_entropy", "focal γ=2", "logit_adjusted", "ldam"} <= losses
    for _, name, median, ratio in rows:
        assert float(median) > 0
        if name == "cross_entropy":
            assert float(ratio) == 1.0  # the baseline of every ratio


def test_bench_scaling_quick_compares_serial_processes_and_dask(tmp_path):
    run_quick("bench_scaling.py", tmp_path, "--arms", "loky", "dask")
    text = (tmp_path / "scaling.md").read_text()
    common_header_checks(text, "bench_scaling.py")
    assert "Dask workers reported [1, 1]" in text
    rows = dict(
        re.findall(
            rf"^\| (compare_strategies, [^|]+?) \| ({NUMBER}) \| {NUMBER}x \|",
            text,
            re.M,
        )
    )
    assert set(rows) == {
        "compare_strategies, n_jobs=1",
        "compare_strategies, n_jobs=2 (loky)",
        "compare_strategies, dask, 2-worker cluster",
    }
    assert all(float(seconds) > 0 for seconds in rows.values())
    assert re.search(
        rf"Speed-up of 2 workers over `n_jobs=1`: {NUMBER}x with loky", text
    )


def test_bench_gpu_quick_times_every_arm_on_the_cpu(tmp_path):
    run_quick("bench_gpu.py", tmp_path)
    text = (tmp_path / "gpu_throughput.md").read_text()
    common_header_checks(text, "bench_gpu.py")
    assert "- device: CPU (quick mode: not a measurement)" in text
    rows = re.findall(
        rf"^\| (raw AMP loop|CNNClassifier[^|]*?) \| (\d+) \| ({NUMBER}) \| "
        rf"({NUMBER}) \|",
        text,
        re.M,
    )
    assert [name for name, *_ in rows] == [
        "raw AMP loop",
        "CNNClassifier",
        "CNNClassifier, 2 loader workers",
    ]
    for name, _, seconds, relative in rows:
        assert float(seconds) > 0
        if name == "raw AMP loop":
            assert float(relative) == 1.0


def test_bench_trusted_model_quick_scores_the_returned_model(tmp_path):
    run_quick("bench_trusted_model.py", tmp_path)
    text = (tmp_path / "trusted_model.md").read_text()
    common_header_checks(text, "bench_trusted_model.py")
    for prior in ("balanced", "train"):
        assert f"## class_prior='{prior}'" in text
    found = re.findall(rf"test F1 of the returned model: \*\*({NUMBER}) ±", text)
    assert len(found) == 2 and all(0 < float(v) <= 1 for v in found)
    regrets = re.findall(rf"selection regret .*: \*\*({NUMBER}) ±", text)
    assert len(regrets) == 2 and all(0 <= float(v) <= 1 for v in regrets)
    runs = (tmp_path / "trusted_model.csv").read_text().splitlines()
    assert runs[0].startswith("seed,prior,strategy,cv_f1,threshold,test_f1")
    assert len(runs) == 1 + 2 * 2  # two strategies, two priors


def test_bench_threshold_transfer_quick_scores_every_kind_of_model(tmp_path):
    run_quick("bench_threshold_transfer.py", tmp_path)
    text = (tmp_path / "threshold_transfer.md").read_text()
    common_header_checks(text, "bench_threshold_transfer.py")
    runs = pd.read_csv(tmp_path / "threshold_transfer.csv")
    assert set(runs["model"]) == {
        "fold models",
        "refit",
        "refit, fold steps",
        "ensemble",
    }
    assert len(runs) == 2 * 4  # two strategies, four models
    assert runs["test_f1"].between(0, 1).all() and runs["threshold"].between(0, 1).all()
    # One threshold per strategy, shared by its four models.
    assert (runs.groupby("strategy")["threshold"].nunique() == 1).all()


def test_bench_small_data_quick_compares_both_settings(tmp_path):
    run_quick("bench_small_data.py", tmp_path)
    text = (tmp_path / "small_data.md").read_text()
    common_header_checks(text, "bench_small_data.py")
    assert "## wave 1 settings" in text and "## new defaults" in text
    row = re.search(
        rf"^\| 0 \| new defaults \| \w+ \| ({NUMBER}) \| ({NUMBER}) \|", text, re.M
    )
    assert row is not None, text
    assert 0 < float(row.group(2)) < 1  # a tuned threshold is reported


def test_bench_startup_quick_times_help_and_cold_comparisons(tmp_path):
    run_quick("bench_startup.py", tmp_path)
    text = (tmp_path / "startup.md").read_text()
    common_header_checks(text, "bench_startup.py")
    helps = dict(re.findall(rf"^\| `(skimbal [^`]+)` \| ({NUMBER}) \|", text, re.M))
    assert set(helps) == {"skimbal --help", "skimbal compare --help"}
    assert all(float(seconds) > 0 for seconds in helps.values())
    arms = re.findall(
        rf"^\| (n_jobs=\d) \| ({NUMBER}) \| ({NUMBER})x \| (\d+) \| (-?{NUMBER}) \|",
        text,
        re.M,
    )
    assert [arm[0] for arm in arms] == ["n_jobs=1", "n_jobs=2"]
    assert float(arms[0][2]) == 1.0  # the baseline of the speed-ups
    for _, wall, _, section, rest in arms:
        assert float(wall) > 0 and float(rest) == pytest.approx(
            float(wall) - float(section), abs=0.06
        )


def test_bench_long_tailed_quick_tabulates_every_method(tmp_path):
    run_quick("bench_long_tailed.py", tmp_path)
    text = (tmp_path / "long_tailed.md").read_text()
    common_header_checks(text, "bench_long_tailed.py")
    assert "## Long-tailed 1:10 (macro averages over 10 classes, balanced test)" in text
    methods = (
        "CE",
        "class weight",
        "focal \\(gamma=2\\)",
        "logit-adjusted \\(tau=1\\)",
    )
    for method in (*methods, "LDAM-DRW", "VS", "AutoBalance"):
        row = re.search(rf"^\| {method} \| \**({NUMBER}) ± {NUMBER}", text, re.M)
        assert row is not None, (method, text)
        assert 0 <= float(row.group(1)) <= 1
    assert "## Binary 1:100 (odd vs even" in text
    assert re.search(rf"ratio AutoBalance / plain = {NUMBER}", text)
    assert "| scaling |" in text and "| offset |" in text
    runs = (tmp_path / "long_tailed.csv").read_text().splitlines()
    assert runs[0].startswith("study,seed,method,n_train,macro_f1,balanced_accuracy")
    assert len(runs) == 1 + 8 + 4


def test_bench_frozen_features_quick_times_every_arm(tmp_path):
    run_quick("bench_frozen_features.py", tmp_path)
    text = (tmp_path / "frozen_features.md").read_text()
    common_header_checks(text, "bench_frozen_features.py")
    ratio = re.search(r"\(aim: at most 1.5", text)
    assert ratio is not None
    speedup = re.search(rf"\*\*({NUMBER})x\*\* \(aim: at least 20x\)", text)
    assert speedup is not None and float(speedup.group(1)) > 1
    assert "the warm run gave the same table as the cold one: True" in text
    assert re.search(r"^\| 200 \| 0\.4 \| \d+ \|$", text, re.M), text
    row = (tmp_path / "frozen_features.csv").read_text().splitlines()
    assert row[0].startswith("forward,")
