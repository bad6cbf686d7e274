"""compare_strategies computes a frozen body's features once for every fit."""

import numpy as np
import pytest

from skimbal import CNNClassifier
from skimbal._feature_cache import check_feature_memory
from skimbal.model_selection import compare_strategies
from skimbal.model_selection._shared_features import shared_feature_table

pytestmark = pytest.mark.filterwarnings(
    "ignore:freeze=True without pretrained weights:UserWarning"
)
SHAPE = (3, 16, 16)
STRATEGIES = ["plain", "oversample", "class_weight"]



def frozen(**params):
    return CNNClassifier(
        module="resnet18",
        module__freeze=True,
        input_shape=SHAPE,
        max_epochs=2,
        min_steps=0,
        batch_size=16,
        random_state=0,
        **params,
    )


def compare(X, y, clf, **kwargs):
    return compare_strategies(
        X, y, clf, strategies=STRATEGIES, cv=2, random_state=0, **kwargs
    )


@pytest.fixture
def computed(monkeypatch):
    """Rows whose features were computed, per call, in this process."""
    calls = []
    original = CNNClassifier._compute_features

    def counting(self, dataset, split):
        calls.append(len(dataset))
        return original(self, dataset, split)

    monkeypatch.setattr(CNNClassifier, "_compute_features", counting)
    return calls


def test_shared_features_give_the_uncached_comparison(pixels, computed):
    X, y = pixels
    shared = compare(X, y, frozen(), backend="threading", n_jobs=1)
    # One pass over the 60 images, before the 6 fits; none in the fits.
    assert computed == [60]
    assert shared.metadata["shared_features"] == {
        "n_images": 60,
        "shape": [512],
        "megabytes": 0.1,
    }
    whole = compare(X, y, frozen(feature_cache=False), backend="threading", n_jobs=1)
    assert whole.metadata["shared_features"] is None
    columns = [
        c
        for c in shared.table.select_dtypes("number").columns
        if "time" not in c and not c.startswith("p_")
    ]
    np.testing.assert_allclose(
        shared.table[columns].to_numpy(float),
        whole.table[columns].to_numpy(float),
        atol=1e-6,
    )
    # The model handed back runs the whole network on raw images.
    np.testing.assert_allclose(
        shared.best_estimator_.predict_proba(X),
        whole.best_estimator_.predict_proba(X),
        atol=1e-6,
    )


def test_features_on_disk_serve_a_second_comparison(pixels, computed, tmp_path):
    X, y = pixels
    first = compare(X, y, frozen(), memory=tmp_path, backend="threading", n_jobs=1)
    assert computed == [60]
    second = compare(X, y, frozen(), memory=str(tmp_path), backend="threading")
    assert computed == [60]  # read from disk
    np.testing.assert_array_equal(first.table["f1_mean"], second.table["f1_mean"])


def test_loky_workers_use_the_shared_table(pixels):
    X, y = pixels
    local = compare(X, y, frozen(), backend="threading", n_jobs=1)
    workers = compare(X, y, frozen(), n_jobs=2)
    np.testing.assert_array_equal(local.table["f1_mean"], workers.table["f1_mean"])
    member = workers.best_estimator_.estimator_.estimators_[0][-1]
    assert member.features_cached_


def test_nothing_is_shared_without_a_frozen_body(pixels, tiny_cnn):
    X, y = pixels
    plain = CNNClassifier(input_shape=SHAPE, module__filters=(4,))
    assert shared_feature_table(plain, X, np.array([0, 1])) is None
    assert shared_feature_table(frozen(feature_cache=False), X, [0, 1]) is None
    assert shared_feature_table(object(), X, [0, 1]) is None


def test_memory_is_checked_before_any_fit(pixels):
    X, y = pixels
    with pytest.raises(ValueError, match="memory must be None, a folder path"):
        compare(X, y, frozen(), memory=3)
    assert check_feature_memory(None) is None


def test_the_returned_model_saves_and_loads_in_the_safe_format(pixels, tmp_path):
    from skimbal import load_model, save_model

    X, y = pixels
    report = compare(X, y, frozen(), backend="threading", n_jobs=1)
    save_model(report.best_estimator_, tmp_path / "model")
    loaded = load_model(tmp_path / "model")
    np.testing.assert_allclose(
        loaded.predict_proba(X), report.best_estimator_.predict_proba(X), atol=1e-6
    )
