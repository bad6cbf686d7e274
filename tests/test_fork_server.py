"""The ``skimbal`` command's fork server, its quick exit, and what a fit imports.

The fork server changes process-wide settings (loky's start method), so it
is exercised in a fresh interpreter, as the ``skimbal`` command uses it.
"""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import skimbal
from skimbal._workers import FIT_IMPORTS

ROOT = Path(skimbal.__file__).resolve().parents[1]

# Starts the workers as `skimbal compare` does, probes them, runs one small
# comparison on them and again on one process and on spawned loky workers,
# and prints what it saw as JSON.
_FORK_SERVER_RUN = textwrap.dedent(
    """
    import json, os, sys

    def probe(_):
        preloaded = "torch._dynamo" in sys.modules  # before this task imports
        import torch
        return {"pid": os.getpid(), "preloaded": preloaded,
                "threads": torch.get_num_threads()}

    def out_of_fold(n_jobs):
        from sklearn.datasets import load_digits
        from skimbal import CNNClassifier
        from skimbal.model_selection import compare_strategies
        X, y = load_digits(return_X_y=True)
        X, y = X[:240] / 16.0, (y[:240] % 2 == 1).astype(int)
        net = CNNClassifier(input_shape=(1, 8, 8), max_epochs=2, min_steps=0,
                            module__filters=(4,), random_state=0)
        report = compare_strategies(X, y, net, strategies=["plain", "oversample"],
                                    cv=2, n_jobs=n_jobs, random_state=0)
        seen = {name: p["proba"].tolist() for name, p in report.predictions_.items()}
        seen["f1"] = report.table["f1_mean"].to_dict()
        return seen

    if __name__ == "__main__":
        env_before = os.environ.get("OMP_NUM_THREADS")
        from joblib import Parallel, delayed
        from joblib.externals.loky import cpu_count
        from joblib.externals.loky.backend import context
        from skimbal import _workers
        workers = _workers.start_local_workers(2, n_fits=4, fork_server=True)
        server = _workers._fork_server_pid
        workers.wait()
        # Forking is only safe from a single-threaded process.
        server_threads = len(os.listdir(f"/proc/{server}/task"))
        import torch
        seen = {
            "fork_server": workers.fork_server, "error": repr(workers.error),
            "server_threads": server_threads,
            "pids": workers.pids, "start_method": context.get_start_method(),
            "env_restored": os.environ.get("OMP_NUM_THREADS") == env_before,
            "expected_threads": max(1, cpu_count() // 2),
            "probes": Parallel(n_jobs=2)(delayed(probe)(i) for i in range(4)),
        }
        seen["forked"] = out_of_fold(2)
        seen["stopped"] = _workers.stop_local_workers()
        try:
            os.kill(server, 0)
            seen["server_alive"] = True
        except ProcessLookupError:
            seen["server_alive"] = False
        torch.set_num_threads(1)  # what each of the two workers had
        seen["one_process"] = out_of_fold(1)
        context.set_start_method("loky", force=True)  # fresh interpreters
        seen["spawned"] = out_of_fold(2)
        print(json.dumps(seen))
    """
)


@pytest.mark.slow
@pytest.mark.skipif(sys.platform != "linux", reason="the fork server is Linux-only")
def test_fork_server_workers_start_imported_and_compute_as_spawned_ones(tmp_path):
    script = tmp_path / "run.py"
    script.write_text(_FORK_SERVER_RUN)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), *sys.path])}
    env.pop("OMP_NUM_THREADS", None)
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, env=env
    )
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.splitlines()[-1])

    assert seen["fork_server"] and seen["start_method"] == "forkserver"
    assert seen["error"] == "None" and len(set(seen["pids"])) == 2
    assert seen["env_restored"] and seen["server_threads"] == 1
    # The fits run on the workers started early, forked with the imports
    # done, each with joblib's share of the cores.
    for probe in seen["probes"]:
        assert probe["pid"] in seen["pids"]
        assert probe["preloaded"]
        assert probe["threads"] == seen["expected_threads"]
    # The command ends its workers and the server.
    assert seen["stopped"] and not seen["server_alive"]
    # Same numbers as one process on one thread, and as spawned workers.
    assert set(seen["forked"]["f1"]) == {"plain", "oversample"}
    assert "plain" in seen["forked"]
    assert seen["forked"] == seen["one_process"] == seen["spawned"]


@pytest.mark.slow
def test_the_command_compares_on_forked_workers_end_to_end(tmp_path):
    # Through `python -m skimbal` (fork server, workers stopped, the quick
    # exit): the comparison's output and files come back whole.
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), *sys.path])}
    args = ["--strategies", "plain,oversample", "--epochs", "1", "--min-steps", "0"]
    done = subprocess.run(
        [sys.executable, "-m", "skimbal", "compare", *args, "--cv", "2"]
        + ["--n-jobs", "2", "--no-progress", "--out", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert "Report written to" in done.stdout
    table = (tmp_path / "out" / "table.csv").read_text().splitlines()
    assert {line.split(",")[0] for line in table[1:]} == {"plain", "oversample"}


# One comparison on pixel arrays, in this process, then the modules it loaded.
_IMPORTS_OF_A_FIT = """
import json, sys
from sklearn.datasets import load_digits
from skimbal import CNNClassifier
from skimbal.model_selection import compare_strategies
X, y = load_digits(return_X_y=True)
X, y = X[:120] / 16.0, (y[:120] % 2 == 1).astype(int)
net = CNNClassifier(input_shape=(1, 8, 8), max_epochs=1, min_steps=0,
                    module__filters=(4,), random_state=0)
compare_strategies(X, y, net, strategies=["plain", "undersample"], cv=2, n_jobs=1)
print(json.dumps(sorted(sys.modules)))
"""


@pytest.mark.slow
def test_the_fork_server_imports_what_a_fit_imports_and_no_torchvision():
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), *sys.path])}
    done = subprocess.run(
        [sys.executable, "-c", _IMPORTS_OF_A_FIT],
        capture_output=True,
        text=True,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    loaded = set(json.loads(done.stdout.splitlines()[-1]))
    # Every preloaded module is one a fit imports anyway (torch._dynamo: by
    # PyTorch's first optimizer, about 1 s)...
    assert set(FIT_IMPORTS) <= loaded
    # ... and pixel arrays never need torchvision (its import pulls in
    # torch._dynamo's second-long import wherever it happens).
    assert not {name for name in loaded if name.split(".")[0] == "torchvision"}
