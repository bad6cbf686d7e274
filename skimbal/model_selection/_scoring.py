"""Scores of stored predictions, at a class prior, with scikit-learn's scorers.

The fits of a comparison return probabilities, not models. ``Predictions``
is a stand-in classifier that answers ``predict_proba`` / ``predict`` with
them, so that any scikit-learn scorer (a name, a callable, or one made by
:func:`skimbal.metrics.make_prior_scorer`) scores them exactly as it would
score the model.
"""

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.metrics import get_scorer, get_scorer_names

from ..metrics import make_prior_scorer

__all__ = ["METRICS", "Predictions", "table_scorers"]

#: The metrics every comparison reports, in table order.
METRICS = ("f1", "precision", "recall", "balanced_accuracy", "average_precision")


class Predictions(ClassifierMixin, BaseEstimator):
    """A fitted-looking classifier that returns stored probabilities.

    Parameters
    ----------
    classes : ndarray of shape (n_classes,)
        Sorted labels, the columns of ``proba``.
    proba : ndarray of shape (n_samples, n_classes)
        Probabilities of the samples to be scored, in order.
    threshold : float or None, default=None
        Binary only: ``predict`` gives ``classes[pos]`` where the positive
        probability is ``>= threshold``. ``None`` predicts the most probable
        class (the 0.5 threshold).
    pos_label : label or None, default=None
        The positive class, with ``threshold``.
    """

    def __init__(self, classes, proba, threshold=None, pos_label=None):
        self.classes = classes
        self.proba = proba
        self.threshold = threshold
        self.pos_label = pos_label
        # Set here, not in fit: this stand-in is never fitted.
        self.classes_ = np.asarray(classes)

    def predict_proba(self, X):
        """Return the stored probabilities.

        Parameters
        ----------
        X : array-like
            Ignored: the samples are those ``proba`` was computed for.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            ``proba``, as given.
        """
        return self.proba

    def predict(self, X):
        """Predict the classes from the stored probabilities and ``threshold``.

        Parameters
        ----------
        X : array-like
            Ignored: the samples are those ``proba`` was computed for.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            One label of ``classes`` per sample.
        """
        if self.threshold is None:
            return self.classes_[np.argmax(self.proba, axis=1)]
        column = list(self.classes_).index(self.pos_label)
        other = self.classes_[1 - column]
        positive = self.proba[:, column] >= self.threshold
        return np.where(positive, self.pos_label, other)


def table_scorers(binary, pos_label, class_prior, scoring=None):
    """The table's scorers at ``class_prior``, and the ranking metric's name.

    Parameters
    ----------
    binary : bool
        Binary problems score the positive class; multi-class ones use
        macro averages.
    pos_label : label or None
        The positive class (binary).
    class_prior : str, float or dict
        Checked already.
    scoring : None, str or callable
        The ranking metric: ``None`` (F1), a name of :data:`METRICS`,
        another scikit-learn scorer name (scored at the prior, added as a
        column) or a scorer callable (called as it is, column ``"score"``).

    Returns
    -------
    scorers : dict
        Name -> scorer.
    rank_metric : str
        The key of ``scorers`` that ranks the strategies.
    """
    if binary:
        by_class = {"pos_label": pos_label}
    else:
        by_class = {"average": "macro"}

    def at_prior(name, **kwargs):
        """Score metric ``name`` at ``class_prior``.

        Parameters
        ----------
        name : str
            A scikit-learn metric name.
        **kwargs
            Arguments of the metric.

        Returns
        -------
        scorer : callable
            See :func:`~skimbal.metrics.make_prior_scorer`.
        """
        return make_prior_scorer(name, class_prior=class_prior, **kwargs)

    scorers = {
        "f1": at_prior("f1", zero_division=0.0, **by_class),
        "precision": at_prior("precision", zero_division=0.0, **by_class),
        "recall": at_prior("recall", zero_division=0.0, **by_class),
        # Mean recall over classes: the same at every prior.
        "balanced_accuracy": get_scorer("balanced_accuracy"),
        "average_precision": at_prior("average_precision", **by_class),
    }
    if scoring is None:
        return scorers, "f1"
    if isinstance(scoring, str):
        if scoring in scorers:
            return scorers, scoring
        if scoring in get_scorer_names():
            scorers[scoring] = at_prior(scoring)
            return scorers, scoring
    elif callable(scoring):
        scorers["score"] = scoring
        return scorers, "score"
    raise ValueError(
        f"scoring must be None, one of {list(METRICS)}, a scikit-learn scorer name "
        f"or a scorer callable; got scoring={scoring!r}."
    )


def score_predictions(scorers, y_true, classes, proba, threshold, pos_label):
    """Every scorer on one split's test predictions.

    Parameters
    ----------
    scorers : dict
        Name -> scorer, as :func:`table_scorers` gives them.
    y_true : ndarray of shape (n_samples,)
        The split's test labels.
    classes : ndarray of shape (n_classes,)
        Sorted labels, the columns of ``proba``.
    proba : ndarray of shape (n_samples, n_classes)
        The split's test probabilities.
    threshold : float or None
        The binary decision threshold; ``None`` takes the most probable class.
    pos_label : label or None
        The positive class, with ``threshold``.

    Returns
    -------
    scores : dict
        Name -> float (NaN where a scorer fails, e.g. a class missing).
    """
    model = Predictions(classes, proba, threshold, pos_label)
    placeholder = np.empty((len(y_true), 0))
    scores = {}
    for name, scorer in scorers.items():
        try:
            scores[name] = float(scorer(model, placeholder, y_true))
        except ValueError:
            scores[name] = float("nan")
    return scores
