"""How many PyTorch threads each parallel worker trains with.

PyTorch starts one intra-op thread per core. Two worker processes on two
cores, each training with two threads, then fight over the cores and run
slower than one process alone. The rule used everywhere in skimbal: the
cores of a machine are shared out evenly among the fits that run on it at
the same time, and every fit gets at least one thread.

- joblib's ``loky`` workers (``n_jobs=k``) already follow it: joblib starts
  them with ``OMP_NUM_THREADS = cores // k``, which PyTorch reads at import.
- Dask workers: the nanny starts each worker with ``OMP_NUM_THREADS=1``,
  right only when there are as many single-threaded workers as cores. With
  ``backend="dask"`` skimbal sizes them with :func:`torch_threads_per_worker`
  (see ``skimbal.model_selection._dask``).

This module imports neither Dask nor joblib.
"""

import os
import threading

__all__ = [
    "apply_worker_torch_threads",
    "set_worker_torch_threads",
    "torch_threads_per_worker",
    "usable_cores",
]

# The thread count a Dask worker process was given (None: not a sized worker).
_worker_torch_threads = None
_lock = threading.Lock()


def usable_cores():
    """CPUs this process may run on: its affinity mask, else the core count.

    Returns
    -------
    cores : int
        At least 1.

    Examples
    --------
    >>> from skimbal._parallel import usable_cores
    >>> usable_cores() >= 1
    True
    """
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux
        cores = os.cpu_count() or 1
    return max(1, cores)


def torch_threads_per_worker(cores, concurrent_fits):
    """Intra-op threads per fit when ``concurrent_fits`` share ``cores``.

    Parameters
    ----------
    cores : int
        Cores of the machine (or of the container's CPU quota).
    concurrent_fits : int
        Fits running at the same time on that machine: the total number of
        worker threads of all workers on it (``n_jobs`` for local processes).

    Returns
    -------
    threads : int
        ``cores // concurrent_fits``, and never less than 1.

    Examples
    --------
    >>> from skimbal._parallel import torch_threads_per_worker
    >>> torch_threads_per_worker(8, 2)    # 2 workers on 8 cores
    4
    >>> torch_threads_per_worker(2, 2)    # one core each
    1
    >>> torch_threads_per_worker(2, 16)   # more workers than cores
    1
    """
    return max(1, int(cores) // max(1, int(concurrent_fits)))


def set_worker_torch_threads(threads):
    """Set PyTorch's thread count for this process and remember it.

    Called on each Dask worker (in its event-loop thread). PyTorch applies a
    new count to the calling thread and to threads that have not run a
    parallel operation yet; :func:`apply_worker_torch_threads` catches up a
    worker thread that already has.

    Parameters
    ----------
    threads : int or None
        Threads per fit; ``None`` forgets the setting (PyTorch keeps its
        current count).

    Returns
    -------
    previous : int
        PyTorch's thread count before the call (in the calling thread).
    """
    global _worker_torch_threads
    import torch

    previous = torch.get_num_threads()
    with _lock:
        _worker_torch_threads = None if threads is None else int(threads)
        if threads is not None:
            torch.set_num_threads(int(threads))
    return previous


def apply_worker_torch_threads():
    """Give the calling thread the count set by :func:`set_worker_torch_threads`.

    PyTorch keeps a thread count per thread once the thread has run a
    parallel operation; a Dask worker's task thread that trained before the
    count was set keeps the old one. Called at the start of a fit, in the
    thread that trains. Does nothing outside sized workers.

    Returns
    -------
    threads : int or None
        The count now in effect, or ``None`` when none was set.
    """
    threads = _worker_torch_threads
    if threads is None:
        return None
    import torch

    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)
    return threads
