"""parallel_backend: joblib backends, and the Dask cluster it starts and stops."""

import os
import re
import sys

import joblib
import pytest
from joblib import Parallel, delayed

from skimbal.model_selection._backend import BACKENDS, check_backend, parallel_backend


@pytest.mark.parametrize("backend", [None, "loky", "threading"])
def test_local_backends_pass_n_jobs_through(backend):
    with parallel_backend(backend, n_jobs=2) as n_jobs:
        assert n_jobs == 2
        assert Parallel(n_jobs=n_jobs)(delayed(abs)(i) for i in (-1, -2)) == [1, 2]


def test_threading_is_what_joblib_uses_inside_the_block():
    with parallel_backend("threading", n_jobs=2):
        backend, _ = joblib.parallel.get_active_backend()
        assert type(backend).__name__ == "ThreadingBackend"


def _torch_threads():
    import torch

    return torch.get_num_threads()


def test_loky_workers_train_with_their_share_of_the_cores():
    # joblib starts loky workers with OMP_NUM_THREADS = cores // n_jobs, and
    # PyTorch reads it at import: k workers on the cores, not k times them.
    with parallel_backend("loky", n_jobs=2) as n_jobs:
        threads = Parallel(n_jobs=n_jobs)(delayed(_torch_threads)() for _ in range(2))
    assert threads == [max(1, joblib.cpu_count() // 2)] * 2


def _omp_num_threads():
    # (os.environ.get itself would be pickled with the client's environment.)
    return os.environ.get("OMP_NUM_THREADS")


@pytest.mark.slow
def test_dask_without_n_jobs_starts_a_worker_per_core_and_closes_it(monkeypatch):
    import distributed  # in the test extra: a missing install fails here

    from skimbal.model_selection import _dask

    monkeypatch.setattr(_dask, "usable_cores", lambda: 2)  # a 2-core machine
    with parallel_backend("dask", n_jobs=None) as n_jobs:
        assert n_jobs == -1
        client = distributed.get_client()
        workers = client.scheduler_info()["workers"].values()
        assert [w["nthreads"] for w in workers] == [1, 1]
        # Each worker process starts with its share of the cores.
        assert set(client.run(_omp_num_threads).values()) == {"1"}
        cluster = client.cluster
    assert client.status == "closed"
    assert cluster.status.name == "closed"
    assert distributed.client._get_global_client() is None


def test_dask_without_distributed_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)
    with pytest.raises(
        ImportError, match=re.escape('pip install "skimbal[distributed]"')
    ):
        with parallel_backend("dask"):
            pass


@pytest.mark.parametrize(
    ("backend", "scheduler", "message"),
    [
        ("multiprocessing", None, "backend must be one of [None, 'loky', 'threading'"),
        ("loky", "tcp://host:8786", "needs backend='dask'"),
    ],
)
def test_invalid_backend_or_scheduler(backend, scheduler, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        check_backend(backend, scheduler)
    assert backend not in BACKENDS or scheduler is not None


def test_candidates_scheduled_together_keep_their_own_errors(
    odd_digits, tiny_cnn, two_folds
):
    # Without a progress bar all candidates go to the workers at once (no
    # worker waits at a chunk boundary); each failing one still gets its own
    # error, not those of the others.
    from skimbal.model_selection import compare_strategies

    X, y = odd_digits
    report = compare_strategies(
        X,
        y,
        tiny_cnn,
        {
            "plain": None,
            "broken": {"clf__criterion": "no_such_loss"},
            "also_broken": {"clf__criterion": "another_bad_loss"},
        },
        cv=two_folds,
        predictions=False,
    )
    notes = report.table["note"]
    assert "no_such_loss" in notes["broken"]
    assert "another_bad_loss" not in notes["broken"]
    assert "another_bad_loss" in notes["also_broken"]
    assert "no_such_loss" not in notes["also_broken"]
    assert notes["plain"] == ""
