"""Shared fixtures: one seeded torch thread for every test."""

import pytest
import torch


@pytest.fixture(scope="session", autouse=True)
def _one_torch_thread():
    # Tiny networks train fastest on one intra-op thread, while two OpenMP
    # threads on two busy cores can be many times slower. It is also what
    # loky and Dask workers use, so parallel and serial runs agree exactly.
    # Session scope: module-scoped fitted fixtures run under it too.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(autouse=True)
def _seed_torch():
    # Each test starts from the same global torch random state.
    torch.manual_seed(0)
