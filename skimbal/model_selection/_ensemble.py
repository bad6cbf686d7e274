"""The cross-validation's own fold models, averaged into one classifier.

Why hand these back instead of one model refitted on all data: a decision
threshold chosen on out-of-fold probabilities is a property of the models
that produced them. On MNIST at 1:100 (20 rare digits) a refit on all the
data, trained on a quarter more rare samples than any fold model, scored a
different scale of probabilities: the threshold chosen for the fold models
(about 0.001 for oversampling) cost the refit up to 0.06 of test F1, while
the fold models' average kept it (benchmarks/bench_trusted_model.py). It is
scikit-learn's ``CalibratedClassifierCV(ensemble=True)`` idea, with the
threshold in place of the calibrator, and it costs no training beyond the
comparison's.
"""

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.model_selection import check_cv
from sklearn.utils import get_tags
from sklearn.utils.validation import check_is_fitted, indexable

from .._sklearn_private import _safe_indexing

__all__ = ["FoldEnsembleClassifier"]

#: Probabilities are clipped to [EPS, 1] before their logarithm: a member
#: that says exactly 0 (float32 saturation) must not veto the others.
EPS = 1e-7


class FoldEnsembleClassifier(ClassifierMixin, BaseEstimator):
    """One copy of ``estimator`` per training fold, probabilities averaged.

    ``fit`` trains a clone of ``estimator`` on the training rows of each
    split of ``cv`` (the test rows are not used); ``predict_proba`` is the
    normalised geometric mean of the members' probabilities, which for two
    classes is the mean of their log-odds. The geometric mean rather than
    the arithmetic one: a single member's outlying score moves the average
    by a fifth of its log-odds, not to its own scale, so a threshold chosen
    on the members' out-of-fold probabilities stays meaningful for the
    average.

    This is what :func:`compare_strategies` hands back by default: there
    the members are the comparison's fitted fold models, and the threshold
    (a :class:`~sklearn.model_selection.FixedThresholdClassifier` around
    this) was chosen on their out-of-fold probabilities.

    Parameters
    ----------
    estimator : classifier
        Any classifier with ``predict_proba``; cloned once per split.
    cv : int, cross-validation generator or iterable, default=5
        As in :func:`~sklearn.model_selection.cross_val_score`: an int is a
        (stratified) k-fold; an iterable of ``(train, test)`` index arrays
        gives the members' training rows exactly.

    Attributes
    ----------
    estimators_ : list of classifier
        The fitted members, one per split.
    classes_ : ndarray of shape (n_classes,)
        The class labels, as every member has them.
    n_features_in_ : int
        Number of features seen during fit (when the members record it).

    See Also
    --------
    sklearn.calibration.CalibratedClassifierCV : The same ensemble of fold
        models, with a calibrator per fold.

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skimbal.model_selection import FoldEnsembleClassifier
    >>> X, y = make_classification(n_samples=200, random_state=0)
    >>> model = FoldEnsembleClassifier(LogisticRegression(), cv=3).fit(X, y)
    >>> len(model.estimators_)
    3
    >>> model.predict_proba(X[:2]).round(3).sum(axis=1)
    array([1., 1.])
    """

    def __init__(self, estimator, *, cv=5):
        self.estimator = estimator
        self.cv = cv

    def fit(self, X, y, **fit_params):
        """Train one clone of ``estimator`` per split's training rows.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            Training data, in any form ``estimator`` accepts.
        y : array-like of shape (n_samples,)
            Class labels.
        **fit_params : dict
            Passed to every member's ``fit``.

        Returns
        -------
        self : FoldEnsembleClassifier
            Fitted.
        """
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y "
                "is None."
            )
        X, y = indexable(X, y)  # rows of lists and other sequences, too
        y = np.asarray(y)
        splits = list(check_cv(self.cv, y, classifier=True).split(X, y))
        members = [
            clone(self.estimator).fit(_safe_indexing(X, train), y[train], **fit_params)
            for train, _ in splits
        ]
        return self._set_members(members)

    def _set_members(self, members):
        """Adopt already fitted ``members`` (all with the same classes)."""
        if not members:
            raise ValueError("FoldEnsembleClassifier needs at least one member.")
        classes = members[0].classes_
        for member in members[1:]:
            if not np.array_equal(member.classes_, classes):
                raise ValueError(
                    "Every member must know the same classes; got "
                    f"{classes.tolist()!r} and {member.classes_.tolist()!r}. "
                    "Use stratified splits that put every class in every "
                    "training fold."
                )
        self.estimators_ = list(members)
        self.classes_ = classes
        if hasattr(members[0], "n_features_in_"):
            self.n_features_in_ = members[0].n_features_in_
        if hasattr(members[0], "feature_names_in_"):
            self.feature_names_in_ = members[0].feature_names_in_
        return self

    def predict_proba(self, X):
        """Normalised geometric mean of the members' probabilities.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            Samples, in any form the members accept.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Rows sum to 1; columns follow ``classes_``.
        """
        check_is_fitted(self, "estimators_")
        log_proba = np.mean(
            [
                np.log(np.clip(member.predict_proba(X), EPS, 1.0))
                for member in self.estimators_
            ],
            axis=0,
        )
        log_proba -= log_proba.max(axis=1, keepdims=True)
        proba = np.exp(log_proba)
        return proba / proba.sum(axis=1, keepdims=True)

    def predict(self, X):
        """The most probable class of each sample.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            Samples, in any form the members accept.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            Labels from ``classes_``.
        """
        check_is_fitted(self, "estimators_")
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]

    def __sklearn_tags__(self):
        # Whatever inputs the members take (images, paths, sparse rows).
        tags = super().__sklearn_tags__()
        inner = get_tags(self.estimator).input_tags
        tags.input_tags.sparse = inner.sparse
        tags.input_tags.allow_nan = inner.allow_nan
        tags.input_tags.string = inner.string
        return tags


def fitted_fold_ensemble(estimator, splits, members):
    """A :class:`FoldEnsembleClassifier` made of already fitted members.

    Parameters
    ----------
    estimator : classifier
        The unfitted recipe of every member.
    splits : list of (ndarray, ndarray)
        The ``(train, test)`` rows the members were trained on: refitting
        the result with ``fit`` trains the same recipe again.
    members : list of classifier
        Fitted, one per split, all with the same ``classes_``.

    Returns
    -------
    FoldEnsembleClassifier
        Fitted, without any training.
    """
    return FoldEnsembleClassifier(estimator, cv=list(splits))._set_members(members)
