"""Start the local worker processes of a comparison early, in the background.

A cold ``skimbal compare --n-jobs 2`` used to start its two joblib (loky)
workers only when the first fits were handed out; each then spent seconds
importing PyTorch, scikit-learn and skimbal while the parent waited, about a
third of a small comparison. :func:`start_local_workers` starts them, and
has them import what a fit needs, in a background thread while the parent
imports the same libraries and loads the data. joblib keeps the workers
(its executor is reused by every ``Parallel`` call with the same number of
workers and settings), so the fits start on warm processes.

This module imports nothing heavy: it is used before the command line has
imported anything but click.
"""

import os
import threading

__all__ = ["LocalWorkers", "start_local_workers"]


def _import_what_a_fit_needs():
    """Run in each worker: import the modules that unpickling a fit imports."""
    import imblearn.pipeline  # noqa: F401  (every candidate is such a pipeline)

    from . import losses  # noqa: F401
    from ._classifier import CNNClassifier  # noqa: F401  (PyTorch, skorch)
    from .model_selection import _fits, _strategies  # noqa: F401  (samplers)

    return os.getpid()


class LocalWorkers:
    """Handle on the background start of joblib's loky workers.

    Parameters
    ----------
    n_jobs : int
        joblib's ``n_jobs`` of the fits that will follow; the workers are
        only reused when it is the same number of workers.

    Attributes
    ----------
    pids : list of int
        Process ids of the workers that ran the imports (empty until
        :meth:`wait` returns, and when the start failed).
    error : BaseException or None
        Why the start failed; the fits then start their workers themselves.
    """

    def __init__(self, n_jobs):
        self.n_jobs = n_jobs
        self.pids = []
        self.error = None
        self._thread = threading.Thread(
            target=self._start, name="skimbal-start-workers", daemon=True
        )

    def _start(self):
        try:
            from joblib import Parallel, delayed, parallel_config

            with parallel_config(backend="loky"):
                self.pids = Parallel(n_jobs=self.n_jobs)(
                    delayed(_import_what_a_fit_needs)() for _ in range(self.n_jobs)
                )
        except BaseException as error:  # only a lost head start; the fits retry
            self.error = error

    def wait(self):
        """Block until the workers have imported (or failed to).

        Returns
        -------
        self : LocalWorkers
            This object, with ``pids`` or ``error`` set.
        """
        if self._thread.ident is not None:
            self._thread.join()
        return self


def start_local_workers(n_jobs, n_fits=None):
    """Start ``n_jobs`` loky workers in the background, when it pays.

    Parameters
    ----------
    n_jobs : int or None
        joblib's ``n_jobs`` of the coming fits (-1: one per core).
    n_fits : int or None, default=None
        Fits to come, when known: no more workers than fits are started.

    Returns
    -------
    workers : LocalWorkers or None
        ``None`` when the fits will run in this process (one worker). Call
        :meth:`LocalWorkers.wait` before the fits, so that they find the
        workers ready rather than start a second set.

    Examples
    --------
    >>> from skimbal._workers import start_local_workers
    >>> start_local_workers(1) is None
    True
    >>> start_local_workers(4, n_fits=1) is None
    True
    """
    workers = local_worker_count(n_jobs, n_fits)
    if workers <= 1:
        return None
    handle = LocalWorkers(workers)
    handle._thread.start()
    return handle


def local_worker_count(n_jobs, n_fits=None):
    """Loky worker processes for ``n_fits`` fits with joblib's ``n_jobs``.

    joblib's own count for ``n_jobs`` (``None`` is 1, ``-1`` every core,
    ``-2`` all but one, ...), capped by the number of fits: a process that
    would get no fit would only cost its start-up, and the cores it leaves
    go to the PyTorch threads of the others.

    Parameters
    ----------
    n_jobs : int or None
        joblib's ``n_jobs``.
    n_fits : int or None, default=None
        Fits to run; ``None``: not known, no cap.

    Returns
    -------
    workers : int
        At least 1.

    Examples
    --------
    >>> from skimbal._workers import local_worker_count
    >>> local_worker_count(None), local_worker_count(3), local_worker_count(3, 2)
    (1, 3, 2)
    """
    from joblib import effective_n_jobs, parallel_config

    with parallel_config(backend="loky"):
        workers = effective_n_jobs(n_jobs)
    if n_fits is not None:
        workers = min(workers, max(1, int(n_fits)))
    return max(1, workers)
