"""CNNClassifier on image files given as a column of paths, and on backbones."""

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from imblearn.over_sampling import RandomOverSampler
from imblearn.pipeline import Pipeline
from PIL import Image
from sklearn.model_selection import GridSearchCV, StratifiedKFold

from skimbal import CNNClassifier
from skimbal._input import validate_fitted_input
from skimbal.datasets import load_image_folder


def _stripes(vertical, rng, size=16):
    """A noisy striped RGB image: vertical stripes = "defect", horizontal = "ok"."""
    pattern = (np.arange(size) // 2 % 2) * 200 + 20
    image = np.tile(pattern, (size, 1)) if vertical else np.tile(pattern, (size, 1)).T
    noise = rng.randint(0, 40, size=(size, size, 3))
    return np.clip(image[..., None] + noise, 0, 255).astype(np.uint8)


@pytest.fixture(scope="module")
def image_folder(tmp_path_factory):
    """class-per-folder layout: 36 "ok" PNGs and 9 "defect" JPEGs (1:4)."""
    root = tmp_path_factory.mktemp("parts")
    rng = np.random.RandomState(0)
    for label, count, vertical, ext in [
        ("ok", 36, False, "png"),
        ("defect", 9, True, "jpg"),
    ]:
        (root / label).mkdir()
        for i in range(count):
            Image.fromarray(_stripes(vertical, rng)).save(root / label / f"{i}.{ext}")
    return root


@pytest.fixture(scope="module")
def flat_folder(tmp_path_factory):
    """dogs-vs-cats layout: cat.<i>.jpg and dog.<i>.jpg in one folder."""
    root = tmp_path_factory.mktemp("catsdogs")
    rng = np.random.RandomState(1)
    for label, count, vertical in [("cat", 20, False), ("dog", 20, True)]:
        for i in range(count):
            Image.fromarray(_stripes(vertical, rng)).save(root / f"{label}.{i}.jpg")
    return root


def tiny(**params):
    defaults = {
        "image_size": 16,
        "max_epochs": 6,
        "min_steps": 0,
        "lr": 0.01,
        "random_state": 0,
    }
    return CNNClassifier(**{**defaults, **params})


def test_paths_in_a_sampler_pipeline_inside_grid_search(image_folder):
    X, y = load_image_folder(image_folder)
    assert isinstance(X, pd.DataFrame) and X.shape == (45, 1)
    pipe = Pipeline([("sampler", RandomOverSampler(random_state=0)), ("clf", tiny())])
    search = GridSearchCV(
        pipe,
        {"clf__class_weight": [None, "balanced"]},
        scoring="f1_macro",
        cv=StratifiedKFold(3, shuffle=True, random_state=0),
        error_score="raise",
    )
    search.fit(X, y)
    # Stripes are easy: both candidates should separate the classes.
    assert search.best_score_ > 0.9
    clf = search.best_estimator_.named_steps["clf"]
    assert clf.input_kind_ == "paths"
    assert clf.input_shape_ == (3, 16, 16)
    np.testing.assert_array_equal(clf.class_counts_, [36, 36])  # after the sampler
    assert set(search.predict(X)) == {"defect", "ok"}


def test_binary_f1_scoring_on_paths(flat_folder):
    X, y = load_image_folder(flat_folder)
    y01 = (y == "dog").astype(int)
    pipe = Pipeline([("sampler", RandomOverSampler(random_state=0)), ("clf", tiny())])
    search = GridSearchCV(pipe, {"clf__lr": [0.01]}, scoring="f1", cv=2)
    search.fit(X, y01)
    assert search.best_score_ > 0.9


def test_grayscale_conversion_from_input_shape(image_folder):
    X, y = load_image_folder(image_folder)
    clf = tiny(input_shape=(1, 12, 12), image_size=None, max_epochs=1).fit(X, y)
    assert clf.input_shape_ == (1, 12, 12)
    assert clf.module_.blocks[0][0].in_channels == 1
    assert clf.predict_proba(X).shape == (45, 2)


def test_object_array_of_paths_is_accepted(image_folder):
    X, y = load_image_folder(image_folder)
    column = X.to_numpy(dtype=object)
    clf = tiny(max_epochs=1).fit(column, y)
    assert clf.n_features_in_ == 1
    assert clf.predict(column[:3]).shape == (3,)


def test_missing_file_fails_before_training(image_folder, monkeypatch):
    X, y = load_image_folder(image_folder)
    X.iloc[4, 0] = str(image_folder / "ok" / "gone.png")

    def fail(*args, **kwargs):
        raise AssertionError("training started")

    monkeypatch.setattr(CNNClassifier, "initialize", fail)
    with pytest.raises(FileNotFoundError, match="gone.png"):
        tiny().fit(X, y)


def test_corrupt_file_error_names_the_file(image_folder, tmp_path):
    X, y = load_image_folder(image_folder)
    corrupt = tmp_path / "broken.png"
    corrupt.write_bytes(b"\x89PNG not really")
    X.iloc[0, 0] = str(corrupt)
    with pytest.raises(ValueError, match="broken.png"):
        tiny(max_epochs=1).fit(X, y)


def test_pixels_at_predict_after_paths_at_fit(image_folder):
    X, y = load_image_folder(image_folder)
    clf = tiny(max_epochs=1).fit(X, y)
    with pytest.raises(ValueError, match="fitted on paths but X holds pixels"):
        clf.predict(np.zeros((2, 768)))


def _one_d_paths(column, form):
    return {
        "list": column.tolist(),
        "tuple of Path": tuple(Path(path) for path in column),
        "series": column,
        "unnamed series": column.rename(None),
        "object array": column.to_numpy(dtype=object),
        "str array": np.array(column.tolist()),
    }[form]


ONE_D_FORMS = [
    "list",
    "tuple of Path",
    "series",
    "unnamed series",
    "object array",
    "str array",
]


@pytest.fixture(scope="module")
def fitted_on_path_column(image_folder):
    X, y = load_image_folder(image_folder)
    return tiny(max_epochs=1).fit(X, y)


@pytest.mark.parametrize("form", ONE_D_FORMS)
def test_one_d_paths_at_predict(image_folder, fitted_on_path_column, form):
    X, _ = load_image_folder(image_folder)
    clf = fitted_on_path_column
    given = _one_d_paths(X["path"], form)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "X does not have valid feature names"
        proba = clf.predict_proba(given)
        predicted = clf.predict(given)
    np.testing.assert_array_equal(proba, clf.predict_proba(X))
    np.testing.assert_array_equal(predicted, clf.predict(X))


@pytest.mark.parametrize("form", ["list", "series", "str array"])
def test_one_d_paths_at_fit(image_folder, fitted_on_path_column, form):
    X, y = load_image_folder(image_folder)
    given = _one_d_paths(X["path"], form)
    clf = tiny(max_epochs=1).fit(given, y)
    assert clf.input_kind_ == "paths" and clf.n_features_in_ == 1
    np.testing.assert_array_equal(
        clf.predict_proba(given), fitted_on_path_column.predict_proba(X)
    )


def test_a_single_path_asks_for_a_list(image_folder, fitted_on_path_column):
    X, y = load_image_folder(image_folder)
    path = X["path"].iloc[0]
    with pytest.raises(TypeError, match=r"single path.*\[X\]"):
        fitted_on_path_column.predict(path)
    with pytest.raises(TypeError, match="single path"):
        fitted_on_path_column.predict_proba(Path(path))
    with pytest.raises(TypeError, match="single path"):
        tiny(max_epochs=1).fit(path, y[:1])


def test_augmentation_only_at_training(image_folder):
    X, y = load_image_folder(image_folder)
    clf = tiny(augment=True, max_epochs=1).fit(X, y)
    # Predict-time data is deterministic (no random crops or flips).
    np.testing.assert_array_equal(clf.predict_proba(X), clf.predict_proba(X))
    train_data = clf._to_dataset(
        validate_fitted_input(clf, X), np.zeros(45), training=True
    )
    torch.manual_seed(0)
    first = train_data[0][0]
    differs = any(not torch.equal(first, train_data[0][0]) for _ in range(5))
    assert differs  # training items are re-augmented each time


@pytest.mark.parametrize(
    "name", ["resnet18", pytest.param("vgg16", marks=pytest.mark.slow)]
)
def test_torchvision_backbones_fit_on_tiny_images(image_folder, tmp_path, name):
    import torchvision

    X, y = load_image_folder(image_folder)
    reference = torchvision.models.get_model(name, weights=None)
    weights_file = tmp_path / f"{name}.pt"
    torch.save(reference.state_dict(), weights_file)

    clf = CNNClassifier(
        module=name,
        module__weights=str(weights_file),
        module__freeze=True,
        image_size=32,
        max_epochs=1,
        min_steps=0,  # one epoch (3 steps), not 200: vgg16 is slow on a CPU
        batch_size=16,
        random_state=0,
    ).fit(X, y)
    backbone = clf.module_
    # Loaded from the file: a frozen early weight equals the saved one.
    first_conv = next(m for m in backbone.modules() if isinstance(m, torch.nn.Conv2d))
    saved_conv = next(m for m in reference.modules() if isinstance(m, torch.nn.Conv2d))
    assert torch.equal(first_conv.weight, saved_conv.weight)
    trainable = [p for p in backbone.parameters() if p.requires_grad]
    assert sum(p.numel() for p in trainable) == 2 * (
        trainable[0].shape[1] + 1
    )  # only the new 2-class head trains
    proba = clf.predict_proba(X)
    assert proba.shape == (45, 2)
    np.testing.assert_allclose(proba.sum(1), 1.0, atol=1e-12)


def test_backbone_normalisation_follows_its_weights(image_folder, tmp_path):
    from skimbal.models import IMAGENET_MEAN, TorchvisionBackbone

    X, y = load_image_folder(image_folder)
    clf = CNNClassifier(
        module="resnet18", image_size=32, max_epochs=1, min_steps=0, random_state=0
    )
    clf.fit(X, y)
    assert isinstance(clf.module_, TorchvisionBackbone)
    assert clf.input_shape_ == (3, 32, 32)
    paths = validate_fitted_input(clf, X)
    assert _normalization(clf, paths) is None  # random init: raw [0, 1]
    pretrained = CNNClassifier(
        module="resnet18", module__weights=str(tmp_path), image_size=32
    )
    # What fit would learn from X, without training a pretrained backbone.
    pretrained.input_kind_, pretrained.input_shape_ = "paths", clf.input_shape_
    assert _normalization(pretrained, paths).mean == list(IMAGENET_MEAN)


def _normalization(clf, paths):
    """The Normalize step of the images the classifier predicts on, or None."""
    from torchvision.transforms import v2

    dataset = clf._to_dataset(paths, None, training=False)
    steps = dataset.dataset.transform.transforms
    return next((step for step in steps if isinstance(step, v2.Normalize)), None)
