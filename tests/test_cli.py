"""The `skimbal` command line, end to end on tiny settings."""

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from skimbal.cli import main
from skimbal.datasets import load_digits_images
from skimbal.model_selection import SIMPLICITY, STRATEGIES, StrategyReport

TINY = [
    "--epochs",
    "1",
    "--min-steps",
    "0",
    "--cv",
    "2",
    "--n-jobs",
    "1",
    "--no-progress",
]


def run(*args):
    result = CliRunner().invoke(main, list(args))
    return result


def test_compare_runs_end_to_end_and_writes_the_report(tmp_path):
    out = tmp_path / "report"
    result = run(
        "compare", *TINY, "--strategies", "plain,oversample", "--out", str(out)
    )
    assert result.exit_code == 0, result.output
    assert "digits, positive class 1 = odd digits, 1:50: 908 samples" in result.output
    assert "positive class: 1 (the rarer one)" in result.output
    assert "Scores as if class 0 and class 1 were equally frequent" in result.output
    assert "| strategy | F1 | F1 at 0.5 | precision | recall |" in result.output
    assert "Highest f1:" in result.output and "Chosen: " in result.output
    assert f"Report written to {out}" in result.output
    report = StrategyReport.load(out)
    assert set(report.table.index) == {"plain", "oversample"}
    assert report.metadata["cv"] == 2 and report.metadata["pos_label"] == 1
    for name in ("table.csv", "table.md", "report.json", "f1.png", "model"):
        assert (out / name).exists()
    # The printed table is the saved one.
    assert (out / "table.md").read_text().strip() in result.output


def test_compare_on_an_image_folder(tmp_path):
    X, y = load_digits_images(return_X_y=True)
    for label in ("even", "odd"):
        (tmp_path / "data" / label).mkdir(parents=True)
    for i in range(40):
        label = "odd" if y[i] % 2 else "even"
        pixels = (X[i].reshape(8, 8) * 255).astype(np.uint8)
        Image.fromarray(pixels).save(tmp_path / "data" / label / f"{i}.png")
    result = run(
        "compare",
        *TINY,
        "--data",
        str(tmp_path / "data"),
        "--image-size",
        "8",
        "--strategies",
        "plain",
        "--out",
        str(tmp_path / "out"),
    )
    assert result.exit_code == 0, result.output
    assert "40 samples" in result.output
    assert StrategyReport.load(tmp_path / "out").metadata["labels"] == ["even", "odd"]


def _digit_folder(root, n=40):
    X, y = load_digits_images(return_X_y=True)
    for label in ("even", "odd"):
        (root / label).mkdir(parents=True)
    for i in range(n):
        label = "odd" if y[i] % 2 else "even"
        pixels = (X[i].reshape(8, 8) * 255).astype(np.uint8)
        Image.fromarray(pixels).save(root / label / f"{i}.png")
    return root


def test_a_corrupt_image_stops_before_training_unless_skipped(tmp_path):
    folder = _digit_folder(tmp_path / "data")
    (folder / "odd" / "broken.png").write_bytes(b"this is not a png")
    args = [
        "compare",
        *TINY,
        "--data",
        str(folder),
        "--image-size",
        "8",
        "--strategies",
        "plain",
        "--out",
        str(tmp_path / "out"),
    ]
    result = run(*args)
    assert result.exit_code != 0
    assert "1 of 41 image files" in result.output and "broken.png" in result.output
    assert "--skip-bad-images" in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "out").exists()
    result = run(*args, "--skip-bad-images")
    assert result.exit_code == 0, result.output
    assert "Skipping 1 unreadable image files" in result.output
    assert "40 samples" in result.output


def test_an_empty_class_folder_is_an_error_line(tmp_path):
    folder = _digit_folder(tmp_path / "data")
    (folder / "empty").mkdir()
    result = run("compare", *TINY, "--data", str(folder), "--out", str(tmp_path))
    assert result.exit_code != 0
    assert result.output.startswith("Error: ") or "\nError: " in result.output
    assert "empty" in result.output and "Traceback" not in result.output


def test_positive_names_the_positive_class_of_a_folder(tmp_path):
    folder = _digit_folder(tmp_path / "data")
    args = [
        "compare",
        *TINY,
        "--data",
        str(folder),
        "--image-size",
        "8",
        "--strategies",
        "plain",
        "--out",
        str(tmp_path / "out"),
    ]
    result = run(*args, "--positive", "even")
    assert result.exit_code == 0, result.output
    assert "positive class: 'even' (given with --positive)" in result.output
    assert StrategyReport.load(tmp_path / "out").metadata["pos_label"] == "even"
    result = run(*args, "--positive", "cat")
    assert result.exit_code != 0 and "pos_label='cat' is not a label" in result.output
    result = run(*args, "--positive", "even,odd")
    assert result.exit_code != 0 and "names one class" in result.output


def test_imbalance_zero_keeps_the_ten_digits(tmp_path):
    result = run(
        "compare",
        *TINY,
        "--imbalance",
        "0",
        "--strategies",
        "plain,class_weight",
        "--out",
        str(tmp_path),
    )
    assert result.exit_code == 0, result.output
    assert "1797 samples" in result.output
    assert "as if all 10 classes were equally frequent" in result.output


def test_help_lists_the_options():
    result = run("compare", "--help")
    assert result.exit_code == 0
    for option in (
        "--data",
        "--imbalance",
        "--strategies",
        "--cv",
        "--epochs",
        "--module",
        "--image-size",
        "--device",
        "--n-jobs",
        "--backend",
        "--scheduler",
        "--out",
        "--class-prior",
        "--repeats",
        "--save-model",
        "--min-steps",
    ):
        assert option in result.output


def test_strategies_command_lists_every_strategy():
    result = run("strategies")
    assert result.exit_code == 0
    names = [line.split()[0] for line in result.output.splitlines()]
    assert (
        names == list(SIMPLICITY) == [n for n in STRATEGIES if n != "threshold_tuning"]
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--strategies", "plain,focul"], "Did you mean 'focal'?"),
        (["--data", "no/such/folder"], "neither 'digits', 'mnist' nor an existing"),
        (["--imbalance", "0.5"], "must be 0 (keep the data) or at least 1"),
        (["--positive", "three"], "built-in labels are the digits 0-9"),
        (["--backend", "spark"], "Invalid value for '--backend'"),
        (["--cv", "1"], "Invalid value for '--cv'"),
        (["--class-prior", "2"], "is not 'balanced', 'train' or a share"),
        (["--class-prior", "even"], "is not 'balanced', 'train' or a share"),
        (["--repeats", "0"], "Invalid value for '--repeats'"),
        (["--freeze"], "--freeze applies to a torchvision --module"),
        (["--weights", "DEFAULT"], "--weights applies to a torchvision --module"),
        (["--feature-cache", "cache"], "add --freeze"),
    ],
)
def test_bad_options_fail_with_a_message(args, message, tmp_path):
    result = run("compare", *TINY, "--out", str(tmp_path), *args)
    assert result.exit_code != 0
    assert message in result.output
    assert not (tmp_path / "table.csv").exists()


def test_save_model_and_class_prior_train(tmp_path):
    result = run(
        "compare",
        *TINY,
        "--strategies",
        "plain,class_weight",
        "--class-prior",
        "train",
        "--repeats",
        "2",
        "--save-model",
        str(tmp_path / "model"),
        "--out",
        str(tmp_path / "out"),
    )
    assert result.exit_code == 0, result.output
    assert "Scores at the training data's own class proportions" in result.output
    assert "2-fold CV, repeated 2 times" in result.output
    assert "Model (" in result.output and (tmp_path / "model").is_dir()
    report = StrategyReport.load(tmp_path / "out")
    assert report.metadata["class_prior"] == "train"
    assert report.split_scores.shape == (4, 2)


def test_version():
    result = run("--version")
    assert result.exit_code == 0 and result.output.startswith("skimbal, version")


def test_summary_says_when_no_strategy_beat_plain():
    import pandas as pd

    from skimbal.cli import _summary

    table = pd.DataFrame(
        {
            "f1_mean": [0.0, 0.0],
            "f1_std": [0.0, 0.0],
            "tied_with_best": [True, True],
            "beats_plain": [False, False],
        },
        index=pd.Index(["plain", "oversample"], name="strategy"),
    )
    metadata = {
        "scoring": "f1",
        "best_strategy": "plain",
        "top_strategy": "plain",
        "class_prior_text": "as if cat and dog were equally frequent",
        "threshold": 0.5,
    }
    text = _summary(StrategyReport(table, table, metadata=metadata))
    assert "No strategy beat plain significantly (plain: f1 0.000 ± 0.000)." in text
    assert "statistically tied with it: oversample" in text


@pytest.mark.filterwarnings("ignore:freeze=True without pretrained weights")
def test_frozen_backbone_features_once_and_on_disk(tmp_path):
    import torch
    import torchvision

    folder = _digit_folder(tmp_path / "data")
    weights = tmp_path / "resnet18.pt"
    torch.manual_seed(0)
    torch.save(torchvision.models.resnet18(weights=None).state_dict(), weights)
    cache = tmp_path / "features"
    common = [
        "compare",
        *TINY,
        "--data",
        str(folder),
        "--image-size",
        "16",
        "--module",
        "resnet18",
        "--freeze",
        "--strategies",
        "plain,class_weight",
    ]
    result = run(
        *common,
        "--weights",
        str(weights),
        "--feature-cache",
        str(cache),
        "--out",
        str(tmp_path / "out"),
    )
    assert result.exit_code == 0, result.output
    assert "augmentation off" in result.output
    assert "warning: --freeze without --weights" not in result.output
    shared = StrategyReport.load(tmp_path / "out").metadata["shared_features"]
    assert shared["n_images"] == 40 and shared["shape"] == [512]
    assert any(cache.rglob("output.pkl"))  # joblib.Memory's stored table

    result = run(*common, "--out", str(tmp_path / "random"))
    assert result.exit_code == 0, result.output
    assert "warning: --freeze without --weights: the frozen body of resnet18" in (
        result.output
    )
