"""Folds shared by the model_selection tests."""

import pytest
from sklearn.model_selection import StratifiedKFold


@pytest.fixture(scope="session")
def two_folds():
    return StratifiedKFold(2, shuffle=True, random_state=0)
