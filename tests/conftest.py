"""Shared fixtures: one seeded torch thread for every test; small data, tiny net."""

import numpy as np
import pytest
import torch

from skimbal import CNNClassifier
from skimbal.datasets import load_digits_images, make_imbalanced

#: The longest tests (the docs build alone is about 2 minutes, each benchmark's
#: --quick run 5-20 s): run first.
LONGEST_FIRST = ("tests/test_docs.py", "tests/test_benchmarks.py")


def pytest_collection_modifyitems(config, items):
    # With `-n auto` (pytest-xdist hands out tests in this order) the long ones
    # then start at once instead of last, and the workers finish together.
    def rank(item):
        for i, prefix in enumerate(LONGEST_FIRST):
            if item.nodeid.startswith(prefix):
                return i
        return len(LONGEST_FIRST)

    items.sort(key=rank)


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


@pytest.fixture(scope="module")
def pixels():
    """60 RGB 16x16 images as pixel rows, 12 of them (the rare class) brighter on top.

    Small enough for a frozen ResNet18 body (the frozen-feature tests).
    """
    rng = np.random.RandomState(0)
    X = rng.randint(0, 200, (60, 3, 16, 16)).astype(np.uint8)
    y = np.r_[np.zeros(48, int), np.ones(12, int)]
    X[y == 1, :, :8] += 55
    return X.reshape(60, -1), y


@pytest.fixture(scope="session")
def odd_digits():
    """Odd digits made rare among even ones at 1:10 (980 samples, 89 positive)."""
    X, y = load_digits_images(return_X_y=True)
    return make_imbalanced(X, y, ratio=10, positive=[1, 3, 5, 7, 9], random_state=0)


@pytest.fixture(scope="session")
def tiny_cnn():
    """A network small enough that a fit takes a fraction of a second.

    Shared: compare_strategies and GridSearchCV only ever fit clones of it.
    """
    return CNNClassifier(
        input_shape=(1, 8, 8),
        max_epochs=2,
        min_steps=0,
        module__filters=(4,),
        random_state=0,
    )
