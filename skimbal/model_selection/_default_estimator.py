"""The classifier a comparison trains when the user does not pass one.

It is stronger than ``CNNClassifier()``'s own defaults in two ways, both
measured on MNIST 5k at 1:100 (20 positives; ``benchmarks/README.md``,
"Trusted model"): random affine augmentation of pixel images, and with it
about 1,000 optimisation steps per fit (up to 40 epochs) rather than 10
epochs, since an augmented pass shows new variants of the rare class where
a repeated plain pass mostly re-fits the same rows. On MNIST at 1:100
(2,020 images, 26 batches per fit) going from 20 to 40 epochs lifted seed
2's three best strategies from 0.888 / 0.894 / 0.903 to 0.960 / 0.937 /
0.932 test F1. Data that are not augmented (the README's 8x8 digits, rows,
paths) train as before. Epochs only matter above the ``min_steps`` floor
(about 100 images train 200 steps either way); from about 8,000 augmented
images on, where 10 epochs are already 1,000 steps, a fit trains 10 epochs
as before, so large data are not slower."""

import math

import numpy as np
import pandas as pd

__all__ = [
    "DEFAULT_MAX_EPOCHS",
    "default_augment",
    "default_classifier",
    "default_max_epochs",
]

#: Most epochs of the default comparison classifier on augmented data (on
#: up to ~2,000 images; 10, CNNClassifier's default, without augmentation).
DEFAULT_MAX_EPOCHS = 40
#: Above 10 epochs, augmented fits train at most about this many steps, so
#: the extra epochs go to small and medium data only.
STEPS_WORTH_MORE_EPOCHS = 1000
#: Share of the data one fit of a default (5-fold) comparison trains on.
FIT_SHARE = 0.8

#: Smallest image side that the default augmentation is used at.
MIN_AUGMENTED_SIDE = 16


def default_augment(input_shape):
    """Whether the default classifier augments images of ``input_shape``.

    Only pixel images at least 16 pixels a side. On 8 x 8 digits it cost
    more than it gave (README command, with threshold hold-outs: best F1
    0.946 without, 0.876 with). A
    ``1 x 1 x D`` row is tabular data that a rotation or shift would
    scramble, and images read from paths (``input_shape=None``) are photos
    whose best augmentation (flips, crops, colour) depends on what they
    show, so that stays the user's choice.

    Parameters
    ----------
    input_shape : tuple of int or None
        ``(channels, height, width)``, or ``None`` when unknown.

    Returns
    -------
    augment : bool

    Examples
    --------
    >>> from skimbal.model_selection._default_estimator import default_augment
    >>> [default_augment(shape) for shape in [(1, 28, 28), (1, 1, 784), None]]
    [True, False, False]
    >>> default_augment((1, 8, 8))
    False
    """
    if input_shape is None:
        return False
    return min(input_shape[-2:]) >= MIN_AUGMENTED_SIDE


def default_max_epochs(n_samples, *, augment, batch_size=64):
    """Epochs of the default classifier for a comparison of ``n_samples`` rows.

    With augmentation, as many as fit in about 1,000 optimisation steps of
    one fit, between 10 (``CNNClassifier``'s default) and 40: more augmented
    passes help small and medium data, and large data, where 10 epochs
    already exceed 1,000 steps, cost no more than with 10. Without
    augmentation, 10.

    Parameters
    ----------
    n_samples : int
        Rows of the whole data set.
    augment : bool
        Whether the classifier augments its training images.
    batch_size : int, default=64

    Returns
    -------
    max_epochs : int
        Between 10 and 40.

    Examples
    --------
    >>> from skimbal.model_selection._default_estimator import default_max_epochs
    >>> [default_max_epochs(n, augment=True) for n in (100, 2_020, 6_000, 20_000)]
    [40, 38, 13, 10]
    >>> default_max_epochs(2_020, augment=False)
    10
    """
    if not augment:
        return 10
    batches = max(1, math.ceil(n_samples * FIT_SHARE / batch_size))
    return min(DEFAULT_MAX_EPOCHS, max(10, STEPS_WORTH_MORE_EPOCHS // batches))


def guess_input_shape(X):
    """``(1, s, s)`` for ``s * s`` numeric columns, ``(3, s, s)`` for ``3 s s``.

    ``None`` for anything else: non-numeric data (a column of image paths),
    non-square widths, or arrays that are not two-dimensional.

    Examples
    --------
    >>> import numpy as np
    >>> from skimbal.model_selection._default_estimator import guess_input_shape
    >>> guess_input_shape(np.zeros((5, 64))), guess_input_shape(np.zeros((5, 10)))
    ((1, 8, 8), None)
    """
    shape = getattr(X, "shape", None)
    if hasattr(X, "dtypes"):  # a DataFrame: pixels, or a column of paths
        numeric = all(pd.api.types.is_numeric_dtype(d) for d in X.dtypes)
    else:
        numeric = np.issubdtype(getattr(X, "dtype", np.dtype(object)), np.number)
    if not numeric or shape is None or len(shape) != 2:
        return None
    n_features = int(shape[1])
    for channels in (1, 3):
        side = math.isqrt(n_features // channels)
        if channels * side * side == n_features:
            return (channels, side, side)
    return None


def default_classifier(X, random_state):
    """The :class:`~skimbal.CNNClassifier` a comparison of ``X`` trains by default.

    Parameters
    ----------
    X : array-like
        The data to be compared on; only its shape and dtype are read.
    random_state : int, RandomState instance or None
        Seeds the network.

    Returns
    -------
    clf : CNNClassifier
        Unfitted; ``input_shape`` guessed from ``X``, ``max_epochs`` from
        :func:`default_max_epochs` and augmentation from
        :func:`default_augment`.

    Examples
    --------
    >>> import numpy as np
    >>> from skimbal.model_selection._default_estimator import default_classifier
    >>> clf = default_classifier(np.zeros((10, 784)), random_state=0)
    >>> clf.input_shape, clf.augment, clf.max_epochs
    ((1, 28, 28), True, 40)
    """
    from .._classifier import CNNClassifier

    input_shape = guess_input_shape(X)
    augment = default_augment(input_shape)
    return CNNClassifier(
        input_shape=input_shape,
        augment=augment,
        max_epochs=default_max_epochs(len(X), augment=augment),
        random_state=random_state,
    )
