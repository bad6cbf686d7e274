"""Where the fits of a search run: joblib backends, Dask distributed included."""

import contextlib
import sys

import joblib

__all__ = ["BACKENDS", "parallel_backend", "retry_lost_work"]

#: The values ``backend=`` accepts (``None``: joblib's default, loky processes).
BACKENDS = (None, "loky", "threading", "dask")
#: How often a step whose work Dask lost with a worker is run again.
LOST_WORK_ATTEMPTS = 3
_DISTRIBUTED_MISSING = (
    "backend='dask' needs Dask distributed; install it with "
    '`pip install "skimbal[distributed]"`.'
)


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
def parallel_backend(backend=None, *, n_jobs=None, scheduler=None, scatter=None):
    """Run the joblib work inside the block on ``backend``.

    Parameters
    ----------
    backend : {None, "loky", "threading", "dask"}, default=None
        ``None`` leaves joblib's configuration as it is (loky processes unless
        the caller set another backend). joblib starts ``loky`` workers with
        their share of the cores for PyTorch's threads (``cores // n_jobs``).
        ``"dask"`` connects to ``scheduler`` or, without one, starts a local
        cluster of single-threaded worker processes, closed again when the
        block ends; either way each worker's PyTorch gets its share of its
        machine's cores while the block runs.
    n_jobs : int or None, default=None
        The caller's ``n_jobs``. With ``"dask"``, ``None`` means every worker
        (-1), and the local cluster (no ``scheduler``) has one worker process
        per job (``None`` and ``-1``: one per core).
    scheduler : str or None, default=None
        Address of a running Dask scheduler (``"tcp://host:8786"``).
    scatter : list or None, default=None
        With ``"dask"``: arguments that many tasks share (X, y, the folds'
        indices), sent once to every worker rather than with each batch of
        tasks. A copy on every worker also outlives the loss of a worker.

    Yields
    ------
    n_jobs : int or None
        The ``n_jobs`` to hand to scikit-learn inside the block.

    Raises
    ------
    ImportError
        For ``"dask"`` without the ``distributed`` package.
    ConnectionError
        When no Dask scheduler answers at ``scheduler``.
    TimeoutError
        When that scheduler has no workers.

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
    try:
        import distributed  # noqa: F401  (checked even once _dask is imported)

        from ._dask import DaskBackend, dask_client
    except ImportError as error:
        raise ImportError(_DISTRIBUTED_MISSING) from error
    with dask_client(n_jobs, scheduler) as client:
        dask_backend = DaskBackend(client=client, scatter=list(scatter or []))
        with joblib.parallel_config(backend=dask_backend):
            yield -1 if n_jobs is None else n_jobs


def retry_lost_work(step, attempts=LOST_WORK_ATTEMPTS):
    """Call ``step()``; call it again when Dask lost its work with a worker.

    When a Dask worker dies, the scheduler runs its tasks again on the
    others, unless an input of a task lived on that worker alone (joblib
    scatters large arguments to one worker); the waiting futures are then
    cancelled. Such a step is run again from the start: seeded fits give the
    same numbers. Errors of the work itself are raised as they are.

    Parameters
    ----------
    step : callable
        Runs the work, without arguments; it must leave nothing half done
        when it raises.
    attempts : int, default=LOST_WORK_ATTEMPTS
        Calls at most.

    Returns
    -------
    result : object
        What ``step`` returns.

    Raises
    ------
    RuntimeError
        When the work is lost ``attempts`` times in a row.
    """
    lost = _lost_work_errors()
    for _ in range(attempts - 1):
        try:
            return step()
        except lost:
            continue
    try:
        return step()
    except lost as error:
        raise RuntimeError(
            f"Dask lost this work {attempts} times in a row: the workers running "
            f"it died or left the cluster ({type(error).__name__}: {error}). "
            "Check the workers' logs (out of memory?)."
        ) from error


def _lost_work_errors():
    # Only a Dask run can lose work; without one, nothing is caught.
    dask_module = sys.modules.get(__package__ + "._dask")
    return dask_module.LOST_WORK_ERRORS if dask_module is not None else ()
