"""The registry of built-in strategies: names, descriptions and settings.

It imports nothing heavy (samplers and callbacks are named, as
:class:`Template` s, and built by ``_strategies``), so that ``skimbal
strategies`` and the check of ``skimbal compare --strategies`` answer before
imbalanced-learn, scikit-learn or PyTorch is imported. Adding a strategy is
one entry in :data:`REGISTRY` (and its test).
"""

import difflib
from types import MappingProxyType
from typing import NamedTuple

__all__ = [
    "CANDIDATES",
    "IN_ALL",
    "REGISTRY",
    "SIMPLICITY",
    "STRATEGIES",
    "THRESHOLD_TUNING",
    "Strategy",
    "Template",
    "check_strategy_name",
]


class Template(NamedTuple):
    """A sampler or callback of a strategy, named rather than imported.

    ``_strategies.strategy_grid`` imports ``target`` (``"module:Class"``) and
    calls it with ``kwargs`` when it builds a grid, so that this registry
    stays importable without imbalanced-learn, skorch or PyTorch.
    """

    target: str
    kwargs: dict = {}


class Strategy(NamedTuple):
    """A built-in imbalance strategy: what it does and the settings that make it.

    Attributes
    ----------
    description : str
        One line, shown by ``skimbal strategies`` and in reports.
    params : dict or None
        Pipeline parameters set on top of the plain settings. Values are
        single settings; lists are searched; samplers and callbacks are
        :class:`Template` s, of which ``strategy_grid`` hands out seeded
        instances. ``None`` for ``"threshold_tuning"``, whose candidate is
        built from the estimator.
    in_all : bool
        Whether ``"all"`` includes it. Strategies left out are run only when
        named (see :data:`IN_ALL`).
    """

    description: str
    params: dict | None
    in_all: bool = True


THRESHOLD_TUNING = "threshold_tuning"

#: The built-in strategies, the one place to add one. ``"all"`` lists them in
#: this order, which is also their order of simplicity (see ``SIMPLICITY``):
#: loss weights first, then logit offsets, samplers, balanced batches, and
#: last the losses that search extra parameters or follow a schedule.
REGISTRY = MappingProxyType(
    {
        "plain": Strategy("cross-entropy, no re-balancing (the baseline)", {}),
        "class_weight": Strategy(
            "cross-entropy weighted n / (n_classes * n_c) per class",
            {"clf__class_weight": "balanced"},
        ),
        "effective_number": Strategy(
            "cross-entropy weighted by effective number (beta=0.999)",
            {"clf__class_weight": "effective_number"},
        ),
        "balanced_softmax": Strategy(
            "balanced softmax cross-entropy (logit adjustment, tau=1)",
            {"clf__criterion": "balanced_softmax"},
        ),
        # tau=1 is balanced softmax, its own strategy: search around it instead.
        "logit_adjusted": Strategy(
            "logit-adjusted cross-entropy, tau in (0.5, 2)",
            {"clf__criterion": "logit_adjusted", "clf__criterion__tau": [0.5, 2.0]},
        ),
        "undersample": Strategy(
            "random under-sampling of the majority classes",
            {"sampler": Template("imblearn.under_sampling:RandomUnderSampler")},
        ),
        "oversample": Strategy(
            "random over-sampling of the minority classes",
            {"sampler": Template("imblearn.over_sampling:RandomOverSampler")},
        ),
        "balanced_batches": Strategy(
            "class-balanced mini-batches drawn by the data loader",
            {"clf__balanced_batches": True},
        ),
        "focal": Strategy(
            "focal loss, gamma in (1, 2, 5), with and without balanced alpha",
            {
                "clf__criterion": "focal",
                "clf__criterion__gamma": [1.0, 2.0, 5.0],
                "clf__class_weight": [None, "balanced"],
            },
        ),
        "ldam_drw": Strategy(
            "LDAM loss (scale 1) with deferred re-weighting from 80% of the steps",
            {
                "clf__criterion": "ldam",
                # The default net's logits are not normalised: scale 1, as
                # LDAMLoss's docstring advises for such networks (30 is for
                # cosine classifiers).
                "clf__criterion__scale": 1.0,
                # A list of (name, callback) pairs is one setting.
                "clf__callbacks": [
                    (
                        "drw",
                        Template(
                            "skimbal.callbacks:DeferredReweighting",
                            {"start_epoch": 0.8},
                        ),
                    )
                ],
            },
        ),
        # Named only, not in "all": VS's special cases (logit adjustment,
        # balanced softmax) are already there, and AutoBalance costs about
        # 4 plain fits, trains on 80% of the rows and needs validation rows
        # of every class; it did not beat logit adjustment in
        # benchmarks/results/long_tailed.md.
        "vs": Strategy(
            "vector-scaling loss: logits scaled (n_c/n_max)^0.3 and offset by "
            "log-priors (named only)",
            {"clf__criterion": "vs"},
            in_all=False,
        ),
        "autobalance": Strategy(
            "VS loss with per-class scaling, offsets and weights learned on a "
            "held-out 20% (AutoBalance; named only)",
            {
                "clf__criterion": "vs",
                "clf__validation_fraction": 0.2,
                "clf__callbacks": [
                    ("autobalance", Template("skimbal.callbacks:AutoBalance"))
                ],
            },
            in_all=False,
        ),
        THRESHOLD_TUNING: Strategy(
            "plain net, decision threshold tuned for F1 (binary only; "
            "strategy_grid only: compare_strategies tunes every strategy's "
            "threshold)",
            None,
        ),
    }
)

#: What each named strategy does, by name, in the order of ``"all"``.
STRATEGIES = MappingProxyType(
    {name: strategy.description for name, strategy in REGISTRY.items()}
)

#: Strategies from simplest to most involved: among strategies tied with the
#: best, compare_strategies hands back the first.
SIMPLICITY = tuple(name for name in STRATEGIES if name != THRESHOLD_TUNING)

#: The strategies ``"all"`` runs (threshold tuning only where an estimator is
#: given), in the order of ``SIMPLICITY``; the others run when named.
IN_ALL = tuple(name for name in SIMPLICITY if REGISTRY[name].in_all)


def _n_candidates(params):
    n = 1
    for key, value in params.items():
        if isinstance(value, list) and key != "clf__callbacks":
            n *= len(value)
    return n


#: Candidates (parameter settings) each strategy of compare_strategies
#: searches, counted from the registry: lets the command line count the fits,
#: and size the worker pool, before it imports the grids.
CANDIDATES = MappingProxyType(
    {name: _n_candidates(REGISTRY[name].params) for name in SIMPLICITY}
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
