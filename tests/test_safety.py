"""Loading files never runs code; reproducibility holds across processes."""

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import GridSearchCV

from skimbal import CNNClassifier
from skimbal.models import TorchvisionBackbone


class _RunsCodeWhenUnpickled:
    """A payload that would create a marker file if unpickling executed it."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


@pytest.fixture
def booby_trapped_file(tmp_path):
    marker = tmp_path / "code-ran"
    path = tmp_path / "weights.pt"
    # torch.save pickles arbitrary objects; loading with weights_only=False
    # would call open(marker, "w").
    torch.save({"fc.weight": _RunsCodeWhenUnpickled(marker)}, path)
    return path, marker


def test_backbone_weights_file_cannot_run_code(booby_trapped_file):
    path, marker = booby_trapped_file
    with pytest.raises(Exception, match="weights"):
        TorchvisionBackbone("resnet18", num_classes=2, weights=str(path))
    assert not marker.exists()


def test_load_params_refuses_code(booby_trapped_file):
    path, marker = booby_trapped_file
    X, y = load_digits(return_X_y=True)
    clf = CNNClassifier(input_shape=(1, 8, 8), max_epochs=1, min_steps=0).fit(
        X[:100], y[:100]
    )
    with pytest.raises(Exception, match="[Ww]eights only load failed|weights_only"):
        clf.load_params(f_params=str(path))
    assert not marker.exists()


def test_unknown_module_name_fails_before_training():
    with pytest.raises(ValueError, match="Did you mean 'resnet18'"):
        CNNClassifier(module="resnet_18").fit(np.zeros((4, 3)), [0, 1, 0, 1])


@pytest.mark.slow
def test_grid_search_in_two_processes_is_reproducible():
    X, y = load_digits(return_X_y=True)
    X, y = X[:300] / 16, y[:300] % 2
    clf = CNNClassifier(
        input_shape=(1, 8, 8), max_epochs=2, min_steps=0, random_state=0
    )
    grid = {"lr": [0.001, 0.01]}

    def search(n_jobs):
        return GridSearchCV(clf, grid, cv=2, scoring="f1", n_jobs=n_jobs).fit(X, y)

    first, second = search(2), search(2)
    np.testing.assert_array_equal(
        first.cv_results_["mean_test_score"], second.cv_results_["mean_test_score"]
    )
    # joblib gives each of the 2 workers 1 torch thread; float sums taken in
    # another order may differ in the last bits and then drift, so the serial
    # search matches exactly only at the same thread count.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        serial = search(None)
    finally:
        torch.set_num_threads(threads)
    np.testing.assert_array_equal(
        first.cv_results_["mean_test_score"], serial.cv_results_["mean_test_score"]
    )


def test_seeded_fits_in_threads_are_reproducible():
    from joblib import Parallel, delayed

    X, y = load_digits(return_X_y=True)
    X, y = X[:300] / 16, y[:300] % 2

    def fit_and_predict(seed):
        clf = CNNClassifier(
            input_shape=(1, 8, 8), max_epochs=2, min_steps=0, random_state=seed
        )
        return clf.fit(X, y).predict_proba(X)

    serial = [fit_and_predict(seed) for seed in (0, 1, 2, 3)]
    threaded = Parallel(n_jobs=4, backend="threading")(
        delayed(fit_and_predict)(seed) for seed in (0, 1, 2, 3)
    )
    for expected, got in zip(serial, threaded, strict=True):
        np.testing.assert_array_equal(got, expected)
