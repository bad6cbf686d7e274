"""Checks on cross-validation folds, made before any network is trained."""

import numpy as np

__all__ = ["check_folds"]


def check_folds(splits, y):
    """Fail early when a fold cannot train or score every class.

    ``StratifiedKFold`` only *warns* when the rarest class has fewer members
    than folds; the comparison would then train models that never saw the
    rare class, or score test folds without it, and report meaningless F1
    hours later. This turns both cases into an error before training.

    Parameters
    ----------
    splits : list of (train_indices, test_indices)
        The materialised folds.
    y : ndarray of shape (n_samples,)
        The labels.

    Raises
    ------
    ValueError
        Naming the class, its count and the number of folds, or the fold
        whose training or test part lacks a class.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.model_selection import StratifiedKFold
    >>> from skimbal.model_selection._validation import check_folds
    >>> y = np.array([0] * 20 + [1] * 3)
    >>> X = np.zeros((23, 1))
    >>> check_folds(list(StratifiedKFold(5).split(X, y)), y)
    Traceback (most recent call last):
    ...
    ValueError: class 1 has only 3 samples, fewer than the 5 folds: ...
    """
    classes, counts = np.unique(y, return_counts=True)
    n_folds = len(splits)
    rarest = int(np.argmin(counts))
    if counts[rarest] < n_folds:
        label = classes.tolist()[rarest]  # a plain Python value for the message
        raise ValueError(
            f"class {label!r} has only {counts[rarest]} samples, fewer "
            f"than the {n_folds} folds: some test folds would not contain it. Use "
            f"cv={max(2, counts[rarest])} or fewer folds, or more data."
        )
    for fold, (train, test) in enumerate(splits):
        for part, indices in (("training", train), ("test", test)):
            missing = np.setdiff1d(classes, y[indices])
            if missing.size:
                raise ValueError(
                    f"the {part} part of fold {fold} has no samples of class(es) "
                    f"{missing.tolist()!r}; use a stratified splitter such as "
                    "StratifiedKFold(shuffle=True) or fewer folds."
                )
