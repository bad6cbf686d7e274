"""The minority class of a label vector, as the positive class of a scorer."""

import numpy as np
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import column_or_1d

__all__ = ["minority_class"]


def minority_class(y):
    """The least frequent label of ``y`` (on a tie, the later one when sorted).

    scikit-learn's ``"f1"``, ``"precision"`` and ``"recall"`` scorers take
    ``pos_label=1``; with string labels (as
    :func:`~skimbal.datasets.load_image_folder` returns) they give NaN in every
    fold. The rare class is what an imbalanced problem is about, so this is
    the usual ``pos_label``, the same one
    :func:`~skimbal.model_selection.compare_strategies` uses.

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        Class labels, at least two classes.

    Returns
    -------
    label : object
        A label of ``y``, as a plain Python value.

    Examples
    --------
    >>> from sklearn.metrics import f1_score, make_scorer
    >>> from skimbal.metrics import make_prior_scorer, minority_class
    >>> y = ["dog"] * 9 + ["cat"]
    >>> minority_class(y)
    'cat'
    >>> scorer = make_scorer(f1_score, pos_label=minority_class(y))
    >>> at_balanced = make_prior_scorer(
    ...     "f1", class_prior="balanced", pos_label=minority_class(y)
    ... )
    """
    y = column_or_1d(np.asarray(y, dtype=object if _is_text(y) else None))
    check_classification_targets(y)
    classes, counts = np.unique(y, return_counts=True)
    if len(classes) < 2:
        raise ValueError(
            f"y must hold at least 2 classes to have a minority; got "
            f"{classes.tolist()!r}."
        )
    label = classes[len(classes) - 1 - np.argmin(counts[::-1])]
    return label.item() if isinstance(label, np.generic) else label


def _is_text(y):
    return any(isinstance(v, str) for v in np.asarray(y).ravel()[:1].tolist())
