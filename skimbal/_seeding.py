"""Seeded training that leaves torch's global random state as it was."""

import contextlib
import threading

import torch
from sklearn.utils import check_random_state

__all__ = ["seeded_torch"]

# Guards torch's global random generator during seeded fits (see seeded_torch).
_GLOBAL_RNG_LOCK = threading.RLock()


@contextlib.contextmanager
def seeded_torch(random_state, device):
    """Seed torch from ``random_state``, restoring the global state after.

    Weight init, dropout and DataLoader shuffling all draw from torch's
    process-wide generator, so two seeded fits in threads of one process
    (joblib's threading backend, a multi-threaded Dask worker) would
    interleave their draws. The lock runs such fits one at a time:
    reproducible rather than fast. Processes (loky, the default, or Dask
    workers with one thread) are unaffected.

    Parameters
    ----------
    random_state : int, RandomState instance or None
        An estimator's ``random_state``; ``None`` leaves torch unseeded (and
        takes no lock).
    device : str or torch.device
        The device that trains; a CUDA device's generator is saved and
        restored too.

    Yields
    ------
    None
        Inside the block, torch's generators are seeded.

    Examples
    --------
    >>> import torch
    >>> from skimbal._seeding import seeded_torch
    >>> with seeded_torch(0, "cpu"):
    ...     first = torch.rand(1)
    >>> with seeded_torch(0, "cpu"):
    ...     again = torch.rand(1)
    >>> bool(first == again)
    True
    """
    if random_state is None:
        yield
        return
    seed = int(check_random_state(random_state).randint(2**31 - 1))
    cuda = str(device).startswith("cuda") and torch.cuda.is_available()
    devices = [torch.device(device).index or 0] if cuda else []
    with _GLOBAL_RNG_LOCK, torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        yield
