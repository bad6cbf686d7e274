"""Validate a classifier's X: pixel rows, 4-D image arrays or image paths.

Validation happens once, in the classifier's ``fit``, ``partial_fit`` and
``predict``, before any data reach skorch; :mod:`skimbal._data` then turns
the validated arrays into datasets.
"""

import numbers
import warnings

import numpy as np
from sklearn.utils.validation import (
    check_array,
    check_consistent_length,
    check_is_fitted,
    column_or_1d,
    validate_data,
)

from ._data import likely_image_shape
from ._images import as_path_column, is_path_column, validate_path_column

__all__ = [
    "check_input_shape",
    "validate_fitted_input",
    "validate_input",
    "validate_pixels",
    "warn_if_rows_look_like_images",
]


def check_input_shape(input_shape):
    """Raise ``ValueError`` unless ``input_shape`` is ``None`` or ``(C, H, W)``.

    Parameters
    ----------
    input_shape : object
        A classifier's ``input_shape`` parameter: three positive ints, or
        ``None``.

    Raises
    ------
    ValueError
        Naming the bad value.

    Examples
    --------
    >>> from skimbal._input import check_input_shape
    >>> check_input_shape((1, 28, 28))
    >>> check_input_shape((28, 28))
    Traceback (most recent call last):
    ...
    ValueError: input_shape must be (channels, height, width) with positive ...
    """
    if input_shape is None:
        return
    shape = tuple(input_shape)
    if len(shape) != 3 or not all(
        isinstance(s, numbers.Integral) and not isinstance(s, bool) and s > 0
        for s in shape
    ):
        raise ValueError(
            "input_shape must be (channels, height, width) with positive "
            f"ints, or None; got input_shape={input_shape!r}."
        )


def validate_pixels(estimator, X, y=None, *, reset):
    """Validate numeric X (and y when fitting) the scikit-learn way.

    2-D X goes through :func:`~sklearn.utils.validation.validate_data`
    (``n_features_in_``, ``feature_names_in_``); 4-D image arrays, which
    scikit-learn does not count features of, through ``check_array`` with
    ``allow_nd``. Both must be finite and dense.

    Parameters
    ----------
    estimator : estimator instance
        The estimator the data are validated for.
    X : array-like of shape (n_samples, n_features) or (n_samples, C, H, W)
        Pixel rows, any numeric rows, or images.
    y : array-like of shape (n_samples,) or None, default=None
        Labels, when fitting.
    reset : bool
        Whether to record (fit) or check (predict) ``n_features_in_``.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features) or (n_samples, C, H, W)
        Numeric pixels.
    y : ndarray of shape (n_samples,) or None
        The validated labels.

    Raises
    ------
    ValueError
        If X is neither 2-D nor 4-D, not numeric, not finite, or does not
        match y's length.
    """
    common = dict(accept_sparse=False, dtype="numeric", ensure_all_finite=True)
    if getattr(X, "ndim", 2) == 4:
        X = check_array(X, allow_nd=True, **common)
        if y is not None:
            y = column_or_1d(y, warn=True)
            check_consistent_length(X, y)
        if reset:
            estimator.n_features_in_ = int(np.prod(X.shape[1:]))
        return X, y
    if y is None:
        X = validate_data(estimator, X, reset=reset, **common)
    else:
        X, y = validate_data(estimator, X, y, reset=reset, **common)
    if X.ndim != 2:
        raise ValueError(
            f"X must be 2-D (n_samples, n_features) or 4-D (n_samples, C, H, "
            f"W); got an array of shape {X.shape}."
        )
    return X, y


def validate_input(estimator, X, y=None, *, reset):
    """Validate X as image paths or as pixels, whichever it holds.

    Parameters
    ----------
    estimator : estimator instance
        The estimator the data are validated for.
    X : array-like
        A column of image paths (see :func:`~skimbal._images.is_path_column`)
        or numeric input (see :func:`validate_pixels`).
    y : array-like of shape (n_samples,) or None, default=None
        Labels, when fitting.
    reset : bool
        Whether to record (fit) or check (predict) the feature attributes.

    Returns
    -------
    X : ndarray
        Paths as a 1-D object array, or pixels as a numeric array.
    y : ndarray of shape (n_samples,) or None
        The validated labels.
    """
    if is_path_column(X):
        return validate_path_column(estimator, X, y, reset=reset)
    return validate_pixels(estimator, X, y, reset=reset)


def validate_fitted_input(estimator, X):
    """Validate X for a fitted classifier: the same kind and shape as at fit.

    Parameters
    ----------
    estimator : CNNClassifier
        A fitted classifier (``input_kind_``, ``input_shape_``, and
        ``feature_names_in_`` when it was fitted on a DataFrame).
    X : array-like
        Input for ``predict`` or a later ``partial_fit``. A list, Series or
        1-D array of paths is taken as a column of them, named as the
        column the classifier was fitted on.

    Returns
    -------
    X : ndarray
        Paths as a 1-D object array, or pixels as a numeric array.

    Raises
    ------
    sklearn.exceptions.NotFittedError
        If the estimator is not fitted.
    ValueError
        If X holds paths where the estimator was fitted on pixels (or the
        other way round), or images of another shape.
    """
    check_is_fitted(estimator)
    names = getattr(estimator, "feature_names_in_", None)
    column_name = names[0] if names is not None and len(names) == 1 else None
    X = as_path_column(X, column_name)
    kind = "paths" if is_path_column(X) else "pixels"
    name = type(estimator).__name__
    if kind != estimator.input_kind_:
        raise ValueError(
            f"{name} was fitted on {estimator.input_kind_} but X holds {kind}; "
            "pass X in the form used at fit."
        )
    X, _ = validate_input(estimator, X, reset=False)
    if X.ndim == 4 and tuple(X.shape[1:]) != estimator.input_shape_:
        raise ValueError(
            f"X has images of shape {tuple(X.shape[1:])}, but {name} was fitted "
            f"on {estimator.input_shape_}."
        )
    return X


def warn_if_rows_look_like_images(n_features, *, stacklevel):
    """Warn when rows of ``n_features`` are likely flattened square images.

    Without ``input_shape`` a classifier takes each row as a
    ``1 x 1 x n_features`` image, on which a CNN's 2-D filters see one row
    of pixels at a time; the warning names the ``input_shape`` that was
    probably meant (see :func:`~skimbal._data.likely_image_shape`).

    Parameters
    ----------
    n_features : int
        Number of features per row.
    stacklevel : int
        As for :func:`warnings.warn`, counted from the caller of this
        function: 2 names the caller's caller. It should name the user's
        code, so that the warning is shown where ``fit`` was called.
    """
    shape = likely_image_shape(n_features)
    if shape is None:
        return
    channels, side, _ = shape
    kind = f"{side} x {side}" if channels == 1 else f"{channels} x {side} x {side}"
    warnings.warn(
        f"X has {n_features} features per row and input_shape=None, so each "
        f"row is treated as a 1 x 1 x {n_features} image; if the rows are "
        f"flattened {kind} images, pass input_shape={shape}. Pass "
        f"input_shape=(1, 1, {n_features}) to keep them as rows without "
        "this warning.",
        UserWarning,
        stacklevel=stacklevel + 1,
    )
