"""Dask distributed: the client a comparison runs on, and its workers' threads.

Imported only for ``backend="dask"``: it needs the optional ``distributed``
package (``pip install "skimbal[distributed]"``).
"""

import contextlib
import ctypes
import ctypes.util
import logging
import os
import socket

import torch
from distributed import Client, LocalCluster
from distributed.comm import get_address_host, get_address_host_port, parse_address
from distributed.comm.core import CommClosedError
from distributed.diagnostics.plugin import WorkerPlugin
from joblib._dask import DaskDistributedBackend

from .._parallel import set_worker_torch_threads, torch_threads_per_worker, usable_cores

try:
    from distributed.client import FutureCancelledError
except ImportError:  # older distributed raises the plain CancelledError
    from concurrent.futures import CancelledError as FutureCancelledError

__all__ = [
    "LOST_WORK_ERRORS",
    "DaskBackend",
    "TorchThreadsPlugin",
    "dask_client",
    "limit_torch_threads",
    "local_cluster",
    "mallopt",
]

#: Seconds to wait for a scheduler given by address to answer.
CONNECT_TIMEOUT = 10.0
#: Seconds to wait for a scheduler given by address to have a worker.
WORKERS_TIMEOUT = 30.0
#: The thread-pool variables a local cluster's workers start with. PyTorch
#: (OpenMP, MKL) reads them at import; NumPy's BLAS too.
THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")
PLUGIN_NAME = "skimbal-torch-threads"

#: Dask starts its workers with MALLOC_TRIM_THRESHOLD_=65536: glibc then hands
#: freed memory back to the system at once, and PyTorch, which frees and
#: allocates megabytes for every batch, spends as much time in page faults as
#: in training (twice the time per fit, measured). While a comparison runs,
#: workers with that setting keep freed memory (glibc's mallopt; 256 MiB) and
#: serve allocations up to 32 MiB from it.
MALLOC_VARIABLE = "MALLOC_TRIM_THRESHOLD_"
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # glibc's malloc.h
TRAINING_MALLOC = {_M_TRIM_THRESHOLD: 256 * 2**20, _M_MMAP_THRESHOLD: 32 * 2**20}
_GLIBC_MMAP_THRESHOLD = 128 * 2**10

#: Errors by which Dask reports work lost with a worker (a task whose input,
#: scattered to that worker only, is gone) rather than an error of the task.
LOST_WORK_ERRORS = (FutureCancelledError, CommClosedError)


class TorchThreadsPlugin(WorkerPlugin):
    """Give PyTorch on every worker its share of the worker machine's cores.

    A worker machine's cores are shared evenly among the threads of all
    workers on it (:func:`~skimbal._parallel.torch_threads_per_worker`):
    each worker's PyTorch gets ``cores // threads_on_host`` intra-op threads.
    Workers that join later (a worker restarted by its nanny) are sized on
    arrival; removing the plugin restores each worker's previous count.

    Parameters
    ----------
    threads_on_host : dict of str to int
        Worker threads per host address, as the scheduler counts them. A
        worker on a host not listed is taken to be alone on its machine.
    """

    def __init__(self, threads_on_host):
        self.threads_on_host = dict(threads_on_host)
        self.previous = None
        self.malloc_tuned = False

    def setup(self, worker):
        host = get_address_host(worker.address)
        sharing = self.threads_on_host.get(host, worker.state.nthreads)
        threads = torch_threads_per_worker(usable_cores(), sharing)
        self.previous = set_worker_torch_threads(threads)
        _in_task_threads(worker, threads)
        if MALLOC_VARIABLE in os.environ:
            self.malloc_tuned = mallopt(TRAINING_MALLOC)

    def teardown(self, worker):
        set_worker_torch_threads(None)
        if self.previous is not None:
            torch.set_num_threads(self.previous)
            _in_task_threads(worker, self.previous)
        if self.malloc_tuned:
            mallopt(_malloc_from_environment())
            self.malloc_tuned = False


def mallopt(settings):
    """Set glibc malloc parameters of this process (``mallopt(3)``).

    Parameters
    ----------
    settings : dict of int to int
        Parameter (``M_TRIM_THRESHOLD`` is -1, ``M_MMAP_THRESHOLD`` -3) to
        value.

    Returns
    -------
    done : bool
        Whether every setting was applied; ``False`` where the C library is
        not glibc.
    """
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        set_parameter = libc.mallopt
    except (OSError, AttributeError):
        return False
    return all(set_parameter(key, int(value)) == 1 for key, value in settings.items())


def _malloc_from_environment():
    """The malloc parameters this process started with, from its environment."""

    def read(name, default):
        try:
            return int(os.environ.get(name, default))
        except ValueError:
            return default

    return {
        _M_TRIM_THRESHOLD: read(MALLOC_VARIABLE, TRAINING_MALLOC[_M_TRIM_THRESHOLD]),
        _M_MMAP_THRESHOLD: read("MALLOC_MMAP_THRESHOLD_", _GLIBC_MMAP_THRESHOLD),
    }


def _in_task_threads(worker, threads):
    """Set the count in the worker's task threads too, where tasks train.

    The plugin runs in the worker's event-loop thread, and PyTorch keeps a
    count per thread once a thread has trained. Queued ahead of any task
    sent after the plugin; with one thread per worker (the recommended
    setup) that reaches the only task thread.
    """
    executor = getattr(worker, "executors", {}).get("default")
    if executor is None:
        return
    # The executor is shut down when the worker closes; then nothing is left
    # to set.
    with contextlib.suppress(RuntimeError):
        for _ in range(worker.state.nthreads):
            executor.submit(torch.set_num_threads, threads)


class DaskBackend(DaskDistributedBackend):
    """joblib's Dask backend, without its shortcut for a one-thread cluster.

    joblib runs a call in the calling process, not on the backend, when the
    backend has a single worker; on a Dask cluster of one worker (one GPU
    worker, say, or ``n_jobs=1``) the fits would silently train on the
    client. Reporting at least two workers keeps them on the cluster, where
    Dask queues what its worker cannot run yet.
    """

    def effective_n_jobs(self, n_jobs):
        return max(2, super().effective_n_jobs(n_jobs))


def threads_on_hosts(ncores):
    """Worker threads per host, from ``Client.ncores()``.

    Parameters
    ----------
    ncores : dict of str to int
        Threads of each worker, by worker address.

    Returns
    -------
    threads : dict of str to int
        Total worker threads by host address.

    Examples
    --------
    >>> from skimbal.model_selection._dask import threads_on_hosts
    >>> threads_on_hosts({"tcp://10.0.0.1:4001": 1, "tcp://10.0.0.1:4002": 1,
    ...                   "tcp://10.0.0.2:4001": 4})
    {'10.0.0.1': 2, '10.0.0.2': 4}
    """
    threads = {}
    for address, n in ncores.items():
        host = get_address_host(address)
        threads[host] = threads.get(host, 0) + int(n)
    return threads


@contextlib.contextmanager
def limit_torch_threads(client):
    """Size PyTorch's threads on every worker of ``client``'s cluster.

    Registers :class:`TorchThreadsPlugin` for the block, so that workers
    that share a machine do not run more threads than it has cores, and
    removes it at the end (restoring the workers' previous counts).

    Parameters
    ----------
    client : distributed.Client
        A connected client.

    Yields
    ------
    threads : dict of str to int
        PyTorch's intra-op threads on each worker, by worker address.
    """
    plugin = TorchThreadsPlugin(threads_on_hosts(client.ncores()))
    client.register_plugin(plugin, name=PLUGIN_NAME)
    try:
        yield client.run(_worker_threads)
    finally:
        # The cluster may be gone (or going) by now; nothing is left to undo.
        with contextlib.suppress(Exception):
            client.unregister_worker_plugin(PLUGIN_NAME)


def _worker_threads():
    from .. import _parallel

    return _parallel._worker_torch_threads


def local_workers(n_jobs, cores=None):
    """Worker processes of the local cluster for joblib's ``n_jobs``.

    Parameters
    ----------
    n_jobs : int or None
        ``None`` and ``-1``: one per core; ``-2``: all cores but one, and so
        on; a positive value: that many.
    cores : int, default=None
        Usable cores; ``None`` counts them.

    Returns
    -------
    n_workers : int

    Examples
    --------
    >>> from skimbal.model_selection._dask import local_workers
    >>> local_workers(None, cores=4), local_workers(-2, cores=4), local_workers(3)
    (4, 3, 3)
    """
    if n_jobs == 0:
        raise ValueError("n_jobs == 0 has no meaning; use None, -1 or a count.")
    cores = usable_cores() if cores is None else cores
    if n_jobs is None:
        return cores
    if n_jobs < 0:
        return max(1, cores + 1 + n_jobs)
    return int(n_jobs)


def local_cluster(n_jobs=None):
    """A local Dask cluster of single-threaded worker processes.

    Each worker process starts with its share of the cores for PyTorch and
    BLAS (``OMP_NUM_THREADS`` and friends: cores // workers), set before it
    imports anything, so that a worker its nanny restarts has it too.

    Parameters
    ----------
    n_jobs : int or None, default=None
        Worker processes, as joblib counts jobs (see :func:`local_workers`).

    Returns
    -------
    cluster : distributed.LocalCluster
        Running; close it (or use it as a context manager).
    """
    n_workers = local_workers(n_jobs)
    threads = torch_threads_per_worker(usable_cores(), n_workers)
    # Dask's nanny writes its workers' settings (OMP_NUM_THREADS=1,
    # MALLOC_TRIM_THRESHOLD_, ...) into *this* process's environment, where
    # every process started later would inherit them: put it back.
    saved = dict(os.environ)
    try:
        return LocalCluster(
            n_workers=n_workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            # No dashboard, and the scheduler's HTTP routes on a free port
            # rather than on 8787, which a user's own cluster may hold.
            scheduler_kwargs={"dashboard_address": ":0"},
            silence_logs=logging.ERROR,
            env={name: str(threads) for name in THREAD_VARIABLES},
        )
    finally:
        _restore_environ(saved)


def _restore_environ(saved):
    for name in set(os.environ) | set(saved):
        if os.environ.get(name) != saved.get(name):
            if name in saved:
                os.environ[name] = saved[name]
            else:
                del os.environ[name]


@contextlib.contextmanager
def dask_client(n_jobs=None, scheduler=None):
    """A Dask client whose workers train with their share of the cores.

    Parameters
    ----------
    n_jobs : int or None, default=None
        Without ``scheduler``: how many single-threaded worker processes the
        local cluster starts (see :func:`local_workers`). Ignored with
        ``scheduler``: every worker of that cluster takes part.
    scheduler : str or None, default=None
        Address of a running scheduler; ``None`` starts a local cluster,
        closed again at the end of the block. A cluster given by address is
        left running.

    Yields
    ------
    client : distributed.Client
        The default client inside the block (joblib's ``"dask"`` backend
        uses it).

    Raises
    ------
    ValueError
        For an address that is not one.
    ConnectionError
        When nothing answers at ``scheduler`` within ``CONNECT_TIMEOUT``.
    TimeoutError
        When the scheduler has no worker within ``WORKERS_TIMEOUT``.
    """
    with contextlib.ExitStack() as stack:
        if scheduler is None:
            cluster = stack.enter_context(local_cluster(n_jobs))
            client = stack.enter_context(Client(cluster))
        else:
            client = stack.enter_context(_connect(scheduler))
            _wait_for_workers(client, scheduler)
        stack.enter_context(limit_torch_threads(client))
        yield client


def _connect(address):
    if not isinstance(address, str):
        raise ValueError(
            "scheduler must be the address of a Dask scheduler such as "
            f"'tcp://host:8786'; got scheduler={address!r}."
        )
    try:
        protocol, _ = parse_address(address)
        host, port = get_address_host_port(address)
    except ValueError as error:
        raise ValueError(
            f"scheduler={address!r} is not a Dask scheduler address such as "
            f"'tcp://host:8786' ({error})."
        ) from error
    unreachable = (
        f"Could not connect to the Dask scheduler at {address!r} within "
        f"{CONNECT_TIMEOUT:g} s"
    )
    hint = (
        "Check the address and that `dask scheduler` runs there, or leave the "
        "scheduler out to start a local cluster."
    )
    if protocol in ("tcp", "tls"):
        # A plain socket first: a refused or unresolvable address fails at
        # once and cleanly, instead of a client that retries until timeout.
        try:
            socket.create_connection((host, port), timeout=CONNECT_TIMEOUT).close()
        except OSError as error:
            raise ConnectionError(f"{unreachable} ({error}). {hint}") from error
    try:
        return Client(address, timeout=CONNECT_TIMEOUT)
    except OSError as error:
        raise ConnectionError(f"{unreachable} ({error}). {hint}") from error


def _wait_for_workers(client, address):
    try:
        client.wait_for_workers(1, timeout=WORKERS_TIMEOUT)
    except TimeoutError as error:
        raise TimeoutError(
            f"The Dask scheduler at {address!r} has no workers after "
            f"{WORKERS_TIMEOUT:g} s. Start some with `dask worker {address} "
            "--nthreads 1`."
        ) from error
