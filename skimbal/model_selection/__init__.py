"""Compare imbalance strategies with honest cross-validation.

:func:`strategy_grid` is a ``GridSearchCV`` parameter grid over the named
strategies (:data:`STRATEGIES`); :func:`compare_strategies` runs it, with
threshold tuning beside it, and returns a :class:`StrategyReport` (table,
plots, files).
"""

from ._compare import compare_strategies
from ._report import METRICS, StrategyReport
from ._strategies import STRATEGIES, strategy_grid

__all__ = [
    "METRICS",
    "STRATEGIES",
    "StrategyReport",
    "compare_strategies",
    "strategy_grid",
]
