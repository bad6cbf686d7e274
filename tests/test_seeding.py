"""seeded_torch: reproducible draws inside, the caller's random state outside."""

import threading

import numpy as np
import torch

from skimbal._seeding import seeded_torch


def test_same_random_state_same_draws():
    with seeded_torch(3, "cpu"):
        first = torch.rand(4)
    with seeded_torch(3, "cpu"):
        again = torch.rand(4)
    with seeded_torch(4, "cpu"):
        other = torch.rand(4)
    assert torch.equal(first, again) and not torch.equal(first, other)


def test_global_state_is_restored():
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    with seeded_torch(0, "cpu"):
        torch.rand(10)
    assert torch.equal(torch.rand(3), expected)


def test_random_state_instance_draws_a_seed():
    with seeded_torch(np.random.RandomState(0), "cpu"):
        first = torch.rand(2)
    with seeded_torch(np.random.RandomState(0), "cpu"):
        again = torch.rand(2)
    assert torch.equal(first, again)


def test_none_neither_seeds_nor_restores():
    torch.manual_seed(5)
    with seeded_torch(None, "cpu"):
        inside = torch.rand(2)
    after = torch.rand(2)
    torch.manual_seed(5)
    assert torch.equal(torch.cat([inside, after]), torch.rand(4))


def test_seeded_blocks_in_threads_do_not_interleave():
    results = {}

    def draw(name):
        with seeded_torch(0, "cpu"):
            results[name] = [torch.rand(1).item() for _ in range(200)]

    threads = [threading.Thread(target=draw, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(draws == results[0] for draws in results.values())
