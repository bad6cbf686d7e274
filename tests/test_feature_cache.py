"""CNNClassifier on a frozen body: the head trains on features computed once."""

import warnings

import numpy as np
import pytest
import torch
from imblearn.over_sampling import RandomOverSampler
from imblearn.pipeline import Pipeline
from PIL import Image

from skimbal import CNNClassifier
from skimbal._feature_cache import FeatureTable, row_keys, shared_feature_tables

SHAPE = (3, 16, 16)

# Random weights, frozen: the backbone's own warning, tested with it.
pytestmark = pytest.mark.filterwarnings(
    "ignore:freeze=True without pretrained weights:UserWarning"
)



def frozen(**params):
    params = {
        "module": "resnet18",
        "module__freeze": True,
        "input_shape": SHAPE,
        "max_epochs": 2,
        "min_steps": 0,
        "batch_size": 16,
        "random_state": 0,
        **params,
    }
    return CNNClassifier(**params)


def fit(clf, X, y):
    return clf.fit(X, y)


def count_feature_rows(monkeypatch):
    computed = []
    original = CNNClassifier._compute_features

    def counting(self, dataset, split):
        computed.append(len(dataset))
        return original(self, dataset, split)

    monkeypatch.setattr(CNNClassifier, "_compute_features", counting)
    return computed


@pytest.mark.parametrize("early_stopping", [False, True])
def test_cached_head_predicts_as_the_whole_network_trained(pixels, early_stopping):
    X, y = pixels
    params = {"early_stopping": early_stopping, "validation_fraction": 0.2}
    cached = fit(frozen(**params), X, y)
    whole = fit(frozen(feature_cache=False, **params), X, y)
    assert cached.features_cached_ and not whole.features_cached_
    np.testing.assert_allclose(
        cached.predict_proba(X), whole.predict_proba(X), rtol=0, atol=1e-6
    )
    losses = [cached.history[:, "train_loss"], whole.history[:, "train_loss"]]
    np.testing.assert_allclose(*losses, rtol=1e-6)


def test_cached_head_on_image_paths(tmp_path, pixels):
    X, y = pixels
    paths = []
    for i, row in enumerate(X.reshape(-1, *SHAPE)):
        path = tmp_path / f"{i}.png"
        Image.fromarray(row.transpose(1, 2, 0)).save(path)
        paths.append(str(path))
    paths = np.array(paths, dtype=object).reshape(-1, 1)
    params = {"input_shape": None, "image_size": 16}
    cached = fit(frozen(**params), paths, y)
    whole = fit(frozen(feature_cache=False, **params), paths, y)
    assert cached.features_cached_
    np.testing.assert_allclose(
        cached.predict_proba(paths), whole.predict_proba(paths), rtol=0, atol=1e-6
    )


def test_oversampled_copies_reuse_their_features(pixels, monkeypatch):
    X, y = pixels
    computed = count_feature_rows(monkeypatch)
    pipe = Pipeline([("sampler", RandomOverSampler(random_state=0)), ("clf", frozen())])
    fit(pipe, X, y)
    assert pipe[-1].features_cached_
    # 96 rows after over-sampling, 60 distinct images: each computed once.
    assert computed == [60]


def test_shared_table_serves_fit_and_predict(pixels, monkeypatch):
    X, y = pixels
    table = frozen()._feature_table(X, classes=[0, 1])
    assert table.features.shape == (60, 512)
    computed = count_feature_rows(monkeypatch)
    train, test = np.arange(60) % 3 != 0, np.arange(60) % 3 == 0
    with shared_feature_tables([table]):
        shared = fit(frozen(), X[train], y[train])
        proba = shared.predict_proba(X[test])
    assert computed == []
    alone = fit(frozen(), X[train], y[train])
    # Features computed in batches of batch_size as in prediction: the same
    # bits; predict_proba outside the block runs the whole network.
    np.testing.assert_array_equal(proba, alone.predict_proba(X[test]))
    assert computed == [40]


def test_a_table_of_another_body_is_not_used(pixels, monkeypatch):
    X, y = pixels
    other = frozen(random_state=1)._feature_table(X, classes=[0, 1])
    computed = count_feature_rows(monkeypatch)
    with shared_feature_tables([other]):
        fit(frozen(), X, y)
    assert computed == [60]


def test_augment_takes_the_whole_network_and_says_so(pixels):
    X, y = pixels
    clf = frozen(augment=True)
    with pytest.warns(UserWarning, match="augment=True changes the training images"):
        fit(clf, X, y)
    assert not clf.features_cached_
    with pytest.raises(ValueError, match="feature_cache=True, but augment=True"):
        fit(frozen(augment=True, feature_cache=True), X, y)
    with warnings.catch_warnings():
        warnings.filterwarnings("error", "augment")
        fit(frozen(augment=True, feature_cache=False), X, y)


def test_feature_cache_true_names_why_a_network_cannot(pixels):
    X, y = pixels
    clf = CNNClassifier(
        input_shape=SHAPE, feature_cache=True, max_epochs=1, min_steps=0
    )
    with pytest.raises(ValueError, match="layers outside one final head train"):
        clf.fit(X, y)
    with pytest.raises(ValueError, match="'feature_cache' parameter"):
        CNNClassifier(input_shape=SHAPE, feature_cache="yes").fit(X, y)


def test_a_network_frozen_by_hand_is_cached(pixels):
    X, y = pixels

    def net():
        torch.manual_seed(0)
        body = torch.nn.Sequential(
            torch.nn.Conv2d(3, 4, 3), torch.nn.ReLU(), torch.nn.Flatten()
        )
        body.requires_grad_(False)
        return torch.nn.Sequential(
            body, torch.nn.Dropout(0.5), torch.nn.Linear(4 * 14 * 14, 2)
        )

    params = {"input_shape": SHAPE, "max_epochs": 2, "min_steps": 0, "random_state": 0}
    cached = CNNClassifier(module=net(), **params).fit(X, y)
    whole = CNNClassifier(module=net(), feature_cache=False, **params).fit(X, y)
    # Dropout before the last layer belongs to the head: same random masks.
    assert cached.features_cached_
    np.testing.assert_allclose(
        cached.predict_proba(X), whole.predict_proba(X), rtol=0, atol=1e-6
    )


def test_row_keys_follow_content_and_files(tmp_path):
    pixels = np.array([[1, 2], [1, 2]], dtype=np.uint8)
    assert row_keys(pixels)[0] == row_keys(pixels)[1]
    assert row_keys(pixels)[0] != row_keys(pixels.astype(np.float32))[0]
    path = tmp_path / "a.png"
    Image.fromarray(np.zeros((4, 4), np.uint8)).save(path)
    before = row_keys(np.array([str(path)], dtype=object))
    Image.fromarray(np.ones((5, 5), np.uint8)).save(path)
    assert row_keys(np.array([str(path)], dtype=object)) != before


def test_feature_table_checks_its_rows():
    with pytest.raises(ValueError, match="one feature row per key"):
        FeatureTable("f", np.array([b"a"], dtype="S20"), np.zeros((2, 3)))
