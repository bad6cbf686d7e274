"""The command line answers help, `strategies` and bad options without heavy imports.

Each case runs in a fresh interpreter (this one has long imported PyTorch)
and looks at what it imported; no wall-clock limits.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import skimbal
import skimbal.model_selection
from skimbal.model_selection import SIMPLICITY

ROOT = Path(skimbal.__file__).resolve().parents[1]

#: Modules that take seconds to import (or pull in such modules).
HEAVY = (
    "torch",
    "torchvision",
    "skorch",
    "sklearn",
    "imblearn",
    "scipy",
    "pandas",
    "matplotlib",
    "PIL",
    "joblib",
    "skimbal._classifier",
    "skimbal.model_selection._compare",
    "skimbal.model_selection._strategies",
)

# Runs the command through click's main as the console script does, then
# reports the outcome and which HEAVY modules the process imported.
_CALL_MAIN = """
import json, sys
import click
from skimbal.cli import main
args, heavy = json.loads(sys.argv[1]), json.loads(sys.argv[2])
try:
    outcome = main(args, standalone_mode=False)
    error = None
except click.ClickException as exc:
    outcome, error = exc.exit_code, exc.format_message()
loaded = [m for m in heavy if m in sys.modules]
print(json.dumps({"outcome": outcome, "error": error, "loaded": loaded}))
"""


def _python(*args):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), *sys.path])}
    done = subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, env=env, cwd=ROOT
    )
    assert done.returncode == 0, done.stderr
    return done


def _call_main(args, heavy=HEAVY):
    done = _python("-c", _CALL_MAIN, json.dumps(args), json.dumps(heavy))
    *printed, last = done.stdout.splitlines()
    return "\n".join(printed), json.loads(last)


@pytest.mark.parametrize(
    ("args", "shown"),
    [
        (["--help"], "compare"),
        (["compare", "--help"], "--n-jobs"),
        (["predict", "--help"], "MODEL DATA"),
        (["strategies"], SIMPLICITY[-1]),
        (["--version"], "skimbal, version"),
    ],
)
def test_help_and_strategies_import_nothing_heavy(args, shown):
    printed, result = _call_main(args)
    assert shown in printed
    assert result["error"] is None and result["outcome"] in (0, None)
    assert result["loaded"] == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--strategies", "plain,focul"], "Did you mean 'focal'?"),
        (["--data", "no/such/folder"], "neither 'digits', 'mnist' nor an existing"),
        (["--imbalance", "0.5"], "must be 0 (keep the data) or at least 1"),
        (["--positive", "three"], "built-in labels are the digits 0-9"),
        (["--imbalance", "0", "--positive", "1,3"], "--positive names one class"),
        (["--class-prior", "2"], "is not 'balanced', 'train' or a share"),
        (["--backend", "spark"], "'spark' is not one of"),
        (["--cv", "1"], "1 is not in the range x>=2"),
    ],
)
def test_a_bad_compare_option_fails_before_any_heavy_import(args, message):
    _, result = _call_main(["compare", *args])
    assert result["error"] is not None and message in result["error"]
    assert result["loaded"] == []


def test_a_missing_model_fails_before_any_heavy_import(tmp_path):
    _, result = _call_main(["predict", str(tmp_path / "nothing"), str(tmp_path)])
    assert "does not exist" in result["error"]
    assert result["loaded"] == []


@pytest.mark.slow
def test_the_probe_sees_heavy_imports_of_a_real_run():
    # A valid command gets as far as building the network (PyTorch) before
    # compare_strategies rejects the strategy: the probe must report it, or
    # the tests above prove nothing.
    _, result = _call_main(["compare", "--strategies", "threshold_tuning"])
    assert "not a separate strategy in compare_strategies" in result["error"]
    assert {"torch", "sklearn", "skimbal._classifier"} <= set(result["loaded"])


def test_python_m_skimbal_help_imports_nothing_heavy():
    # End to end through __main__, as `skimbal --help` runs: -X importtime
    # lists every module the process imported, on stderr.
    done = _python("-X", "importtime", "-m", "skimbal", "--help")
    imported = {
        line.rsplit("|", 1)[1].strip()
        for line in done.stderr.splitlines()
        if line.startswith("import time:") and "|" in line
    }
    assert "skimbal.cli" in imported and "click" in imported
    assert sorted(set(HEAVY) & imported) == []
    assert "Usage: python -m skimbal" in done.stdout


def test_public_names_resolve_on_first_use():
    for module in (skimbal, skimbal.model_selection):
        for name in module.__all__:
            assert getattr(module, name) is not None
        assert set(module.__all__) <= set(dir(module))
    assert skimbal.CNNClassifier.__module__ == "skimbal._classifier"
    assert skimbal.model_selection.compare_strategies.__module__ == (
        "skimbal.model_selection._compare"
    )
    with pytest.raises(AttributeError, match="has no attribute 'CnnClassifier'"):
        skimbal.CnnClassifier  # noqa: B018


def test_compare_starts_loky_workers_for_its_number_of_fits(monkeypatch):
    from skimbal import _workers
    from skimbal.cli import _start_workers

    calls = []
    monkeypatch.setattr(
        _workers,
        "start_local_workers",
        lambda *args, **kwargs: calls.append((*args, kwargs)) or "started",
    )
    # Every strategy: 16 candidates (focal 6, logit_adjusted 2) x 3 folds.
    assert _start_workers("loky", 2, "all", 3, 1) == "started"
    assert _start_workers("loky", -1, ["plain", "focal"], 5, 2, True) == "started"
    assert calls == [
        (2, 48, {"fork_server": False}),
        (-1, 70, {"fork_server": True}),
    ]
    assert _start_workers("dask", 2, "all", 3, 1) is None
    assert _start_workers("threading", 2, "all", 3, 1) is None
    # compare_strategies refuses threshold_tuning: nothing to start for.
    assert _start_workers("loky", 2, ["threshold_tuning"], 3, 1) is None
    assert len(calls) == 2


# The command's own entry point (console script, python -m skimbal) ends the
# process itself, skipping the interpreter's teardown: what a normal exit
# does before it must still happen.
_RUN_WITH_ATEXIT = """
import atexit, sys
atexit.register(print, "atexit handler ran")
from skimbal.cli import run
run(sys.argv[1:])
"""


def _command(*args):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), *sys.path])}
    return subprocess.run(
        [sys.executable, "-c", _RUN_WITH_ATEXIT, *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
    )


def test_the_command_runs_atexit_handlers_and_flushes_its_output():
    done = _command("strategies")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert [line.split()[0] for line in lines[:-1]] == list(SIMPLICITY)
    assert lines[-1] == "atexit handler ran"


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["compare", "--cv", "1"], 2, "1 is not in the range x>=2"),
        (["nonsense"], 2, "No such command 'nonsense'"),
        (["predict", "{tmp}", "{tmp}"], 1, "model.json does not exist"),
    ],
)
def test_the_command_exits_with_click_s_codes(args, code, message, tmp_path):
    done = _command(*(arg.format(tmp=tmp_path) for arg in args))
    assert done.returncode == code
    assert message in done.stderr
    assert done.stdout.strip() == "atexit handler ran"
