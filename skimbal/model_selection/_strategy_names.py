"""The names and descriptions of the built-in strategies, without their settings.

Kept apart from ``_strategies`` (which needs imbalanced-learn, scikit-learn
and skorch) so that ``skimbal strategies`` and the check of
``skimbal compare --strategies`` answer before any of those is imported.
"""

import difflib
from types import MappingProxyType

__all__ = [
    "CANDIDATES",
    "SIMPLICITY",
    "STRATEGIES",
    "THRESHOLD_TUNING",
    "check_strategy_name",
]

#: What each named strategy does. ``"all"`` lists them in this order, which
#: is also their order of simplicity (see ``SIMPLICITY``): loss weights
#: first, then logit offsets, samplers, balanced batches, and last the losses
#: that search extra parameters or follow a schedule.
STRATEGIES = MappingProxyType(
    {
        "plain": "cross-entropy, no re-balancing (the baseline)",
        "class_weight": "cross-entropy weighted n / (n_classes * n_c) per class",
        "effective_number": "cross-entropy weighted by effective number (beta=0.999)",
        "balanced_softmax": "balanced softmax cross-entropy (logit adjustment, tau=1)",
        "logit_adjusted": "logit-adjusted cross-entropy, tau in (0.5, 2)",
        "undersample": "random under-sampling of the majority classes",
        "oversample": "random over-sampling of the minority classes",
        "balanced_batches": "class-balanced mini-batches drawn by the data loader",
        "focal": "focal loss, gamma in (1, 2, 5), with and without balanced alpha",
        "ldam_drw": "LDAM loss (scale 1) with deferred re-weighting from 80% of "
        "the steps",
        "threshold_tuning": "plain net, decision threshold tuned for F1 (binary only; "
        "strategy_grid only: compare_strategies tunes every strategy's threshold)",
    }
)

THRESHOLD_TUNING = "threshold_tuning"

#: Strategies from simplest to most involved: among strategies tied with the
#: best, compare_strategies hands back the first.
SIMPLICITY = tuple(name for name in STRATEGIES if name != THRESHOLD_TUNING)

#: Candidates (parameter settings) each strategy of compare_strategies
#: searches: focal tries 3 gammas with and without weights, logit_adjusted
#: 2 taus. Lets the command line count the fits, and size the worker pool,
#: before it imports the grids; a test checks it against them.
CANDIDATES = MappingProxyType(
    {name: {"focal": 6, "logit_adjusted": 2}.get(name, 1) for name in SIMPLICITY}
)


def check_strategy_name(name):
    """Raise unless ``name`` is a built-in strategy, suggesting the closest one.

    Parameters
    ----------
    name : str
        A strategy name, as given by the user.

    Raises
    ------
    ValueError
        For a name not in :data:`STRATEGIES`.

    Examples
    --------
    >>> from skimbal.model_selection._strategy_names import check_strategy_name
    >>> check_strategy_name("focal")
    >>> check_strategy_name("focul")
    Traceback (most recent call last):
    ...
    ValueError: Unknown strategy 'focul'. Did you mean 'focal'? ...
    """
    if name in STRATEGIES:
        return
    close = difflib.get_close_matches(name, list(STRATEGIES), n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    raise ValueError(
        f"Unknown strategy {name!r}.{hint} Known strategies: {list(STRATEGIES)}; "
        "add your own with strategies={name: params}."
    )
