"""Metrics at a stated class prior.

F1, precision and average precision depend on how common each class is where
they are measured. :func:`class_prior_weights` reweights a test set so that
any scikit-learn metric with ``sample_weight`` is evaluated as if the classes
had the shares of ``class_prior`` (``"train"``, ``"balanced"``, a
positive-class share or a dict); :func:`make_prior_scorer` turns that into a
scorer for cross-validation, grid search and threshold tuning;
:func:`check_class_prior` validates a prior before any training and
:func:`describe_class_prior` says it in words; :func:`minority_class` is
the usual positive class of an imbalanced problem.
"""

from ._minority import minority_class
from ._prior import check_class_prior, class_prior_weights, describe_class_prior
from ._scorer import make_prior_scorer

__all__ = [
    "check_class_prior",
    "class_prior_weights",
    "describe_class_prior",
    "make_prior_scorer",
    "minority_class",
]
