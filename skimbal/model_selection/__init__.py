"""Compare imbalance strategies with honest cross-validation.

:func:`strategy_grid` is a ``GridSearchCV`` parameter grid over the named
strategies (:data:`STRATEGIES`); :func:`compare_strategies` cross-validates
them with tuned decision thresholds at a stated class prior, tests which
differences are real (:func:`corrected_ttest`) and returns a
:class:`StrategyReport` (table, plots, files, the chosen model).
"""

from ._compare import compare_strategies
from ._report import StrategyReport
from ._scoring import METRICS
from ._stats import corrected_ttest
from ._strategies import SIMPLICITY, STRATEGIES, strategy_grid
from ._thresholds import f1_threshold

__all__ = [
    "METRICS",
    "SIMPLICITY",
    "STRATEGIES",
    "StrategyReport",
    "compare_strategies",
    "corrected_ttest",
    "f1_threshold",
    "strategy_grid",
]
