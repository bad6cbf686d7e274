"""Where the fits of a search run: joblib backends, Dask distributed included."""

import contextlib
import logging

import joblib

__all__ = ["BACKENDS", "parallel_backend"]

#: The values ``backend=`` accepts (``None``: joblib's default, loky processes).
BACKENDS = (None, "loky", "threading", "dask")


def check_backend(backend, scheduler=None):
    """Validate ``backend`` and ``scheduler`` before any work starts."""
    if backend not in BACKENDS:
        raise ValueError(
            f"backend must be one of {list(BACKENDS)}; got backend={backend!r}."
        )
    if scheduler is not None and backend != "dask":
        raise ValueError(
            "scheduler is the address of a Dask scheduler and needs backend='dask'; "
            f"got scheduler={scheduler!r} with backend={backend!r}."
        )


@contextlib.contextmanager
def parallel_backend(backend=None, *, n_jobs=None, scheduler=None):
    """Run the joblib work inside the block on ``backend``.

    Parameters
    ----------
    backend : {None, "loky", "threading", "dask"}, default=None
        ``None`` leaves joblib's configuration as it is (loky processes unless
        the caller set another backend). ``"dask"`` connects to ``scheduler``
        or, without one, starts a local cluster of single-threaded worker
        processes, closed again when the block ends.
    n_jobs : int or None, default=None
        The caller's ``n_jobs``. With ``"dask"``, ``None`` means every worker
        (-1), and a positive value is also the local cluster's worker count.
    scheduler : str or None, default=None
        Address of a running Dask scheduler (``"tcp://host:8786"``).

    Yields
    ------
    n_jobs : int or None
        The ``n_jobs`` to hand to scikit-learn inside the block.

    Raises
    ------
    ImportError
        For ``"dask"`` without the ``distributed`` package.

    Examples
    --------
    >>> from joblib import Parallel, delayed
    >>> from skimbal.model_selection._backend import parallel_backend
    >>> with parallel_backend("threading", n_jobs=2) as n_jobs:
    ...     Parallel(n_jobs=n_jobs)(delayed(abs)(i) for i in (-1, -2))
    [1, 2]
    """
    check_backend(backend, scheduler)
    if backend is None:
        yield n_jobs
        return
    if backend != "dask":
        with joblib.parallel_config(backend=backend):
            yield n_jobs
        return
    with _dask_client(n_jobs, scheduler), joblib.parallel_config(backend="dask"):
        yield -1 if n_jobs is None else n_jobs


@contextlib.contextmanager
def _dask_client(n_jobs, scheduler):
    try:
        from distributed import Client, LocalCluster
    except ImportError as error:
        raise ImportError(
            "backend='dask' needs Dask distributed; install it with "
            '`pip install "skimbal[distributed]"`.'
        ) from error
    cluster = None
    if scheduler is None:
        # One thread per worker process: torch inside each worker then uses
        # one core (Dask's nanny sets OMP_NUM_THREADS=1), so workers scale.
        cluster = LocalCluster(
            n_workers=n_jobs if n_jobs is not None and n_jobs > 0 else None,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            silence_logs=logging.ERROR,
        )
    client = Client(cluster if cluster is not None else scheduler)
    try:
        yield client
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
