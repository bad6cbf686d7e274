"""Class labels in and out: any labels a user gives, as indices for the network.

skorch's classifier works with class *indices* only (see PITFALLS.md), so
:class:`~skimbal.CNNClassifier` encodes y as positions in its sorted
``classes_`` before training and maps predicted indices back.
"""

import numpy as np
from sklearn.utils.multiclass import check_classification_targets

__all__ = ["check_classes", "classes_for_partial_fit", "encode_labels", "learn_labels"]


def check_classes(classes):
    """Return ``classes`` as sorted unique labels, at least two of them.

    Parameters
    ----------
    classes : array-like of shape (n_classes,)
        Labels, in any order, possibly repeated.

    Returns
    -------
    classes : ndarray of shape (n_unique,)
        Sorted as :func:`numpy.unique` sorts them (as scikit-learn's
        ``classes_``).

    Raises
    ------
    ValueError
        If fewer than two distinct labels are given.

    Examples
    --------
    >>> from skimbal._labels import check_classes
    >>> check_classes(["b", "a", "b"])
    array(['a', 'b'], dtype='<U1')
    """
    classes = np.unique(np.asarray(classes))
    if len(classes) < 2:
        raise ValueError(
            f"classes must hold at least 2 labels; got {classes.tolist()!r}."
        )
    return classes


def encode_labels(y, classes):
    """Return the position of each label of ``y`` in ``classes``.

    Parameters
    ----------
    y : ndarray of shape (n_samples,)
        Labels, each one of ``classes``.
    classes : ndarray of shape (n_classes,)
        Sorted labels, as from :func:`check_classes`.

    Returns
    -------
    y_encoded : ndarray of shape (n_samples,)
        Integers in ``0..n_classes-1``.

    Raises
    ------
    ValueError
        If ``y`` holds a label that is not in ``classes``, naming it.

    Examples
    --------
    >>> import numpy as np
    >>> from skimbal._labels import encode_labels
    >>> encode_labels(np.array([7, 3, 7]), np.array([3, 7]))
    array([1, 0, 1])
    """
    unknown = np.setdiff1d(np.unique(y), classes)
    if unknown.size:
        raise ValueError(
            f"y contains labels {unknown.tolist()!r} that are not in classes_ "
            f"{classes.tolist()!r}."
        )
    return np.searchsorted(classes, y)


def learn_labels(y, classes=None, *, estimator_name):
    """Return the classes a fit learns and ``y`` encoded as their indices.

    Parameters
    ----------
    y : ndarray of shape (n_samples,)
        Validated training labels.
    classes : array-like of shape (n_classes,) or None, default=None
        All labels, when known before the fit; y's labels must be among
        them. ``None`` takes the classes from ``y``.
    estimator_name : str
        Named in the error for a ``y`` of a single class.

    Returns
    -------
    classes : ndarray of shape (n_classes,)
        Sorted labels.
    y_encoded : ndarray of shape (n_samples,)
        Positions of y's labels in ``classes``.

    Raises
    ------
    ValueError
        If ``y`` is not a classification target, or, without ``classes``,
        holds fewer than two classes.

    Examples
    --------
    >>> import numpy as np
    >>> from skimbal._labels import learn_labels
    >>> learn_labels(np.array(["dog", "cat", "dog"]), estimator_name="clf")
    (array(['cat', 'dog'], dtype='<U3'), array([1, 0, 1]))
    >>> learn_labels(np.array([0, 0]), classes=[0, 1, 2], estimator_name="clf")
    (array([0, 1, 2]), array([0, 0]))
    """
    check_classification_targets(y)
    if classes is not None:
        classes = check_classes(classes)
        return classes, encode_labels(y, classes)
    classes, y_encoded = np.unique(y, return_inverse=True)
    if len(classes) < 2:
        raise ValueError(
            f"{estimator_name} needs samples of at least 2 classes in y; got 1 "
            f"class: {classes.tolist()!r}."
        )
    return classes, y_encoded


def classes_for_partial_fit(argument, parameter):
    """The classes of a first ``partial_fit``: its argument or the parameter.

    Parameters
    ----------
    argument : array-like or None
        ``partial_fit``'s ``classes`` argument.
    parameter : array-like or None
        The estimator's ``classes`` parameter.

    Returns
    -------
    classes : array-like or None
        Whichever is given; ``None`` when neither is (the classes then come
        from y).

    Raises
    ------
    ValueError
        If both are given and name different labels.

    Examples
    --------
    >>> from skimbal._labels import classes_for_partial_fit
    >>> classes_for_partial_fit(None, [0, 1])
    [0, 1]
    """
    if argument is None or parameter is None:
        return parameter if argument is None else argument
    if not np.array_equal(check_classes(argument), check_classes(parameter)):
        raise ValueError(
            f"partial_fit got classes={list(argument)!r}, but the classes "
            f"parameter is {list(parameter)!r}; pass one of them."
        )
    return argument
