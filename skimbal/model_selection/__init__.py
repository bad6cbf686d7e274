"""Compare imbalance strategies with honest cross-validation.

:func:`strategy_grid` is a ``GridSearchCV`` parameter grid over the named
strategies (:data:`STRATEGIES`); :func:`compare_strategies` cross-validates
them with tuned decision thresholds at a stated class prior, tests which
differences are real (:func:`corrected_ttest`) and returns a
:class:`StrategyReport` (table, plots, files, the chosen model).

The names are imported on first use (PEP 562): the strategies' names and
descriptions come without scikit-learn's model selection or PyTorch, and a
worker process that runs one fit imports only what that fit needs.
"""

from typing import TYPE_CHECKING

from .._lazy import lazy_names

#: Public name -> the private module that defines it.
_LAZY = {
    "FoldEnsembleClassifier": "._ensemble",
    "METRICS": "._scoring",
    "SIMPLICITY": "._strategy_names",
    "STRATEGIES": "._strategy_names",
    "StrategyReport": "._report",
    "compare_strategies": "._compare",
    "corrected_ttest": "._stats",
    "f1_threshold": "._thresholds",
    "strategy_grid": "._strategies",
}

__all__ = [
    "FoldEnsembleClassifier",
    "METRICS",
    "SIMPLICITY",
    "STRATEGIES",
    "StrategyReport",
    "compare_strategies",
    "corrected_ttest",
    "f1_threshold",
    "strategy_grid",
]

if TYPE_CHECKING:  # static analysers and IDEs see the names as plain imports
    from ._compare import compare_strategies
    from ._ensemble import FoldEnsembleClassifier
    from ._report import StrategyReport
    from ._scoring import METRICS
    from ._stats import corrected_ttest
    from ._strategies import strategy_grid
    from ._strategy_names import SIMPLICITY, STRATEGIES
    from ._thresholds import f1_threshold


__getattr__, __dir__ = lazy_names(__name__, _LAZY, __all__)
