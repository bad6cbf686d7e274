"""parallel_backend: joblib backends, and the Dask cluster it starts and stops."""

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


def test_dask_starts_a_local_cluster_and_closes_it():
    distributed = pytest.importorskip("distributed")
    with parallel_backend("dask", n_jobs=1) as n_jobs:
        client = distributed.get_client()
        assert n_jobs == 1
        workers = client.scheduler_info()["workers"].values()
        assert [w["nthreads"] for w in workers] == [1]
        cluster = client.cluster
    assert client.status == "closed"
    assert cluster.status.name == "closed"
    assert distributed.client._get_global_client() is None


def test_dask_without_n_jobs_uses_every_worker():
    pytest.importorskip("distributed")
    with parallel_backend("dask", n_jobs=None) as n_jobs:
        assert n_jobs == -1


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
