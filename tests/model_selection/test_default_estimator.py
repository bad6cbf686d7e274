"""The classifier compare_strategies and ``skimbal compare`` train by default."""

import math

import numpy as np
import pandas as pd
import pytest

from skimbal import cli
from skimbal.model_selection._compare import _base_classifier
from skimbal.model_selection._default_estimator import (
    DEFAULT_MAX_EPOCHS,
    default_augment,
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
    assert clf.max_epochs == default_max_epochs(4) == DEFAULT_MAX_EPOCHS == 20
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
    epochs = default_max_epochs(n_samples)
    batches = math.ceil(n_samples * 0.6 / 64)  # one fit of a 5-fold comparison
    assert 10 <= epochs <= DEFAULT_MAX_EPOCHS
    if epochs > 10:
        assert epochs * batches <= 1000  # the extra epochs stay cheap
    if 10 * batches >= 1000:
        assert epochs == 10  # large data: as long as CNNClassifier's default
    if 20 * batches <= 1000:
        assert epochs == 20


def test_cli_default_epochs_follow_the_data_size(monkeypatch, tmp_path):
    from click.testing import CliRunner

    seen = {}

    def record(*args):
        seen["epochs"] = args[2]
        raise SystemExit(0)

    monkeypatch.setattr(cli, "_classifier", record)
    CliRunner().invoke(cli.main, ["compare", "--out", str(tmp_path)])
    assert seen["epochs"] == default_max_epochs(908) == 20  # digits at 1:50
    CliRunner().invoke(cli.main, ["compare", "--epochs", "3", "--out", str(tmp_path)])
    assert seen["epochs"] == 3


@pytest.mark.parametrize("flag, expected", [(None, True), (True, True), (False, False)])
def test_cli_augment_flag_overrides_the_default(flag, expected):
    clf = cli._classifier("simple_cnn", (1, 28, 28), 20, 200, flag, "cpu", None, 0)
    assert clf.augment is expected
    assert default_augment((1, 28, 28)) is True
