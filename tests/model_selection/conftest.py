"""Small imbalanced digits and a tiny network, shared by the model_selection tests."""

import pytest
from sklearn.model_selection import StratifiedKFold

from skimbal import CNNClassifier
from skimbal.datasets import load_digits_images, make_imbalanced


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
        input_shape=(1, 8, 8), max_epochs=2, module__filters=(4,), random_state=0
    )


@pytest.fixture(scope="session")
def two_folds():
    return StratifiedKFold(2, shuffle=True, random_state=0)
