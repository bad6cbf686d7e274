"""Per-class weights computed from the labels a classifier is fitted on."""

import numbers

import numpy as np
from sklearn.utils.class_weight import compute_class_weight

__all__ = ["class_weight_from_counts", "effective_number_weights"]


def effective_number_weights(class_counts, beta=0.999):
    """Class-balanced weights by effective number of samples.

    ``w_c = (1 - beta) / (1 - beta ** n_c)``, rescaled so that the weights sum
    to the number of classes (Cui et al., 2019). ``beta=0`` gives uniform
    weights; ``beta -> 1`` tends to inverse class frequency.

    Parameters
    ----------
    class_counts : array-like of shape (n_classes,)
        Number of training samples per class, all positive.
    beta : float, default=0.999
        Hyper-parameter in ``[0, 1)``.

    Returns
    -------
    weights : ndarray of shape (n_classes,)
        Positive weights that sum to ``n_classes``.

    References
    ----------
    .. [1] Y. Cui, M. Jia, T.-Y. Lin, Y. Song, S. Belongie, "Class-Balanced
       Loss Based on Effective Number of Samples", CVPR 2019.

    Examples
    --------
    >>> from skimbal._class_weight import effective_number_weights
    >>> effective_number_weights([900, 100], beta=0.99).round(3)
    array([0.776, 1.224])
    >>> effective_number_weights([900, 100], beta=0.9999).round(3)
    array([0.207, 1.793])
    """
    counts = np.asarray(class_counts, dtype=np.float64)
    if counts.ndim != 1 or counts.size == 0 or np.any(counts <= 0):
        raise ValueError(
            "class_counts must be a non-empty 1-D array of positive counts; "
            f"got {class_counts!r}."
        )
    if not isinstance(beta, numbers.Real) or not 0 <= beta < 1:
        raise ValueError(f"beta must be a float in [0, 1); got beta={beta!r}.")
    if beta == 0:
        return np.ones_like(counts)
    # The effective number is (1 - beta**n) / (1 - beta); the constant
    # (1 - beta) cancels in the normalisation. expm1/log1p keep precision
    # when beta is very close to 1.
    weights = 1.0 / -np.expm1(counts * np.log1p(beta - 1.0))
    return weights * counts.size / weights.sum()


def class_weight_from_counts(class_weight, classes, class_counts, beta=0.999):
    """Turn a ``class_weight`` specification into one weight per class.

    Parameters
    ----------
    class_weight : None, "balanced", "effective_number" or dict
        ``None`` gives no weights; ``"balanced"`` uses scikit-learn's
        ``n_samples / (n_classes * n_c)``; ``"effective_number"`` uses
        :func:`effective_number_weights`; a dict maps labels to weights
        (missing labels get 1).
    classes : ndarray of shape (n_classes,)
        Labels in the order of the network's outputs.
    class_counts : ndarray of shape (n_classes,)
        Number of training samples per class, aligned with ``classes``.
    beta : float, default=0.999
        Used only by ``"effective_number"``.

    Returns
    -------
    weights : ndarray of shape (n_classes,) or None
        ``None`` when ``class_weight`` is ``None``.

    Notes
    -----
    A class without samples (possible when ``partial_fit`` is told of all
    ``classes`` up front) gets, with ``"balanced"`` and
    ``"effective_number"``, the largest weight of the classes that have
    samples. Both formulas give rarer classes larger weights, and a class
    not seen yet is the rarest; yet ``n_c = 0`` itself would give an infinite
    weight, which the first samples of that class (in a later
    ``partial_fit``) could not train with. Its weight does not change the
    loss of the samples it was computed from: each sample is weighted by its
    own class. ``"balanced"`` keeps ``n_classes`` counting every class, and
    ``"effective_number"`` weights still sum to ``n_classes``.

    Examples
    --------
    >>> import numpy as np
    >>> from skimbal._class_weight import class_weight_from_counts
    >>> class_weight_from_counts("balanced", np.array(["a", "b"]), np.array([90, 10]))
    array([0.5555..., 5.        ])
    >>> class_weight_from_counts("balanced", np.arange(3), np.array([30, 10, 0]))
    array([0.4444..., 1.3333..., 1.3333...])
    """
    if class_weight is None:
        return None
    class_counts = np.asarray(class_counts)
    present = class_counts > 0
    if isinstance(class_weight, str) and not present.all() and present.any():
        weights = np.empty(len(class_counts), dtype=np.float64)
        weights[present] = class_weight_from_counts(
            class_weight, np.asarray(classes)[present], class_counts[present], beta
        )
        weights[~present] = weights[present].max()
        if class_weight == "balanced":  # n / (K * n_c) with K = all classes
            return weights * present.sum() / len(weights)
        return weights * len(weights) / weights.sum()
    if isinstance(class_weight, str) and class_weight == "effective_number":
        return effective_number_weights(class_counts, beta=beta)
    if isinstance(class_weight, dict):
        unknown = [label for label in class_weight if label not in set(classes)]
        if unknown:
            raise ValueError(
                f"class_weight has labels {unknown!r} that are not in the training "
                f"labels {list(classes)!r}."
            )
        for label, weight in class_weight.items():
            if (
                not isinstance(weight, numbers.Real)
                or not np.isfinite(weight)
                or (weight < 0)
            ):
                raise ValueError(
                    "class_weight values must be finite non-negative numbers; "
                    f"got {weight!r} for label {label!r}."
                )
    # Rebuild y from the counts so scikit-learn's own formula is used verbatim.
    y = np.repeat(np.arange(len(classes)), class_counts)
    if isinstance(class_weight, dict):
        index = {label: i for i, label in enumerate(classes)}
        class_weight = {index[label]: w for label, w in class_weight.items()}
    return compute_class_weight(class_weight, classes=np.arange(len(classes)), y=y)
