"""Start the local worker processes of a comparison early, in the background.

A cold ``skimbal compare --n-jobs 2`` used to start its two joblib (loky)
workers only when the first fits were handed out; each then spent seconds
importing PyTorch, scikit-learn and skimbal while the parent waited, about a
third of a small comparison. :func:`start_local_workers` starts them, and
has them import what a fit needs, in a background thread while the parent
imports the same libraries and loads the data. joblib keeps the workers
(its executor is reused by every ``Parallel`` call with the same number of
workers and settings), so the fits start on warm processes.

On Linux the ``skimbal`` command goes further (:func:`use_fork_server`):
loky forks its workers from a *fork server*, a process that imports those
libraries once, while the command imports them too, and never trains.
Each worker then starts in milliseconds with everything imported, instead
of importing PyTorch itself on the cores the command needs.

This module imports nothing heavy: it is used before the command line has
imported anything but click.
"""

import os
import sys
import threading

__all__ = [
    "LocalWorkers",
    "local_worker_count",
    "start_local_workers",
    "stop_local_workers",
    "use_fork_server",
]

#: What a fit imports: unpickling a candidate pipeline (imbalanced-learn,
#: the samplers, skimbal's classifier, PyTorch, skorch) and training it
#: (PyTorch's first optimizer imports ``torch._dynamo``, about 1 s).
FIT_IMPORTS = (
    "imblearn.pipeline",
    "skimbal.losses",
    "skimbal._classifier",
    "skimbal.model_selection._fits",
    "skimbal.model_selection._strategies",
    "torch._dynamo",
)

#: Process id of the fork server :func:`use_fork_server` started, or None.
_fork_server_pid = None


def _import_what_a_fit_needs():
    """Run in each worker: import the modules that a fit imports."""
    import importlib

    for name in FIT_IMPORTS:
        importlib.import_module(name)
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
    fork_server : bool
        Whether loky forks the workers from a fork server
        (:func:`use_fork_server`).
    """

    def __init__(self, n_jobs):
        self.n_jobs = n_jobs
        self.pids = []
        self.error = None
        self.fork_server = False
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


def start_local_workers(n_jobs, n_fits=None, *, fork_server=False):
    """Start ``n_jobs`` loky workers in the background, when it pays.

    Parameters
    ----------
    n_jobs : int or None
        joblib's ``n_jobs`` of the coming fits (-1: one per core).
    n_fits : int or None, default=None
        Fits to come, when known: no more workers than fits are started.
    fork_server : bool, default=False
        Fork the workers from a fork server (:func:`use_fork_server`) where
        the platform has one: for a command line's own process only, before
        it imports PyTorch.

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
    if fork_server:
        handle.fork_server = use_fork_server(workers)
    handle._thread.start()
    return handle


def use_fork_server(n_workers):
    """Have loky fork this process's workers from a fork server (Linux).

    The server is a fresh interpreter that imports :data:`FIT_IMPORTS`
    once and never trains (forking a process that has run PyTorch's thread
    pool is unsafe). It starts now and imports while this process goes on;
    every loky worker is then forked from it, ready in milliseconds, instead
    of starting an interpreter and importing PyTorch on its own.

    PyTorch reads its thread count when it is imported, so the server
    starts with the thread limits joblib gives each of ``n_workers`` loky
    workers (``cores // n_workers``, or the caller's own ``OMP_NUM_THREADS``
    and friends): its workers train, and compute, exactly as spawned ones
    do. This process's environment is restored at once; call this before
    the process imports PyTorch, and before it starts threads that might.

    For a command line's own process only: loky's start method is
    process-wide, and a forked worker runs the main module again as
    ``__mp_main__`` (as ``spawn`` does), which a script without the
    ``if __name__ == "__main__":`` guard does not survive.

    Parameters
    ----------
    n_workers : int
        Worker processes that will run at the same time.

    Returns
    -------
    used : bool
        ``False`` (and nothing changed) where there is no fork server (not
        Linux) or loky's start method was chosen already.
    """
    global _fork_server_pid
    import multiprocessing

    if sys.platform != "linux" or "forkserver" not in (
        multiprocessing.get_all_start_methods()
    ):
        return False
    from joblib.externals.loky import cpu_count
    from joblib.externals.loky.backend import context as loky_context
    from joblib.parallel import ParallelBackendBase

    if loky_context.get_start_method() is not None:
        return False
    from multiprocessing import forkserver

    from ._parallel import torch_threads_per_worker

    # The variables and values joblib gives the loky workers it spawns.
    threads = str(torch_threads_per_worker(cpu_count(), n_workers))
    limits = {
        name: os.environ.get(name, threads)
        for name in ParallelBackendBase.MAX_NUM_THREADS_VARS
    }
    saved = {name: os.environ.get(name) for name in limits}
    multiprocessing.get_context("forkserver").set_forkserver_preload(list(FIT_IMPORTS))
    os.environ.update(limits)
    try:
        forkserver.ensure_running()  # spawns the server; does not wait for it
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    _fork_server_pid = getattr(forkserver._forkserver, "_forkserver_pid", None)
    loky_context.set_start_method("forkserver")
    return True


def stop_local_workers():
    """Shut joblib's loky workers down now and wait until they have exited.

    A command that ends with its workers still running makes whoever reads
    its output (``skimbal compare | tee log``, a test harness) wait for them
    to notice; they hold its standard output open. The fork server started
    by :func:`use_fork_server` is ended too: left to notice the end of its
    parent, it would spend a second tearing its interpreter down, with the
    command's output still open. Does nothing when joblib was never
    imported.

    Returns
    -------
    stopped : bool
        Whether there were running workers to stop.

    Examples
    --------
    >>> from joblib import Parallel, delayed
    >>> from skimbal._workers import stop_local_workers
    >>> Parallel(n_jobs=2)(delayed(abs)(i) for i in (-1, -2))
    [1, 2]
    >>> stop_local_workers(), stop_local_workers()
    (True, False)
    """
    module = sys.modules.get("joblib.externals.loky.reusable_executor")
    executor = getattr(module, "_executor", None)  # loky's process-wide one
    flags = getattr(executor, "_flags", None)
    stopped = executor is not None and not getattr(flags, "shutdown", False)
    if stopped:
        executor.shutdown(wait=True)
    _stop_fork_server()
    return stopped


def _stop_fork_server():
    """End the fork server this process started, at once (it holds no state)."""
    global _fork_server_pid
    pid, _fork_server_pid = _fork_server_pid, None
    if pid is None:
        return
    import signal
    from multiprocessing import forkserver

    try:
        os.kill(pid, signal.SIGTERM)  # Python's default: end, no teardown
    except ProcessLookupError:
        pass
    server = forkserver._forkserver
    if getattr(server, "_forkserver_pid", None) == pid and hasattr(server, "_stop"):
        server._stop()  # reaps it and forgets it: a later start makes a new one
        return
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:  # reaped already
        pass


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
