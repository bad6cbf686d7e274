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
    "validate_parameter_constraints",
]
