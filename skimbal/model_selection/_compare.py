"""compare_strategies: every imbalance strategy, scored on the same folds."""

import inspect
import numbers

import numpy as np
from imblearn.pipeline import Pipeline
from sklearn.base import clone
from sklearn.model_selection import (
    ParameterGrid,
    RepeatedStratifiedKFold,
    StratifiedKFold,
    check_cv,
)
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_consistent_length, column_or_1d

from .. import __version__
from .._feature_cache import check_feature_memory
from ..metrics import check_class_prior, describe_class_prior, minority_class
from ._backend import check_backend, parallel_backend
from ._budget import step_budget
from ._default_estimator import default_classifier
from ._evaluation import score_candidates
from ._final_model import final_models
from ._fits import chunk_size_for, holdout_splits, progress_bar, run_fits
from ._predictions import predictions_to_plot
from ._report import StrategyReport
from ._scoring import table_scorers
from ._selection import ALPHA, TIE_TOLERANCE, rank_strategies, test_and_choose
from ._shared_features import shared_feature_table
from ._strategies import THRESHOLD_TUNING, _requested, named_strategy_grid
from ._validation import check_folds

__all__ = ["compare_strategies"]


def compare_strategies(
    X,
    y,
    estimator=None,
    strategies="all",
    cv=5,
    scoring=None,
    pos_label=None,
    n_jobs=None,
    backend=None,
    random_state=None,
    *,
    class_prior="balanced",
    n_repeats=1,
    tune_threshold=True,
    refit=True,
    ensemble=True,
    alpha=ALPHA,
    tie_tolerance=TIE_TOLERANCE,
    scheduler=None,
    progress=False,
    predictions=True,
    memory=None,
):
    """Cross-validate every imbalance strategy on the same folds; hand back the best.

    Each strategy is a setting of ``Pipeline([("sampler", ...), ("clf",
    estimator)])`` (see :func:`strategy_grid`). Every candidate is trained
    on the same splits with the same seeds, and each fit returns its
    predicted probabilities; thresholds, scores, t-tests and plots are all
    computed from those. Samplers sit inside the pipeline, which
    imbalanced-learn applies at ``fit`` only: test folds are never
    resampled.

    What each fit does (binary y, ``tune_threshold=True``): it trains on its
    whole training fold and predicts its test fold. Its decision threshold
    is the one that maximises F1 at ``class_prior`` (:func:`f1_threshold`)
    over the *other* folds' out-of-fold probabilities, each from a model
    that never saw them; it is scored on its test fold at that threshold,
    and at 0.5 beside it. The threshold never sees the fold that scores it,
    yet rests on all the rare samples of the training fold rather than the
    few of a hold-out, and it is chosen as the returned model's threshold
    is (see "The model" below), so the table scores that very procedure.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Flat pixel rows, or a one-column table of image paths.
    y : array-like of shape (n_samples,)
        Class labels (ints, strings, ...).
    estimator : classifier, default=None
        The classifier the strategies modify; it should keep its loss, class
        weight and sampling settings at their defaults. ``None`` is a
        :class:`~skimbal.CNNClassifier` seeded with ``random_state`` whose
        ``input_shape`` is guessed from the row width: ``(1, s, s)`` for
        ``s * s`` features, ``(3, s, s)`` for ``3 * s * s``. On pixel images
        at least 16 pixels a side it augments them with a random affine map
        (``augment=True``) and trains about 1,000 steps (up to 40 epochs)
        rather than 10 epochs (see ``_default_estimator``); on MNIST at
        1:100 that lifted the returned model's test F1 (``benchmarks/README.md``,
        "Trusted model"). A
        :class:`~skimbal.CNNClassifier` without early stopping trains for a
        budget of optimisation *steps*, the same for every strategy:
        ``max_epochs`` epochs over an un-resampled training set (at least
        its ``min_steps``), however many rows a sampler adds or removes.
    strategies : "all", str, list of str or dict, default="all"
        Strategy names (see :data:`STRATEGIES`), or a dict adding your own, as
        in :func:`strategy_grid`. ``"threshold_tuning"`` is not accepted
        here: every strategy's threshold is tuned, so the ``plain`` row is
        threshold tuning.
    cv : int or cross-validation splitter, default=5
        An int is a :class:`~sklearn.model_selection.StratifiedKFold` with
        shuffling (:class:`~sklearn.model_selection.RepeatedStratifiedKFold`
        with ``n_repeats > 1``), seeded with ``random_state``.
    scoring : str or callable, default=None
        The metric that ranks strategies: one of the table's metrics
        (``"f1"``, ``"precision"``, ``"recall"``, ``"balanced_accuracy"``,
        ``"average_precision"``), another scikit-learn scorer name (scored
        at ``class_prior``, added as a column), or a scorer callable (added
        as column ``"score"``, called on the thresholded model). ``None`` is
        ``"f1"`` (macro-F1 for multi-class y).
    pos_label : int, str or None, default=None
        The positive class of F1, precision, recall and average precision in a
        binary problem. ``None`` is the minority class (on a tie, the later
        label in sorted order), which the lecture makes positive. Must be
        ``None`` for multi-class y, where the metrics are macro averages.
    n_jobs : int or None, default=None
        Fits run in parallel (joblib's meaning: ``-1`` uses every core). Each
        worker process trains with its share of the cores. With
        ``backend="dask"`` and no ``scheduler``, the number of worker
        processes of the local cluster (``None``: one per core); with a
        ``scheduler``, every worker of that cluster takes part.
    backend : {None, "loky", "threading", "dask"}, default=None
        joblib backend for the fits; ``None`` is joblib's default (loky
        processes). ``"dask"`` (needs ``pip install "skimbal[distributed]"``)
        starts a local Dask cluster of single-threaded worker processes, or
        connects to ``scheduler``. When a Dask worker dies, its fits run again
        on the others and the result is the same.
    random_state : int, RandomState instance or None, default=None
        Seeds the folds, the samplers and the default estimator.
    class_prior : "balanced", "train", float or dict, default="balanced"
        The class proportions every score, threshold and choice is made at
        (see :func:`skimbal.metrics.class_prior_weights`): ``"balanced"``
        scores as if every class were equally frequent (the lecture's
        balanced validation set), ``"train"`` at the data's own proportions
        (what cross-validation folds have), a float the positive class's
        share (binary), a dict label -> share. Binary problems also get the
        column ``f1_train_prior``: F1 at the training proportions with a
        threshold tuned for them.
    n_repeats : int, default=1
        Repeats of the k-fold cross-validation with new folds; more repeats
        give the t-tests more power (Bouckaert & Frank, 2004).
    tune_threshold : bool, default=True
        Binary y: tune each fit's threshold on the other folds' out-of-fold
        probabilities. ``False`` predicts the most probable class.
    refit : bool, default=True
        Hand back the chosen strategy's model as ``report.best_estimator_``
        (see ``ensemble`` for which model).
    ensemble : bool, default=True
        With ``refit``: ``True`` hands back the chosen strategy's fold
        models of the comparison itself, their probabilities averaged
        (:class:`FoldEnsembleClassifier`): no further training, and the
        threshold was chosen on exactly these models' out-of-fold
        probabilities. Every strategy's ensemble is then in
        ``report.estimators_``. It keeps every fit's model in memory until
        the choice is made (about 50 models with the defaults), and
        predicting costs one forward pass per fold. ``False`` trains the
        chosen strategy once more on all of X, y (one model, one more fit),
        with the same threshold, which was chosen for models trained on a
        fold less (see Notes).
    alpha : float, default=0.05
        Significance level of the t-tests in the table.
    tie_tolerance : float, default=0.01
        How much mean score the choice gives up for a simpler strategy that
        is statistically tied with the best (see Notes).
    scheduler : str or None, default=None
        Address of a running Dask scheduler (``"tcp://host:8786"``), with
        ``backend="dask"``. The cluster is left running.
    progress : bool, default=False
        Show a progress bar (on stderr) counting the fits: one per candidate
        and split, plus the final refit (``ensemble=False``).
    predictions : bool, default=True
        Keep the out-of-fold predictions (first repeat) of the chosen,
        top-scoring and plain strategies in the report, for its
        precision-recall curves and confusion matrices. They cost no fits.
    memory : None, str, os.PathLike or joblib.Memory, default=None
        Where the features of a frozen backbone are also kept on disk (a
        folder, or a ``joblib.Memory``), so that another comparison on the
        same images with the same body reads them rather than computing
        them. Whatever this is, a :class:`~skimbal.CNNClassifier` whose
        network has a frozen body (``module__freeze=True``; see its
        ``feature_cache``) gets its body's features computed once, before
        any fit, for every distinct image of X, without labels, and every
        candidate and fold trains and scores only the head on them: the
        same results, to float precision, as running the whole network
        in each fit, at the cost of about one pass over the images.

    Returns
    -------
    report : StrategyReport
        ``table`` (one row per strategy, best first), ``candidates``,
        ``best_strategy_`` (the chosen one), ``best_estimator_``,
        ``split_scores``, plots and ``save``.

    Raises
    ------
    ValueError
        For invalid arguments (before any training), or when every
        candidate fails to fit. A candidate that fails in some splits shows
        up with NaN scores and the error in its ``note``.
    ImportError
        For ``backend="dask"`` without Dask distributed installed.
    ConnectionError
        When no Dask scheduler answers at ``scheduler`` (within 10 s).

    See Also
    --------
    strategy_grid : The parameter grid behind the comparison.
    StrategyReport : What this returns.
    corrected_ttest : The test behind ``tied_with_best`` and ``beats_plain``.

    Notes
    -----
    **Thresholds.** A network trained on rare positives often ranks them
    well but rarely pushes their probability past 0.5, so F1 at 0.5 can be
    0 while average precision is near 1. Every strategy's table row is
    therefore at its tuned threshold (column ``threshold``: the mean over
    splits), with ``f1_at_0.5`` beside it.

    **Ties and the choice.** ``tied_with_best`` is a one-sided corrected
    resampled t-test (Nadeau & Bengio, 2003) of the best strategy against
    each other one, on the ranking metric's per-split scores;
    ``beats_plain`` tests each strategy against ``plain``. The strategy
    handed back (``best_strategy_``) is the simplest one, in the order of
    :data:`STRATEGIES` (custom strategies after the built-in ones), that is
    tied with the best *and* within ``tie_tolerance`` of its mean; with few
    folds and few rare samples the test alone rarely separates anything.

    **The model.** ``best_estimator_`` is the chosen strategy's pipelines,
    sampler included, one per training fold (``ensemble=True``) or one
    trained on all data (``ensemble=False``), inside a
    :class:`~sklearn.model_selection.FixedThresholdClassifier` whose
    threshold maximises F1 at ``class_prior`` over the chosen strategy's
    pooled out-of-fold test probabilities (binary y; multi-class y gets the
    model itself). Why the fold models by default: with few rare samples a
    model trained on all of them scores unseen samples on another scale
    than the fold models whose out-of-fold probabilities placed the
    threshold (on MNIST at 1:100 a refit lost up to 0.06 test F1 at that
    threshold; their average kept it).

    Standard deviations are over the splits (``ddof=0``).

    Examples
    --------
    >>> from skimbal import CNNClassifier
    >>> from skimbal.datasets import load_digits_images, make_imbalanced
    >>> from skimbal.model_selection import compare_strategies
    >>> X, y = load_digits_images(return_X_y=True)
    >>> X, y = make_imbalanced(X[:600], y[:600], ratio=10,
    ...                        positive=[1, 3, 5, 7, 9], random_state=0)
    >>> clf = CNNClassifier(input_shape=(1, 8, 8), max_epochs=2, min_steps=20,
    ...                     module__filters=(4,), random_state=0)
    >>> report = compare_strategies(X, y, clf, strategies=["plain", "oversample"],
    ...                             cv=2, random_state=0)
    >>> list(report.table.columns[:4])
    ['f1_mean', 'f1_std', 'f1_at_0.5_mean', 'f1_at_0.5_std']
    >>> report.metadata["class_prior_text"]
    'as if class 0 and class 1 were equally frequent'
    >>> report.best_estimator_.predict(X[:3])
    array([0, 0, 0])
    """
    check_backend(backend, scheduler)
    y = column_or_1d(y, warn=True)
    check_consistent_length(X, y)
    check_classification_targets(y)
    classes, counts = np.unique(y, return_counts=True)
    if len(classes) < 2:
        raise ValueError(
            f"y must hold at least 2 classes to compare strategies; got "
            f"{classes.tolist()!r}."
        )
    binary = len(classes) == 2
    pos_label = resolve_pos_label(y, pos_label)
    class_prior = check_class_prior(class_prior, classes, pos_label=pos_label)
    _check_options(n_repeats, alpha, tie_tolerance, tune_threshold, refit, ensemble, cv)
    memory = check_feature_memory(memory)
    scorers, rank_metric = table_scorers(binary, pos_label, class_prior, scoring)
    tune = bool(tune_threshold) and binary
    clf = _base_classifier(estimator, X, random_state)
    outer = _splits(cv, n_repeats, X, y, random_state)
    check_folds(outer, y)
    # No hold-out: a fit's threshold comes from the other folds (see
    # other_folds_threshold), so every fit trains on its whole training fold.
    splits = holdout_splits(outer, y, 0, random_state)
    named = _strategies_for(strategies, pos_label, random_state)
    candidates = [
        (name, params) for name, grids in named for params in _param_list(grids)
    ]
    n_fit = int(np.mean([len(split.fit) for split in splits]))
    budget = step_budget(clf, n_fit)
    pipeline = Pipeline(
        [("sampler", "passthrough"), ("clf", clone(clf).set_params(**budget))]
    )
    n_splits = len(splits)
    # A frozen body's features, once for every fit (no label is used).
    feature_table = shared_feature_table(
        pipeline.named_steps["clf"], X, classes, memory
    )
    # The fold models are the model handed back: keep them until the choice.
    keep_models = bool(refit and ensemble)
    with progress_bar(
        progress, total=len(candidates) * n_splits + (refit and not ensemble)
    ) as bar:
        with parallel_backend(
            backend,
            n_jobs=n_jobs,
            scheduler=scheduler,
            # Every fit needs X, y and its rows: on Dask, sent once to all.
            scatter=[X, y, *splits]
            + ([] if feature_table is None else [feature_table]),
        ) as jobs:
            results = run_fits(
                pipeline,
                [params for _, params in candidates],
                X,
                y,
                splits,
                n_jobs=jobs,
                on_progress=lambda n_done: bar.update(n_done * n_splits),
                # Without a bar, one chunk: no worker waits for a chunk's
                # slowest fit before the next chunk starts.
                chunk_size=chunk_size_for(jobs, n_splits) if progress else None,
                keep_models=keep_models,
                feature_table=feature_table,
            )
        if all(fit.error for fits in results for fit in fits):
            raise ValueError(
                "Every candidate failed to fit: "
                + "; ".join(
                    dict.fromkeys(fit.error for fits in results for fit in fits)
                )
            )
        evaluation = score_candidates(
            results,
            splits,
            n_repeats,
            y,
            classes,
            scorers,
            pos_label,
            class_prior,
            tune,
        )
        ranking = rank_strategies(evaluation, candidates, named, rank_metric, splits)
        table, chosen = test_and_choose(
            ranking, splits, rank_metric, alpha, tie_tolerance
        )
        unfitted, fitted, thresholds = final_models(
            table,
            results,
            candidates,
            pipeline if ensemble else clf,
            splits,
            y,
            classes,
            pos_label,
            class_prior,
            tune,
            rank_metric,
            ensemble=ensemble,
            keep_models=keep_models,
        )
        best_estimator = None
        if refit and ensemble:
            best_estimator = fitted[chosen]
        elif refit:
            best_estimator = clone(unfitted[chosen]).fit(X, y)
            bar.update(1)

    oof = {}
    if predictions:
        oof = predictions_to_plot(
            table,
            results,
            evaluation,
            splits[: len(outer) // n_repeats],
            [chosen, table.index[0], "plain"],
            y,
            classes,
            pos_label,
            rank_metric,
        )
    metadata = {
        "strategies": [name for name, _ in named],
        "best_strategy": chosen,
        "top_strategy": table.index[0],
        "scoring": rank_metric,
        "metrics": [c[: -len("_mean")] for c in table.columns if c.endswith("_mean")],
        "pos_label": _python_scalar(pos_label),
        "labels": [_python_scalar(c) for c in classes],
        "class_counts": counts.tolist(),
        "n_samples": int(len(y)),
        "class_prior": _json_prior(class_prior),
        "class_prior_text": describe_class_prior(
            class_prior, classes, pos_label=pos_label
        ),
        "cv": len(outer) // n_repeats,
        "n_repeats": n_repeats,
        "n_splits": n_splits,
        "tune_threshold": tune,
        "final_model": (
            None
            if not refit
            else f"fold ensemble ({n_splits} models)"
            if ensemble
            else "refit on all data"
        ),
        "threshold_source": "other folds" if tune else None,
        "threshold": thresholds[chosen] if tune else None,
        "thresholds": thresholds if tune else None,
        "steps_per_fit": budget.get("min_steps"),
        "alpha": alpha,
        "tie_tolerance": tie_tolerance,
        "n_candidates": len(candidates),
        "shared_features": None
        if feature_table is None
        else {
            "n_images": len(feature_table),
            "shape": list(feature_table.features.shape[1:]),
            "megabytes": round(feature_table.nbytes / 2**20, 1),
        },
        "estimator": _describe_estimator(clf),
        "backend": backend,
        "n_jobs": n_jobs,
        "random_state": random_state
        if random_state is None or isinstance(random_state, numbers.Integral)
        else repr(random_state),
        "notes": [
            f"{name}: {table.loc[name, 'note'] or 'no finite score'}"
            for name in table.index[~np.isfinite(table[f"{rank_metric}_mean"])]
        ],
        "skimbal_version": __version__,
    }
    learned = _learned_loss_params(table, results)
    if learned:
        metadata["learned_loss_params"] = learned
    return StrategyReport(
        table,
        ranking["candidates"],
        metadata=metadata,
        y_true=y,
        predictions=oof,
        split_scores=ranking["split_scores"],
        best_estimator=best_estimator,
        estimators=unfitted,
        fitted_estimators=fitted,
    )


def _check_options(
    n_repeats, alpha, tie_tolerance, tune_threshold, refit, ensemble, cv
):
    if (
        isinstance(n_repeats, bool)
        or not isinstance(n_repeats, numbers.Integral)
        or n_repeats < 1
    ):
        raise ValueError(f"n_repeats must be an int >= 1; got n_repeats={n_repeats!r}.")
    if n_repeats > 1 and not isinstance(cv, numbers.Integral):
        raise ValueError(
            "n_repeats > 1 needs cv to be a number of folds; for a splitter of "
            "your own, pass a repeated one (e.g. RepeatedStratifiedKFold) as cv "
            f"and keep n_repeats=1. Got cv={cv!r}, n_repeats={n_repeats!r}."
        )
    if (
        isinstance(alpha, bool)
        or not isinstance(alpha, numbers.Real)
        or not (0 < alpha < 1)
    ):
        raise ValueError(f"alpha must be a float in (0, 1); got alpha={alpha!r}.")
    if (
        isinstance(tie_tolerance, bool)
        or not isinstance(tie_tolerance, numbers.Real)
        or not tie_tolerance >= 0
    ):
        raise ValueError(
            "tie_tolerance must be a number >= 0 (a gap in mean score); got "
            f"tie_tolerance={tie_tolerance!r}."
        )
    for name, value in (
        ("tune_threshold", tune_threshold),
        ("refit", refit),
        ("ensemble", ensemble),
    ):
        if not isinstance(value, bool | np.bool_):
            raise ValueError(f"{name} must be True or False; got {name}={value!r}.")


def _strategies_for(strategies, pos_label, random_state):
    """The named grids to search."""
    names = [strategies] if isinstance(strategies, str) else strategies
    if isinstance(names, list | tuple | dict) and THRESHOLD_TUNING in names:
        raise ValueError(
            "strategies: 'threshold_tuning' is not a separate strategy in "
            "compare_strategies: every strategy's decision threshold is tuned, so "
            "the 'plain' row is threshold tuning. Remove it from strategies."
        )
    requested = _requested(strategies, include_threshold=False)
    return named_strategy_grid(
        dict(requested), pos_label=pos_label, random_state=random_state
    )


def _param_list(grids):
    return list(ParameterGrid(grids))


def _learned_loss_params(table, results):
    """Strategy -> loss parameters its shown candidate learned, mean over splits.

    Only strategies whose fits learned loss parameters (AutoBalance) appear.
    """
    learned = {}
    for name in table.index:
        candidate = table.loc[name, "candidate"]
        if not np.isfinite(candidate):
            continue
        fits = [fit.learned for fit in results[int(candidate)] if fit.learned]
        if fits:
            learned[name] = {
                key: np.mean([fit[key] for fit in fits], axis=0).round(4).tolist()
                for key in fits[0]
            }
    return learned


def _json_prior(prior):
    if isinstance(prior, dict):
        return {str(_python_scalar(k)): float(v) for k, v in prior.items()}
    return prior


def resolve_pos_label(y, pos_label):
    """The positive class: ``pos_label`` checked against y, or the minority.

    Parameters
    ----------
    y : ndarray of shape (n_samples,)
        Class labels.
    pos_label : label or None
        ``None`` picks the least frequent label (on a tie, the later one in
        sorted order) for binary y, and stays ``None`` for multi-class y.

    Returns
    -------
    pos_label : label or None
        The positive class as a Python scalar; ``None`` for multi-class y.

    Examples
    --------
    >>> import numpy as np
    >>> from skimbal.model_selection._compare import resolve_pos_label
    >>> resolve_pos_label(np.array(["cat", "dog", "dog"]), None)
    'cat'
    """
    classes, counts = np.unique(y, return_counts=True)
    if len(classes) > 2:
        if pos_label is not None:
            raise ValueError(
                f"pos_label={pos_label!r} applies to binary problems only; y has "
                f"{len(classes)} classes, scored with macro averages. Use "
                "pos_label=None."
            )
        return None
    if pos_label is None:
        return minority_class(y)  # on a tie, the later label
    matches = [c for c in classes if c == pos_label]
    if not matches:
        raise ValueError(
            f"pos_label={pos_label!r} is not a label of y; the labels are "
            f"{[_python_scalar(c) for c in classes]!r}."
        )
    return _python_scalar(matches[0])


def _base_classifier(estimator, X, random_state):
    if estimator is None:
        return default_classifier(X, random_state)
    if not hasattr(estimator, "fit") or not hasattr(estimator, "predict"):
        raise ValueError(
            "estimator must be a classifier with fit and predict (the pipeline's "
            f"'clf' step); got {estimator!r}."
        )
    clf = clone(estimator)
    # Balanced batches is a strategy of its own, not a setting of the others.
    if bool(clf.get_params().get("balanced_batches", False)):
        clf.set_params(balanced_batches=False)
    return clf


def _splits(cv, n_repeats, X, y, random_state):
    if isinstance(cv, numbers.Integral) and not isinstance(cv, bool):
        if cv < 2:
            raise ValueError(f"cv must be at least 2 folds; got cv={cv!r}.")
        if n_repeats > 1:
            cv = RepeatedStratifiedKFold(
                n_splits=cv, n_repeats=n_repeats, random_state=random_state
            )
        else:
            cv = StratifiedKFold(cv, shuffle=True, random_state=random_state)
    splitter = check_cv(cv, y, classifier=True)
    # Materialised once, so that every candidate uses the very same folds even
    # when the splitter is unseeded.
    return list(splitter.split(X, y))


def _describe_estimator(estimator):
    """``Name(param=value, ...)`` with the parameters that differ from default."""
    defaults = {
        name: p.default
        for name, p in inspect.signature(type(estimator).__init__).parameters.items()
    }
    changed = []
    for name, value in estimator.get_params(deep=False).items():
        default = defaults.get(name, inspect.Parameter.empty)
        if default is not inspect.Parameter.empty and _same(value, default):
            continue
        text = value.__name__ if isinstance(value, type) else repr(value)
        changed.append(f"{name}={text}")
    return f"{type(estimator).__name__}({', '.join(changed)})"


def _same(value, default):
    try:
        return bool(value is default or value == default)
    except Exception:  # e.g. arrays, whose == is elementwise
        return False


def _python_scalar(value):
    return value.item() if isinstance(value, np.generic) else value
