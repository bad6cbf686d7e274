"""compare_strategies on a real Dask cluster of two worker processes.

One local cluster (skimbal's own configuration) serves the module, reached by
address as a user's cluster would be; starting its workers (importing torch)
is most of the time. The killed-worker test runs last: it restarts a worker.
"""

import os
import re
import signal
import threading
import time
from types import SimpleNamespace

# A plain import: distributed is in the test extra, so a missing install
# must fail these tests rather than skip them.
import distributed
import numpy as np
import pandas as pd
import pytest
import torch
from click.testing import CliRunner
from joblib import Parallel, delayed

from skimbal._parallel import torch_threads_per_worker, usable_cores
from skimbal.cli import main as cli
from skimbal.model_selection import _dask, compare_strategies
from skimbal.model_selection._backend import parallel_backend, retry_lost_work

STRATEGIES = ["plain", "oversample", "undersample", "class_weight"]


@pytest.fixture(scope="module")
def cluster():
    environ = dict(os.environ)
    with _dask.local_cluster(n_jobs=2) as cluster:
        cluster.environ_before = environ
        yield cluster


@pytest.mark.slow
def test_starting_workers_leaves_this_process_environment_alone(cluster):
    # Dask's nanny writes OMP_NUM_THREADS=1 and more into the environment of
    # the process that starts it; later child processes would inherit them.
    now = {k: v for k, v in os.environ.items() if k != "PYTEST_CURRENT_TEST"}
    before = cluster.environ_before
    assert now == {k: v for k, v in before.items() if k != "PYTEST_CURRENT_TEST"}


@pytest.fixture(scope="module")
def client(cluster):
    with distributed.Client(cluster, set_as_default=False) as client:
        yield client


def compare(X, y, clf, **kwargs):
    return compare_strategies(
        X, y, clf, strategies=STRATEGIES, cv=2, random_state=0, **kwargs
    )


@pytest.fixture(scope="module")
def local_report(odd_digits, tiny_cnn):
    # One torch thread in this process (tests/conftest.py), as on the workers
    # (2 workers on 2 cores): the same numbers, bit for bit.
    return compare(*odd_digits, tiny_cnn)


def assert_same_report(expected, got):
    # Everything but the timings: scores, candidates, notes, predictions.
    timings = ["fit_time_mean", "fit_time_std"]
    pd.testing.assert_frame_equal(
        expected.table.drop(columns=timings), got.table.drop(columns=timings)
    )
    assert expected.predictions_.keys() == got.predictions_.keys()
    for name, predictions in expected.predictions_.items():
        np.testing.assert_array_equal(
            predictions["proba"], got.predictions_[name]["proba"]
        )


def _omp_num_threads():
    # (os.environ.get itself would be pickled with the client's environment.)
    return os.environ.get("OMP_NUM_THREADS")


@pytest.mark.slow
def test_workers_train_with_their_share_of_the_cores(client):
    expected = torch_threads_per_worker(usable_cores(), 2)
    threads = client.run(torch.get_num_threads)
    assert list(threads.values()) == [expected, expected]
    # Also in the thread that runs the tasks (PyTorch counts per thread).
    for worker in threads:
        in_task = client.submit(torch.get_num_threads, workers=[worker], pure=False)
        assert in_task.result() == expected
    env = client.run(_omp_num_threads)
    assert set(env.values()) == {str(expected)}


@pytest.mark.slow
def test_sizing_threads_on_a_cluster_and_restoring_them(client):
    before = client.run(torch.get_num_threads)
    with _dask.limit_torch_threads(client) as sized:
        assert sized == {w: torch_threads_per_worker(usable_cores(), 2) for w in before}
    assert client.run(torch.get_num_threads) == before
    assert set(client.run(_dask._worker_threads).values()) == {None}


def _page_faults_of_batch_sized_tensors():
    import resource

    import torch

    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(20):
        torch.ones(2**21).sum()  # 8 MB, allocated, touched and freed
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before


def _has_dask_malloc_setting():
    return _dask.MALLOC_VARIABLE in os.environ


@pytest.mark.slow
def test_workers_keep_freed_memory_while_a_comparison_runs(client):
    # Dask's MALLOC_TRIM_THRESHOLD_ makes every batch-sized tensor fresh
    # memory from the system (page faults: twice the time per fit). The
    # plugin lets glibc keep it for the block, and restores Dask's setting.
    if not _dask.mallopt({}):
        pytest.skip("mallopt is glibc's; this C library cannot keep freed memory")
    if not all(client.run(_has_dask_malloc_setting).values()):
        pytest.skip(
            "the workers run without Dask's MALLOC_TRIM_THRESHOLD_, so there is "
            "no setting to lift"
        )
    with _dask.limit_torch_threads(client):
        client.run(_page_faults_of_batch_sized_tensors)  # reach the steady state
        tuned = client.run(_page_faults_of_batch_sized_tensors)
    restored = client.run(_page_faults_of_batch_sized_tensors)
    for worker in tuned:
        assert tuned[worker] < 2_000 < 20 * 1_000 < restored[worker]


def test_plugin_shares_a_hosts_cores_among_its_worker_threads(monkeypatch):
    monkeypatch.setattr(_dask, "usable_cores", lambda: 8)
    worker = SimpleNamespace(
        address="tcp://10.0.0.1:4001", state=SimpleNamespace(nthreads=1)
    )
    before = torch.get_num_threads()
    # Two one-thread workers on 8 cores: 4 threads each. A worker on a host
    # the plugin has not seen is taken to be alone there (8 / its 1 thread).
    for threads_on_host, expected in [({"10.0.0.1": 2}, 4), ({}, 8)]:
        plugin = _dask.TorchThreadsPlugin(threads_on_host)
        plugin.setup(worker)
        try:
            assert torch.get_num_threads() == expected
        finally:
            plugin.teardown(worker)
        assert torch.get_num_threads() == before


@pytest.mark.slow
def test_dask_gives_the_local_table(odd_digits, tiny_cnn, cluster, local_report):
    remote = compare(
        *odd_digits, tiny_cnn, backend="dask", scheduler=cluster.scheduler_address
    )
    assert_same_report(local_report, remote)
    assert remote.metadata["backend"] == "dask"
    # The caller's cluster is left running, its default client unchanged.
    assert cluster.status.name == "running"
    assert distributed.client._get_global_client() is None


@pytest.mark.slow
def test_device_auto_is_resolved_on_the_worker(client, tiny_cnn):
    def on_a_gpu_worker(estimator):
        import torch

        is_available = torch.cuda.is_available
        torch.cuda.is_available = lambda: True  # this worker "has" a GPU
        try:
            return estimator.get_params()["device"], estimator.device
        finally:
            torch.cuda.is_available = is_available

    # Resolved on arrival, not frozen when the client pickled it (no GPU here).
    assert tiny_cnn.device == ("cuda" if torch.cuda.is_available() else "cpu")
    future = client.submit(on_a_gpu_worker, tiny_cnn, pure=False)
    assert future.result() == ("auto", "cuda")


@pytest.mark.slow
def test_cli_on_a_dask_scheduler(odd_digits, cluster, tmp_path):
    result = CliRunner().invoke(
        cli,
        [
            "compare",
            "--strategies",
            "plain,oversample",
            "--epochs",
            "1",
            "--cv",
            "2",
            "--backend",
            "dask",
            "--scheduler",
            cluster.scheduler_address,
            "--no-progress",
            "--out",
            str(tmp_path),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "backend=dask" in result.output
    assert (tmp_path / "table.csv").exists()


@pytest.mark.parametrize(
    ("scheduler", "error", "message"),
    [
        ("tcp://127.0.0.1:1", ConnectionError, "Dask scheduler at 'tcp://127.0.0.1:1'"),
        ("nonsense", ValueError, "scheduler='nonsense' is not a Dask scheduler"),
    ],
)
def test_bad_scheduler_address_fails_fast_and_names_it(
    odd_digits, tiny_cnn, scheduler, error, message
):
    start = time.perf_counter()
    with pytest.raises(error, match=re.escape(message)):
        compare(*odd_digits, tiny_cnn, backend="dask", scheduler=scheduler)
    assert time.perf_counter() - start < 5


def test_cli_names_an_unreachable_scheduler(tmp_path):
    result = CliRunner().invoke(
        cli,
        ["compare", "--backend", "dask", "--scheduler", "tcp://127.0.0.1:1"]
        + ["--out", str(tmp_path)],
    )
    assert result.exit_code == 1
    assert "Could not connect to the Dask scheduler at 'tcp://127.0.0.1:1'" in (
        result.output
    )


def test_scheduler_without_workers_says_so(odd_digits, tiny_cnn, monkeypatch):
    monkeypatch.setattr(_dask, "WORKERS_TIMEOUT", 0.5)
    with distributed.LocalCluster(
        n_workers=0,
        dashboard_address=None,
        scheduler_kwargs={"dashboard_address": ":0"},
    ) as empty:
        with pytest.raises(TimeoutError, match="has no workers after 0.5 s"):
            compare(
                *odd_digits, tiny_cnn, backend="dask", scheduler=empty.scheduler_address
            )


def test_lost_work_is_run_again_then_reported():
    calls = []

    def flaky():
        calls.append(1)
        if len(calls) < 3:
            raise distributed.client.FutureCancelledError("batch", "lost")
        return "done"

    assert retry_lost_work(flaky) == "done" and len(calls) == 3
    calls.clear()
    with pytest.raises(RuntimeError, match="Dask lost this work 2 times in a row"):
        retry_lost_work(flaky, attempts=2)
    # Errors of the work itself are not retried.
    with pytest.raises(ZeroDivisionError):
        retry_lost_work(lambda: calls.append(1) or 1 / 0)
    assert len(calls) == 3


def _pid_and_omp_num_threads():
    return os.getpid(), _omp_num_threads()


@pytest.mark.slow
def test_one_worker_cluster_runs_the_work_on_the_worker():
    # joblib runs a call in the calling process when its backend reports a
    # single worker; skimbal's Dask backend must not let it.
    with parallel_backend("dask", n_jobs=1) as n_jobs:
        ran = Parallel(n_jobs=n_jobs)(
            delayed(_pid_and_omp_num_threads)() for _ in range(3)
        )
    assert os.getpid() not in [pid for pid, _ in ran]
    # The one worker has every core for PyTorch.
    assert {threads for _, threads in ran} == {str(usable_cores())}


@pytest.mark.slow
def test_killed_worker_its_fits_rerun_and_the_table_is_the_same(
    odd_digits, tiny_cnn, cluster, client, local_report
):
    """A worker killed mid-search: the scheduler reruns its fits elsewhere.

    X, y and the folds are on every worker (broadcast), so no input is lost
    with the worker; its unfinished fits run again on the other worker (and
    on the one its nanny starts), with the same seeds, so the report is the
    undisturbed one.
    """
    pids = client.run(os.getpid)
    killed, done = [], threading.Event()

    def kill_one_worker_once_both_are_busy():
        while not done.is_set():
            busy = [w for w, tasks in client.processing().items() if tasks]
            if len(busy) == 2:
                os.kill(pids[busy[0]], signal.SIGKILL)
                killed.append(busy[0])
                return
            time.sleep(0.005)

    killer = threading.Thread(target=kill_one_worker_once_both_are_busy)
    killer.start()
    try:
        report = compare(
            *odd_digits, tiny_cnn, backend="dask", scheduler=cluster.scheduler_address
        )
    finally:
        done.set()
        killer.join()
    assert killed, "no moment with both workers busy; nothing was killed"
    assert_same_report(local_report, report)
    # The nanny replaced the killed worker process.
    client.wait_for_workers(2, timeout=60)
    assert pids[killed[0]] not in client.run(os.getpid).values()


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:freeze=True without pretrained weights")
def test_frozen_backbone_features_are_shared_with_dask_workers(cluster):
    from skimbal import CNNClassifier

    rng = np.random.RandomState(0)
    X = rng.randint(0, 200, (60, 3 * 16 * 16)).astype(np.uint8)
    y = np.r_[np.zeros(48, int), np.ones(12, int)]
    clf = CNNClassifier(
        module="resnet18",
        module__freeze=True,
        input_shape=(3, 16, 16),
        max_epochs=2,
        min_steps=0,
        batch_size=16,
        random_state=0,
    )
    local = compare(X, y, clf, backend="threading", n_jobs=1)
    remote = compare(X, y, clf, backend="dask", scheduler=cluster.scheduler_address)
    assert remote.metadata["shared_features"]["n_images"] == 60
    np.testing.assert_array_equal(local.table["f1_mean"], remote.table["f1_mean"])
    member = remote.best_estimator_.estimator_.estimators_[0][-1]
    assert member.features_cached_
