"""The classifier compare_strategies and ``skimbal compare`` train by default."""

import math

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from skimbal import cli
from skimbal.model_selection._compare import _base_classifier
from skimbal.model_selection._default_estimator import (
    DEFAULT_MAX_EPOCHS,
    default_classifier,
    default_max_epochs,
    guess_input_shape,
)


@pytest.mark.parametrize(
    "n_features, shape, augment",
    [
        (784, (1, 28, 28), True),  # MNIST: augmented
        (3 * 16 * 16, (3, 16, 16), True),
        (64, (1, 8, 8), False),  # 8x8 digits: augmentation cost F1 there
        (10, None, False),  # a tabular row, not an image
    ],
)
def test_default_classifier_augments_only_pixel_images_of_16_px(
    n_features, shape, augment
):
    clf = default_classifier(np.zeros((4, n_features), np.uint8), random_state=3)
    assert clf.input_shape == shape
    assert clf.augment is augment
    assert clf.max_epochs == (DEFAULT_MAX_EPOCHS if augment else 10)
    assert clf.random_state == 3


def test_paths_are_not_augmented_by_default():
    paths = pd.DataFrame({"path": ["a.png", "b.png"]})
    assert guess_input_shape(paths) is None
    assert default_classifier(paths, random_state=None).augment is False


def test_compare_uses_the_default_classifier_only_without_an_estimator():
    X = np.zeros((4, 784), np.uint8)
    assert _base_classifier(None, X, 0).get_params(deep=False) == (
        default_classifier(X, 0).get_params(deep=False)
    )
    given = default_classifier(X, 0).set_params(augment=False, max_epochs=3)
    used = _base_classifier(given, X, 0)
    assert (used.augment, used.max_epochs) == (False, 3)


@pytest.mark.parametrize("n_samples", [50, 2_020, 5_300, 8_000, 10_700, 100_000])
def test_more_epochs_only_while_they_stay_under_1000_steps(n_samples):
    assert default_max_epochs(n_samples, augment=False) == 10
    epochs = default_max_epochs(n_samples, augment=True)
    batches = math.ceil(n_samples * 0.8 / 64)  # one fit of a 5-fold comparison
    assert 10 <= epochs <= DEFAULT_MAX_EPOCHS
    if epochs > 10:
        assert epochs * batches <= 1000  # the extra epochs stay cheap
    if 10 * batches >= 1000:
        assert epochs == 10  # large data: as long as CNNClassifier's default
    if DEFAULT_MAX_EPOCHS * batches <= 1000:
        assert epochs == DEFAULT_MAX_EPOCHS
    else:  # as many epochs as fit in 1,000 steps
        assert (epochs + 1) * batches > 1000 or epochs == 10


def test_cli_default_epochs_follow_the_data_size(monkeypatch, tmp_path):
    seen = {}

    def record(*args, **kwargs):
        seen["epochs"] = args[2]
        raise SystemExit(0)

    monkeypatch.setattr(cli, "_classifier", record)
    CliRunner().invoke(cli.main, ["compare", "--out", str(tmp_path)])
    # 8x8 digits at 1:50: not augmented, so CNNClassifier's 10 epochs.
    assert seen["epochs"] == default_max_epochs(908, augment=False) == 10
    CliRunner().invoke(cli.main, ["compare", "--epochs", "3", "--out", str(tmp_path)])
    assert seen["epochs"] == 3


@pytest.mark.parametrize("flag, expected", [(None, True), (True, True), (False, False)])
def test_cli_augment_flag_overrides_the_default(flag, expected, monkeypatch):
    seen = {}

    def record(*args, **kwargs):
        seen["augment"], seen["epochs"] = args[4], args[2]
        raise SystemExit(0)

    monkeypatch.setattr(cli, "_classifier", record)
    X = np.zeros((100, 784), np.uint8)
    y = np.r_[np.zeros(90, int), np.ones(10, int)]
    monkeypatch.setattr(cli, "_load", lambda *a: (X, y, (1, 28, 28), "28x28", None))
    flags = [] if flag is None else ["--augment" if flag else "--no-augment"]
    CliRunner().invoke(cli.main, ["compare", *flags])
    assert seen["augment"] is expected
    assert seen["epochs"] == (DEFAULT_MAX_EPOCHS if expected else 10)
