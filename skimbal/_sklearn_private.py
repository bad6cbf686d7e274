"""Every private scikit-learn API that skimbal uses, in one module.

scikit-learn keeps no promise about names that start with an underscore.
Importing them only here means that a release which moves or changes one
fails at ``import skimbal``, in this file, next to a note of what depends
on it, instead of somewhere deep in a fit. ``tests/test_sklearn_private.py``
checks that no other module imports a private scikit-learn name.
"""

# Parameter validation, as scikit-learn's own estimators declare it:
# CNNClassifier._parameter_constraints is built from Interval, Options and
# StrOptions
# (fit validates against them), and load_model re-checks the parameters of a
# safe-format model with validate_parameter_constraints. If these change,
# CNNClassifier's constraint table and _model_reader must follow.
# InvalidParameterError is public (sklearn.utils._param_validation documents
# it as the error that fit raises); it is re-exported for the same reason.
# Row selection that works for arrays, DataFrames and lists alike, as
# scikit-learn's cross_validate uses it: compare_strategies' fits take their
# folds' rows with it (model_selection/_fits.py). If it changes, _fits.py
# must index X itself (X is an array or a one-column DataFrame of paths).
from sklearn.base import clone
from sklearn.model_selection import FixedThresholdClassifier
from sklearn.utils import _safe_indexing  # noqa: F401
from sklearn.utils._param_validation import (  # noqa: F401
    Interval,
    InvalidParameterError,
    Options,
    StrOptions,
    validate_parameter_constraints,
)

__all__ = [
    "Interval",
    "InvalidParameterError",
    "Options",
    "StrOptions",
    "_safe_indexing",
    "prefit_fixed_threshold",
    "validate_parameter_constraints",
]


# Not a private import but the same kind of dependency: what
# FixedThresholdClassifier.fit leaves on the instance. load_model and
# compare_strategies (its fold ensemble) build fitted ones around models
# that are already trained, without a fit.
def prefit_fixed_threshold(fitted, *, threshold, pos_label, response_method):
    """A fitted FixedThresholdClassifier around an already fitted estimator.

    Sets what ``FixedThresholdClassifier.fit`` sets in scikit-learn 1.5 to
    1.9, all of them documented attributes: ``estimator_`` (``classes_`` is
    a property reading it), ``n_features_in_`` and ``feature_names_in_``;
    ``estimator`` is the unfitted template, as after ``fit``. Should a later
    scikit-learn have ``fit`` store more that ``predict`` needs, ``predict``
    would fail with an AttributeError (tests/test_persistence.py would show
    it).

    Parameters
    ----------
    fitted : classifier
        Already fitted; predicted with as it is.
    threshold : float
        As in ``FixedThresholdClassifier``.
    pos_label : int, str, bool or None
        As in ``FixedThresholdClassifier``.
    response_method : str
        As in ``FixedThresholdClassifier``.

    Returns
    -------
    FixedThresholdClassifier
        Ready to ``predict`` without ``fit``.
    """
    model = FixedThresholdClassifier(
        clone(fitted),
        threshold=threshold,
        pos_label=pos_label,
        response_method=response_method,
    )
    model.estimator_ = fitted
    if hasattr(fitted, "n_features_in_"):
        model.n_features_in_ = fitted.n_features_in_
    if hasattr(fitted, "feature_names_in_"):
        model.feature_names_in_ = fitted.feature_names_in_
    return model
