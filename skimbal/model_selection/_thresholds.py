"""Decision thresholds chosen for F1 at a stated class prior."""

import numpy as np
from sklearn.metrics import precision_recall_curve

from ..metrics import class_prior_weights

__all__ = ["f1_threshold", "other_folds_threshold", "pooled_threshold"]


def f1_threshold(y_true, scores, *, pos_label, class_prior="balanced"):
    """The probability threshold that maximises F1 at a class prior.

    Every distinct score is a candidate (scikit-learn's
    :func:`~sklearn.metrics.precision_recall_curve`, weighted with
    :func:`~skimbal.metrics.class_prior_weights`). The threshold returned
    lies halfway between the best candidate and the next lower score, so
    that a new sample scored a little below the lowest positive that was
    kept still counts as positive; ``predict`` is then
    ``scores >= threshold``, as in
    :class:`~sklearn.model_selection.FixedThresholdClassifier`.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        Labels of held-out samples, never those the threshold is scored on.
    scores : array-like of shape (n_samples,)
        Probability of ``pos_label`` for each sample.
    pos_label : int, str or bool
        The positive class.
    class_prior : "balanced", "train", float or dict, default="balanced"
        The prior F1 is computed at (see
        :func:`~skimbal.metrics.class_prior_weights`).

    Returns
    -------
    threshold : float
        In ``[0, 1]``. ``0.5`` when ``y_true`` has no positive sample (no
        evidence to move it).
    f1 : float
        F1 at the prior on these samples with this threshold.

    Examples
    --------
    >>> import numpy as np
    >>> from skimbal.model_selection._thresholds import f1_threshold
    >>> y = np.array([0, 0, 0, 0, 0, 0, 1, 1])
    >>> scores = np.array([0.01, 0.02, 0.02, 0.05, 0.1, 0.3, 0.2, 0.4])
    >>> threshold, f1 = f1_threshold(y, scores, pos_label=1)
    >>> round(threshold, 3), round(f1, 3)
    (0.15, 0.923)
    """
    y_true = np.asarray(y_true)
    scores = np.asarray(scores, dtype=float)
    positive = y_true == pos_label
    if not positive.any() or positive.all():
        return 0.5, float("nan")
    weights = class_prior_weights(y_true, class_prior, pos_label=pos_label)
    precision, recall, thresholds = precision_recall_curve(
        y_true, scores, pos_label=pos_label, sample_weight=weights
    )
    # The last point (precision 1, recall 0) has no threshold.
    precision, recall = precision[:-1], recall[:-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        f1 = np.where(
            precision + recall > 0, 2 * precision * recall / (precision + recall), 0.0
        )
    # On a tie the higher threshold: fewer false alarms for the same F1.
    best = len(f1) - 1 - int(np.argmax(f1[::-1]))
    cut = thresholds[best]
    below = scores[scores < cut]
    threshold = (cut + below.max()) / 2 if below.size else cut / 2
    return float(threshold), float(f1[best])


def other_folds_threshold(fits, splits, index, per_repeat, y, column, pos_label, prior):
    """Fit ``index``'s threshold: F1-best on the other folds of its repeat.

    Those folds' out-of-fold probabilities (each from a model that never saw
    them; rows of fit ``index``'s own test fold left out, should a splitter
    overlap its folds) hold all the training fold's rare samples, where a
    hold-out carved from the training fold would hold a quarter of them: 3
    or 4 with 20 rare samples, too few to place a threshold (on MNIST at
    1:100 that ranked the two best strategies on the test set 9th and 7th of
    10). It is also how the returned model's threshold is chosen
    (:func:`pooled_threshold`), so cross-validation scores that procedure.
    The test fold's labels never enter it.

    Parameters
    ----------
    fits : list of FitResult
        One candidate's fits, one per split.
    splits : list of Split
        The comparison's splits, repeat after repeat.
    index : int
        The fit whose threshold is wanted.
    per_repeat : int
        Splits per repeat of the cross-validation.
    y : ndarray of shape (n_samples,)
        All labels.
    column : int
        Column of ``pos_label`` in the fits' probabilities.
    pos_label : int, str or bool
        The positive class.
    prior : "balanced", "train", float or dict
        The class prior F1 is computed at.

    Returns
    -------
    float
        The threshold; 0.5 when no other fold of the repeat was fitted.
    """
    start = index - index % per_repeat
    own = np.zeros(len(y), dtype=bool)
    own[splits[index].test] = True
    y_other, scores = [], []
    for other in range(start, start + per_repeat):
        fit, test = fits[other], splits[other].test
        if other == index or fit.error:
            continue
        keep = ~own[test]
        y_other.append(y[test][keep])
        scores.append(fit.test_proba[keep, column])
    if not y_other:
        return 0.5  # no other fold to learn from: the default rule
    threshold, _ = f1_threshold(
        np.concatenate(y_other),
        np.concatenate(scores),
        pos_label=pos_label,
        class_prior=prior,
    )
    return threshold


def pooled_threshold(fits, splits, y, classes, pos_label, prior):
    """The final model's threshold: F1-best over all out-of-fold probabilities.

    Parameters
    ----------
    fits : list of FitResult
        One candidate's fits, one per split; failed fits are left out.
    splits : list of Split
        The comparison's splits.
    y : ndarray of shape (n_samples,)
        All labels.
    classes : ndarray
        The fits' class order.
    pos_label : int, str or bool
        The positive class.
    prior : "balanced", "train", float or dict
        The class prior F1 is computed at.

    Returns
    -------
    float
        The threshold.
    """
    column = list(classes).index(pos_label)
    y_all, scores = [], []
    for fit, split in zip(fits, splits, strict=True):
        if fit.error:
            continue
        y_all.append(y[split.test])
        scores.append(fit.test_proba[:, column])
    threshold, _ = f1_threshold(
        np.concatenate(y_all),
        np.concatenate(scores),
        pos_label=pos_label,
        class_prior=prior,
    )
    return threshold
