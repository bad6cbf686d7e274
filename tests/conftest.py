"""Shared fixtures: seeded torch, small imbalanced data sets from digits."""

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits


@pytest.fixture(autouse=True)
def _seed_and_limit_threads():
    # Each test starts from the same global torch state; 2 threads matches CI.
    torch.manual_seed(0)
    torch.set_num_threads(2)


@pytest.fixture(scope="session")
def digits_imbalanced():
    """Digits 8x8 as flat rows; positive class = digit 3 (about 1:9)."""
    X, y = load_digits(return_X_y=True)
    return X.astype(np.float32), (y == 3).astype(int)
