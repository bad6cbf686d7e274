"""Decision thresholds chosen for F1 at a stated class prior."""

import numpy as np
from sklearn.metrics import precision_recall_curve

from ..metrics import class_prior_weights

__all__ = ["f1_threshold"]


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
