"""Validation of a classifier's X: pixel rows, 4-D images, or a column of paths."""

import re
import warnings

import numpy as np
import pandas as pd
import pytest
from PIL import Image
from sklearn.base import BaseEstimator
from sklearn.exceptions import NotFittedError

from skimbal._input import (
    check_input_shape,
    validate_fitted_input,
    validate_input,
    validate_pixels,
    warn_if_rows_look_like_images,
)


class _Estimator(BaseEstimator):
    """Just enough of an estimator for scikit-learn's validation functions."""

    def fit(self, X, y=None):
        return self


def _fitted(kind, shape, **attributes):
    estimator = _Estimator()
    estimator.input_kind_, estimator.input_shape_ = kind, shape
    for name, value in attributes.items():
        setattr(estimator, name, value)
    return estimator


@pytest.fixture
def paths(tmp_path):
    files = []
    for index in range(3):
        file = tmp_path / f"{index}.png"
        Image.new("L", (4, 4)).save(file)
        files.append(str(file))
    return files


@pytest.mark.parametrize("input_shape", [None, (1, 28, 28), [3, 8, 8]])
def test_check_input_shape_accepts(input_shape):
    check_input_shape(input_shape)


@pytest.mark.parametrize(
    "input_shape", [(28, 28), (1, 0, 28), (1, 2.0, 2), (True, 2, 2), (1, 2, 3, 4)]
)
def test_check_input_shape_rejects_naming_the_value(input_shape):
    with pytest.raises(ValueError, match=r"input_shape must be \(channels, height"):
        check_input_shape(input_shape)


def test_validate_pixels_rows_record_features():
    estimator = _Estimator()
    X, y = validate_pixels(estimator, [[1, 2, 3], [4, 5, 6]], [0, 1], reset=True)
    assert X.shape == (2, 3) and estimator.n_features_in_ == 3
    np.testing.assert_array_equal(y, [0, 1])
    with pytest.raises(ValueError, match="X has 2 features"):
        validate_pixels(estimator, [[1, 2]], reset=False)


def test_validate_pixels_images_count_pixels_as_features():
    estimator = _Estimator()
    X, y = validate_pixels(estimator, np.zeros((5, 3, 2, 4)), np.arange(5), reset=True)
    assert X.shape == (5, 3, 2, 4) and estimator.n_features_in_ == 24
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        validate_pixels(estimator, np.zeros((5, 3, 2, 4)), np.arange(4), reset=True)


@pytest.mark.parametrize(
    "X, match",
    [
        (np.zeros((2, 3, 4)), "Found array with dim 3"),
        (np.array([[0.0, np.nan]]), "NaN"),
        (np.array([["a", "b"], ["c", "d"]], dtype=object), "could not convert"),
    ],
)
def test_validate_pixels_rejects(X, match):
    with pytest.raises(ValueError, match=match):
        validate_pixels(_Estimator(), X, reset=True)


def test_validate_input_takes_a_path_column_as_paths(paths):
    estimator = _Estimator()
    X, y = validate_input(
        estimator, pd.DataFrame({"file": paths}), [0, 1, 0], reset=True
    )
    assert X.dtype == object and X.tolist() == paths
    np.testing.assert_array_equal(estimator.feature_names_in_, ["file"])
    with pytest.raises(FileNotFoundError, match="missing.png"):
        validate_input(estimator, np.array([["missing.png"]], dtype=object), reset=True)


def test_validate_fitted_input_needs_a_fitted_estimator():
    with pytest.raises(NotFittedError):
        validate_fitted_input(_Estimator(), np.zeros((2, 4)))


def test_validate_fitted_input_names_the_column_of_a_list_of_paths(paths):
    estimator = _Estimator()
    validate_input(estimator, pd.DataFrame({"file": paths}), [0, 1, 0], reset=True)
    estimator.input_kind_, estimator.input_shape_ = "paths", (1, 4, 4)
    # A list has no column name; it takes the one seen at fit, so that
    # scikit-learn's feature name check passes.
    X = validate_fitted_input(estimator, paths[:2])
    assert X.tolist() == paths[:2]


def test_validate_fitted_input_wants_the_kind_and_shape_of_fit(paths):
    on_pixels = _fitted("pixels", (1, 2, 2), n_features_in_=4)
    with pytest.raises(ValueError, match="fitted on pixels but X holds paths"):
        validate_fitted_input(on_pixels, paths)
    with pytest.raises(ValueError, match=r"shape \(1, 4, 1\), but _Estimator"):
        validate_fitted_input(on_pixels, np.zeros((2, 1, 4, 1)))
    np.testing.assert_array_equal(
        validate_fitted_input(on_pixels, np.ones((2, 1, 2, 2))), np.ones((2, 1, 2, 2))
    )
    on_paths = _fitted("paths", (3, 8, 8), n_features_in_=1)
    with pytest.raises(ValueError, match="fitted on paths but X holds pixels"):
        validate_fitted_input(on_paths, np.zeros((2, 1)))


@pytest.mark.parametrize(
    "n_features, shape", [(64, "(1, 8, 8)"), (3 * 32 * 32, "(3, 32, 32)")]
)
def test_warning_names_the_likely_shape_and_the_caller(n_features, shape):
    with pytest.warns(UserWarning, match=re.escape(f"input_shape={shape}")) as record:
        warn_if_rows_look_like_images(n_features, stacklevel=1)
    assert record[0].filename == __file__  # stacklevel 1: this caller


@pytest.mark.parametrize("n_features", [9, 20, 27])
def test_no_warning_for_tabular_widths(n_features):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warn_if_rows_look_like_images(n_features, stacklevel=1)
