"""The GridSearchCV grid built from the registry of imbalance strategies.

The strategies themselves (names, descriptions, settings) are declared once,
in ``_strategy_names.REGISTRY``, which imports nothing heavy.
"""

import importlib

from sklearn.base import clone
from sklearn.metrics import f1_score, make_scorer
from sklearn.model_selection import TunedThresholdClassifierCV

from ._strategy_names import (
    IN_ALL,
    REGISTRY,
    SIMPLICITY,
    STRATEGIES,
    THRESHOLD_TUNING,
    Template,
    check_strategy_name,
)

__all__ = ["SIMPLICITY", "STRATEGIES", "strategy_grid"]

#: Every strategy starts from these values, then sets its own; so switching
#: from one to another never carries over a loss, a weight or a sampler.
_PLAIN = {
    "sampler": "passthrough",
    "clf__class_weight": None,
    "clf__criterion": "cross_entropy",
}


def _build(value):
    """``value`` with each :class:`Template` (also in (name, template) pairs) built."""
    if isinstance(value, Template):
        module, name = value.target.split(":")
        return getattr(importlib.import_module(module), name)(**value.kwargs)
    if isinstance(value, list):
        return [_build(item) for item in value]
    if isinstance(value, tuple):
        return tuple(_build(item) for item in value)
    return value


# Samplers and callbacks built once, as templates: strategy_grid hands out
# seeded copies.
_PARAMS = {
    name: {key: _build(value) for key, value in strategy.params.items()}
    for name, strategy in REGISTRY.items()
    if strategy.params is not None
}

#: Share of each training fold held out to choose the decision threshold.
THRESHOLD_HOLDOUT = 0.25


def strategy_grid(
    strategies="all", *, estimator=None, pos_label=None, random_state=None
):
    """Parameter grid that switches between imbalance strategies.

    The grid is for ``GridSearchCV`` over an imbalanced-learn pipeline
    ``Pipeline([("sampler", "passthrough"), ("clf", CNNClassifier(...))])``:
    one dict per strategy, each starting from the plain settings (no sampler,
    ``class_weight=None``, ``criterion="cross_entropy"``) and changing only
    what makes the strategy. See :data:`STRATEGIES` for the names.

    Parameters
    ----------
    strategies : "all", str, list of str or dict, default="all"
        Which strategies, by name, in the order given. A dict maps names to
        parameter dicts (or lists of them) for strategies of your own, such as
        ``{"smote": {"sampler": SMOTE()}}``; a value ``None`` takes the
        built-in strategy of that name. Values in a parameter dict may be
        single settings or lists to search. ``"all"`` is every built-in
        strategy but ``"vs"`` and ``"autobalance"``, which run only when
        named; it includes ``"threshold_tuning"`` only when ``estimator``
        is given.
    estimator : classifier, default=None
        The pipeline's classifier. Needed only for ``"threshold_tuning"``,
        whose candidate replaces the ``clf`` step by
        :class:`~sklearn.model_selection.TunedThresholdClassifierCV` wrapped
        around a plain copy of ``estimator``.
    pos_label : int, str or None, default=None
        Positive class of the F1 score that ``"threshold_tuning"`` maximises;
        ``None`` is scikit-learn's default, 1.
    random_state : int or None, default=None
        Seeds the samplers and the threshold-tuning hold-out split.

    Returns
    -------
    param_grid : list of dict
        One dict per strategy, every value a list, ready for ``GridSearchCV``.

    Raises
    ------
    ValueError
        For an unknown or repeated name, or ``"threshold_tuning"`` without
        ``estimator``.

    See Also
    --------
    compare_strategies : Run the search and tabulate the results.

    Notes
    -----
    ``"threshold_tuning"`` is binary only. Its candidate trains twice per
    fold: once on 75% of the training fold, to choose the threshold that
    maximises F1 on the other 25%, and once on the whole training fold
    (``refit=True``). ``refit=False`` would not be cheaper: scikit-learn then
    trains the 75% model twice.

    ``"ldam_drw"`` sets the classifier's ``callbacks`` to a
    :class:`~skimbal.callbacks.DeferredReweighting`, replacing any callbacks
    the classifier had. ``"balanced_batches"`` needs a classifier with a
    ``balanced_batches`` parameter, such as :class:`~skimbal.CNNClassifier`.

    With ``tau=1``, logit-adjusted and balanced-softmax cross-entropy are the
    same loss (adding ``log n_c`` or ``log(n_c / n)`` to the logits gives the
    same softmax), so ``"balanced_softmax"`` is that case and
    ``"logit_adjusted"`` searches ``tau`` in (0.5, 2) around it.
    ``"undersample"`` trains on far fewer samples, so with a fixed number of
    epochs it also takes far fewer optimisation steps;
    :func:`compare_strategies` therefore gives every strategy the same number
    of steps.

    Examples
    --------
    >>> from skimbal.model_selection import strategy_grid
    >>> grid = strategy_grid(["plain", "oversample", "focal"], random_state=0)
    >>> grid[1]["sampler"]
    [RandomOverSampler(random_state=0)]
    >>> grid[2]["clf__criterion__gamma"]
    [1.0, 2.0, 5.0]
    >>> strategy_grid("focul")
    Traceback (most recent call last):
    ...
    ValueError: Unknown strategy 'focul'. Did you mean 'focal'? ...
    """
    named = named_strategy_grid(
        strategies, estimator=estimator, pos_label=pos_label, random_state=random_state
    )
    return [grid for _, grids in named for grid in grids]


def named_strategy_grid(
    strategies="all", *, estimator=None, pos_label=None, random_state=None
):
    """:func:`strategy_grid`, keeping each strategy's name with its dicts.

    Parameters
    ----------
    strategies : "all", str, list of str or dict, default="all"
        As in :func:`strategy_grid`.
    estimator : classifier, default=None
        As in :func:`strategy_grid`.
    pos_label : int, str or None, default=None
        As in :func:`strategy_grid`.
    random_state : int or None, default=None
        As in :func:`strategy_grid`.

    Returns
    -------
    named : list of (str, list of dict)
        In the order of ``strategies``; each dict has list values.
    """
    requested = _requested(strategies, include_threshold=estimator is not None)
    named = []
    for name, params in requested:
        if params is None and name == THRESHOLD_TUNING:
            grids = [_threshold_tuning_grid(estimator, pos_label, random_state)]
        else:
            custom = params if params is not None else _PARAMS[name]
            grids = [
                _as_grid({**_PLAIN, **_seeded(p, random_state)})
                for p in (custom if isinstance(custom, list) else [custom])
            ]
        named.append((name, grids))
    return named


def _requested(strategies, *, include_threshold):
    """Normalise ``strategies`` to a list of (name, custom params or None)."""
    if isinstance(strategies, str) and strategies == "all":
        names = [*IN_ALL, *([THRESHOLD_TUNING] if include_threshold else [])]
        return [(name, None) for name in names]
    if isinstance(strategies, str):
        strategies = [strategies]
    if isinstance(strategies, dict):
        items = list(strategies.items())
    else:
        try:
            items = [(name, None) for name in strategies]
        except TypeError:
            items = None
    if not items:
        raise ValueError(
            "strategies must be 'all', a strategy name, a non-empty list of names "
            f"or a dict of name -> parameters; got strategies={strategies!r}."
        )
    seen = set()
    for name, params in items:
        if not isinstance(name, str):
            raise ValueError(f"Strategy names must be strings; got {name!r}.")
        if name in seen:
            raise ValueError(f"Strategy {name!r} is named twice in strategies.")
        seen.add(name)
        if params is None:
            check_strategy_name(name)
            if name == THRESHOLD_TUNING and not include_threshold:
                raise ValueError(
                    "'threshold_tuning' needs the classifier to wrap: pass "
                    "estimator=<your classifier>."
                )
        elif not _is_param_dicts(params):
            raise ValueError(
                f"The parameters of strategy {name!r} must be a dict (or a list of "
                f"dicts) of pipeline parameters; got {params!r}."
            )
    return items


def _is_param_dicts(params):
    if isinstance(params, dict):
        return all(isinstance(key, str) for key in params)
    return (
        isinstance(params, list)
        and len(params) > 0
        and all(isinstance(p, dict) for p in params)
    )


def _seeded(params, random_state):
    """Fresh copies of sampler/callback templates, seeded with random_state."""
    seeded = {}
    for key, value in params.items():
        if key == "sampler" and hasattr(value, "get_params"):
            value = clone(value)
            if value.get_params().get("random_state", 0) is None:
                value.set_params(random_state=random_state)
        elif (
            key == "clf__callbacks"
            and isinstance(value, list)
            and all(isinstance(item, tuple) for item in value)
        ):
            # A list of (name, callback) pairs is one setting, not candidates.
            value = [[(name, clone(callback)) for name, callback in value]]
        seeded[key] = value
    return seeded


def _as_grid(params):
    return {key: v if isinstance(v, list) else [v] for key, v in params.items()}


def _threshold_tuning_grid(estimator, pos_label, random_state):
    plain = clone(estimator)
    accepted = plain.get_params()
    reset = {
        key.removeprefix("clf__"): value
        for key, value in _PLAIN.items()
        if key.removeprefix("clf__") in accepted
    }
    plain.set_params(**reset)
    scoring = "f1" if pos_label is None else make_scorer(f1_score, pos_label=pos_label)
    tuned = TunedThresholdClassifierCV(
        plain,
        scoring=scoring,
        cv=THRESHOLD_HOLDOUT,
        refit=True,
        random_state=random_state,
    )
    return {"sampler": ["passthrough"], "clf": [tuned]}
