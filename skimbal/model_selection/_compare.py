"""compare_strategies: one cross-validated search over the imbalance strategies."""

import contextlib
import functools
import inspect
import math
import numbers
import warnings

import joblib
import numpy as np
import pandas as pd
from imblearn.pipeline import Pipeline
from sklearn.base import clone
from sklearn.exceptions import FitFailedWarning
from sklearn.metrics import (
    average_precision_score,
    f1_score,
    get_scorer,
    get_scorer_names,
    make_scorer,
    precision_score,
    recall_score,
)
from sklearn.model_selection import (
    GridSearchCV,
    ParameterGrid,
    StratifiedKFold,
    check_cv,
)
from sklearn.utils import _safe_indexing
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.parallel import Parallel, delayed
from sklearn.utils.validation import check_consistent_length, column_or_1d

from .. import __version__
from ._backend import check_backend, parallel_backend, retry_lost_work
from ._report import METRICS, StrategyReport
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
    scheduler=None,
    progress=False,
    predictions=True,
):
    """Cross-validate every imbalance strategy on the same folds and tabulate.

    All strategies run as candidates of one
    :class:`~sklearn.model_selection.GridSearchCV` over
    ``Pipeline([("sampler", ...), ("clf", estimator)])`` (see
    :func:`strategy_grid`), so they share the folds and the seeds, and the
    report's numbers are the search's ``cv_results_``. Samplers sit inside
    the pipeline, which imbalanced-learn applies at ``fit`` only: test folds
    are never resampled.

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
        ``s * s`` features, ``(3, s, s)`` for ``3 * s * s``.
    strategies : "all", str, list of str or dict, default="all"
        Strategy names (see :data:`STRATEGIES`), or a dict adding your own, as
        in :func:`strategy_grid`. ``"threshold_tuning"`` is skipped, with a
        note, when y has more than two classes.
    cv : int or cross-validation splitter, default=5
        An int is a :class:`~sklearn.model_selection.StratifiedKFold` with
        shuffling, seeded with ``random_state``.
    scoring : str or callable, default=None
        The metric that ranks candidates and strategies: one of the table's
        metrics (``"f1"``, ``"precision"``, ``"recall"``,
        ``"balanced_accuracy"``, ``"average_precision"``), another
        scikit-learn scorer name (added as a column), or a scorer callable
        (added as column ``"score"``). ``None`` is ``"f1"``.
    pos_label : int, str or None, default=None
        The positive class of F1, precision, recall and average precision in a
        binary problem. ``None`` is the minority class (on a tie, the later
        label in sorted order), which the lecture makes positive. Must be
        ``None`` for multi-class y, where the metrics are macro averages.
    n_jobs : int or None, default=None
        Fits run in parallel (joblib's meaning: ``-1`` uses every core). Each
        worker process trains with its share of the cores (PyTorch threads:
        cores // ``n_jobs``), so more jobs finish sooner. With
        ``backend="dask"`` and no ``scheduler``, the number of worker
        processes of the local cluster (``None``: one per core); with a
        ``scheduler``, every worker of that cluster takes part.
    backend : {None, "loky", "threading", "dask"}, default=None
        joblib backend for the fits; ``None`` is joblib's default (loky
        processes). ``"dask"`` (needs ``pip install "skimbal[distributed]"``)
        starts a local Dask cluster of single-threaded worker processes, or
        connects to ``scheduler``; PyTorch on each worker then gets its share
        of its machine's cores. When a Dask worker dies, its fits run again
        on the others and the result is the same. With ``"threading"``,
        seeded fits of one process take turns (they share torch's global
        random state), so threads give reproducible numbers but no speed-up.
    random_state : int, RandomState instance or None, default=None
        Seeds the folds, the samplers and the default estimator.
    scheduler : str or None, default=None
        Address of a running Dask scheduler (``"tcp://host:8786"``), with
        ``backend="dask"``. The cluster is left running.
    progress : bool, default=False
        Show a progress bar (on stderr) counting the model fits: one per
        candidate and fold (threshold tuning's two trainings per fold count as
        one), then the re-fits for ``predictions``. It advances each time a
        group of candidates has finished all its folds (a group keeps every
        worker busy: with ``n_jobs=2`` and 5 folds, 2 candidates).
    predictions : bool, default=True
        Whether to re-fit the best and the plain strategy on the same folds
        for out-of-fold predictions, which the precision-recall curves and
        confusion matrices need (up to ``2 * cv`` more fits).

    Returns
    -------
    report : StrategyReport
        ``table`` (one row per strategy, best first), ``candidates``,
        ``best_strategy_``, plots and ``save``.

    Raises
    ------
    ValueError
        For invalid arguments, or when every candidate fails to fit. A
        candidate that fails in some folds or all of them shows up in the
        report with NaN scores and the error in its ``note``.
    ImportError
        For ``backend="dask"`` without Dask distributed installed.
    ConnectionError
        When no Dask scheduler answers at ``scheduler`` (within 10 s).

    See Also
    --------
    strategy_grid : The parameter grid behind the comparison.
    StrategyReport : What this returns.

    Notes
    -----
    For a strategy with several candidates (``"focal"`` tries 6) the table
    shows the candidate with the best mean ``scoring``, chosen on the same
    folds it is scored on: like ``GridSearchCV.best_score_``, slightly
    optimistic for strategies with many candidates (column ``n_candidates``).

    Standard deviations are over the folds, as in ``cv_results_``
    (``ddof=0``). Average precision needs ``predict_proba``; in a multi-class
    problem it is the macro average of one-vs-rest average precisions.

    The precision-recall curves and confusion matrices use out-of-fold
    predictions of the best strategy and of ``"plain"``, made by training
    them again on the same folds with the same seeds (up to ``2 * cv`` extra
    fits, reproducing the search's models; ``predictions=False`` skips them).

    Examples
    --------
    >>> from skimbal import CNNClassifier
    >>> from skimbal.datasets import load_digits_images, make_imbalanced
    >>> from skimbal.model_selection import compare_strategies
    >>> X, y = load_digits_images(return_X_y=True)
    >>> X, y = make_imbalanced(X[:600], y[:600], ratio=10,
    ...                        positive=[1, 3, 5, 7, 9], random_state=0)
    >>> clf = CNNClassifier(input_shape=(1, 8, 8), max_epochs=2,
    ...                     module__filters=(4,), random_state=0)
    >>> report = compare_strategies(X, y, clf, strategies=["plain", "oversample"],
    ...                             cv=2, random_state=0)
    >>> list(report.table.columns[:4])
    ['f1_mean', 'f1_std', 'precision_mean', 'precision_std']
    >>> report.metadata["pos_label"]
    1
    >>> report.best_strategy_
    'oversample'
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
    pos_label = resolve_pos_label(y, pos_label)
    scorers = _scorers(len(classes) == 2, pos_label)
    rank_metric = _add_ranking_scorer(scoring, scorers)
    clf = _base_classifier(estimator, X, random_state)
    splits = _splits(cv, X, y, random_state)
    check_folds(splits, y)
    named, notes = _strategies_for(strategies, classes, clf, pos_label, random_state)
    candidates = [
        (name, params) for name, grids in named for params in ParameterGrid(grids)
    ]
    pipeline = Pipeline([("sampler", "passthrough"), ("clf", clf)])
    n_splits = len(splits)
    # The plots' re-fits (best and plain) are counted in advance; the total
    # shrinks again when the best strategy is plain itself.
    n_refits = (1 + any(name == "plain" for name, _ in named)) if predictions else 0
    with (
        _progress_bar(progress, total=(len(candidates) + n_refits) * n_splits) as bar,
        parallel_backend(
            backend,
            n_jobs=n_jobs,
            scheduler=scheduler,
            # Every fit needs X, y and its fold: on Dask, sent once to all.
            scatter=[X, y, *(indices for split in splits for indices in split)],
        ) as jobs,
    ):
        search = _ChunkedGridSearchCV(
            pipeline,
            [grid for _, grids in named for grid in grids],
            scoring=scorers,
            cv=splits,
            n_jobs=jobs,
            # Without a bar, one chunk: no worker waits for a chunk's slowest
            # fit before the next chunk starts.
            chunk_size=_chunk_size(jobs, n_splits) if progress else len(candidates),
            on_chunk=lambda n_done: bar.update(n_done * n_splits),
        )
        search.fit(X, y)
        candidate_table = _candidate_table(
            search, candidates, list(scorers), rank_metric
        )
        table = _strategy_table(candidate_table, [n for n, _ in named], rank_metric)
        scores = table[f"{rank_metric}_mean"]
        best = table.index[0] if np.isfinite(scores.iloc[0]) else None
        shown = [
            name
            for name in dict.fromkeys([best, "plain"])
            if predictions and name in table.index and np.isfinite(scores[name])
        ]
        bar.total = (len(candidates) + len(shown)) * n_splits
        bar.refresh()
        oof = {}
        for name in shown:
            params = candidates[table.loc[name, "candidate"]][1]
            model = clone(pipeline).set_params(**params)
            oof[name] = out_of_fold_predictions(model, X, y, splits, jobs)
            bar.update(n_splits)

    notes += [
        f"{name}: {table.loc[name, 'note'] or 'no finite score'}"
        for name in table.index[~np.isfinite(scores)]
    ]
    metadata = {
        "strategies": [name for name, _ in named],
        "best_strategy": best,
        "scoring": rank_metric,
        "metrics": list(scorers),
        "pos_label": _python_scalar(pos_label),
        "labels": [_python_scalar(c) for c in classes],
        "class_counts": counts.tolist(),
        "n_samples": int(len(y)),
        "cv": n_splits,
        "n_candidates": len(candidates),
        "estimator": _describe_estimator(clf),
        "backend": backend,
        "n_jobs": n_jobs,
        "random_state": random_state
        if random_state is None or isinstance(random_state, numbers.Integral)
        else repr(random_state),
        "notes": notes,
        "skimbal_version": __version__,
    }
    return StrategyReport(
        table,
        candidate_table,
        metadata=metadata,
        y_true=y,
        predictions=oof,
        cv_results=search.cv_results_,
    )


def _strategies_for(strategies, classes, clf, pos_label, random_state):
    """The named grids to search, and notes on what was skipped."""
    requested = _requested(strategies, include_threshold=True)
    notes = []
    if len(classes) > 2:
        skipped = [n for n, p in requested if n == THRESHOLD_TUNING and p is None]
        if skipped:
            notes.append(
                f"threshold_tuning skipped: it needs a binary problem, y has "
                f"{len(classes)} classes."
            )
        requested = [(n, p) for n, p in requested if n not in skipped]
        if not requested:
            raise ValueError(
                "No strategy is left to compare: threshold_tuning needs a binary y."
            )
    named = named_strategy_grid(
        dict(requested), estimator=clf, pos_label=pos_label, random_state=random_state
    )
    return named, notes


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
        # argmin over the reversed counts: on a tie, the later label wins.
        return _python_scalar(classes[len(classes) - 1 - np.argmin(counts[::-1])])
    matches = [c for c in classes if c == pos_label]
    if not matches:
        raise ValueError(
            f"pos_label={pos_label!r} is not a label of y; the labels are "
            f"{[_python_scalar(c) for c in classes]!r}."
        )
    return _python_scalar(matches[0])


def _scorers(binary, pos_label):
    """The table's metrics, as scorers that know the positive class."""
    if binary:
        by_class = dict(pos_label=pos_label)
        ap_kwargs = dict(pos_label=pos_label)
    else:
        by_class = dict(average="macro")
        ap_kwargs = dict(average="macro")
    return {
        "f1": make_scorer(f1_score, zero_division=0.0, **by_class),
        "precision": make_scorer(precision_score, zero_division=0.0, **by_class),
        "recall": make_scorer(recall_score, zero_division=0.0, **by_class),
        "balanced_accuracy": "balanced_accuracy",
        "average_precision": make_scorer(
            average_precision_score, response_method="predict_proba", **ap_kwargs
        ),
    }


def _add_ranking_scorer(scoring, scorers):
    if scoring is None:
        return "f1"
    if isinstance(scoring, str):
        if scoring in scorers:
            return scoring
        if scoring in get_scorer_names():
            scorers[scoring] = get_scorer(scoring)
            return scoring
    elif callable(scoring):
        scorers["score"] = scoring
        return "score"
    raise ValueError(
        f"scoring must be None, one of {list(METRICS)}, a scikit-learn scorer name "
        f"or a scorer callable; got scoring={scoring!r}."
    )


def _base_classifier(estimator, X, random_state):
    if estimator is None:
        from .._classifier import CNNClassifier

        return CNNClassifier(
            input_shape=_guess_input_shape(X), random_state=random_state
        )
    if not hasattr(estimator, "fit") or not hasattr(estimator, "predict"):
        raise ValueError(
            "estimator must be a classifier with fit and predict (the pipeline's "
            f"'clf' step); got {estimator!r}."
        )
    clf = clone(estimator)
    # Balanced batches is a strategy of its own, not a setting of the others.
    if clf.get_params().get("balanced_batches") is True:
        clf.set_params(balanced_batches=False)
    return clf


def _guess_input_shape(X):
    shape = getattr(X, "shape", None)
    if hasattr(X, "dtypes"):  # a DataFrame: pixels, or a column of paths
        numeric = all(pd.api.types.is_numeric_dtype(d) for d in X.dtypes)
    else:
        numeric = np.issubdtype(getattr(X, "dtype", np.dtype(object)), np.number)
    if not numeric or shape is None or len(shape) != 2:
        return None
    n_features = int(shape[1])
    for channels in (1, 3):
        side = math.isqrt(n_features // channels)
        if channels * side * side == n_features:
            return (channels, side, side)
    return None


def _splits(cv, X, y, random_state):
    if isinstance(cv, numbers.Integral) and not isinstance(cv, bool):
        if cv < 2:
            raise ValueError(f"cv must be at least 2 folds; got cv={cv!r}.")
        cv = StratifiedKFold(cv, shuffle=True, random_state=random_state)
    splitter = check_cv(cv, y, classifier=True)
    # Materialised once, so that the search and the out-of-fold predictions
    # use the very same folds even when the splitter is unseeded.
    return list(splitter.split(X, y))


def _chunk_size(n_jobs, n_splits):
    """Candidates per progress step: a whole number of rounds of all workers."""
    workers = max(1, joblib.effective_n_jobs(n_jobs))
    return workers // math.gcd(workers, n_splits)


class _ChunkedGridSearchCV(GridSearchCV):
    """GridSearchCV that evaluates its candidates a few at a time.

    ``_run_search`` is scikit-learn's hook for scheduling the candidates;
    evaluating them in chunks gives a progress step after each chunk, and
    keeps a chunk whose fits all fail (which ``GridSearchCV`` raises for)
    from stopping the others. ``cv_results_`` holds the evaluated candidates
    in order; ``evaluated_candidates_`` maps its rows to the grid's
    candidates, ``fit_errors_`` holds the errors by candidate.
    """

    def __init__(
        self,
        estimator,
        param_grid,
        *,
        scoring=None,
        n_jobs=None,
        cv=None,
        chunk_size=1,
        on_chunk=None,
    ):
        super().__init__(
            estimator,
            param_grid,
            scoring=scoring,
            n_jobs=n_jobs,
            refit=False,
            cv=cv,
            error_score=np.nan,
        )
        self.chunk_size = chunk_size
        self.on_chunk = on_chunk

    def __getstate__(self):
        # scikit-learn sends the search itself to every fit (``caller=self``);
        # the progress callback stays in this process.
        # (a copy: object.__getstate__ may return the instance's own __dict__)
        state = dict(super().__getstate__())
        state["on_chunk"] = None
        return state

    def _format_results(self, candidate_params, n_splits, out, more_results=None):
        # scikit-learn calls this after each chunk with every fit so far,
        # candidate by candidate, fold by fold: keep each candidate's errors,
        # whichever candidates shared its chunk.
        self._row_errors = [
            list(
                dict.fromkeys(
                    _last_line(result["fit_error"])
                    for result in out[row * n_splits : (row + 1) * n_splits]
                    if result.get("fit_error")
                )
            )
            for row in range(len(candidate_params))
        ]
        return super()._format_results(candidate_params, n_splits, out, more_results)

    def _run_search(self, evaluate_candidates):
        candidates = list(ParameterGrid(self.param_grid))
        self.evaluated_candidates_ = []
        self.fit_errors_ = {}
        for start in range(0, len(candidates), self.chunk_size):
            indices = list(range(start, min(start + self.chunk_size, len(candidates))))
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                try:
                    # Nothing is recorded until a whole chunk has run, so a
                    # chunk that Dask lost with a worker can simply run again.
                    chunk = [candidates[i] for i in indices]
                    retry_lost_work(functools.partial(evaluate_candidates, chunk))
                except ValueError as error:
                    if "fits failed" not in str(error):
                        raise
                    # Every fit of the chunk failed: its errors, to each.
                    summary = _error_summaries(str(error))
                    errors = dict.fromkeys(indices, summary)
                else:
                    # Each candidate's own errors (see _format_results).
                    rows = self._row_errors[len(self.evaluated_candidates_) :]
                    errors = dict(zip(indices, rows, strict=True))
                    self.evaluated_candidates_.extend(indices)
            _reemit(caught)
            self.fit_errors_.update((i, e) for i, e in errors.items() if e)
            if self.on_chunk is not None:
                self.on_chunk(len(indices))
        if not self.evaluated_candidates_:
            raise ValueError(
                "Every candidate failed to fit: "
                + "; ".join(dict.fromkeys(sum(self.fit_errors_.values(), [])))
            )


def _last_line(traceback_text):
    lines = [line.strip() for line in traceback_text.strip().splitlines()]
    return next((line for line in reversed(lines) if line), traceback_text)


def _error_summaries(message):
    """The last line of each traceback in scikit-learn's fit-failure message."""
    blocks = message.split("-" * 80 + "\n")[1:]
    lines = []
    for block in blocks:
        text = [line.strip() for line in block.strip().splitlines() if line.strip()]
        if text:
            lines.append(text[-1])
    return list(dict.fromkeys(lines)) or [message.strip().splitlines()[0]]


def _reemit(caught):
    """Pass on warnings other than the fit failures the report shows itself."""
    for w in caught:
        if issubclass(w.category, FitFailedWarning) or (
            issubclass(w.category, UserWarning)
            and "test scores are non-finite" in str(w.message)
        ):
            continue
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)


def _candidate_table(search, candidates, metrics, rank_metric):
    """One row per (strategy, params) candidate, numbers from ``cv_results_``."""
    results = search.cv_results_
    row_of = {c: row for row, c in enumerate(search.evaluated_candidates_)}
    records = []
    varying = _varying_keys(candidates)
    for index, (owner, params) in enumerate(candidates):
        record = {"strategy": owner}
        row = row_of.get(index)
        for metric in [*metrics, "fit_time"]:
            for stat in ("mean", "std"):
                key = (
                    f"{stat}_{metric}"
                    if metric == "fit_time"
                    else f"{stat}_test_{metric}"
                )
                record[f"{metric}_{stat}"] = (
                    float(results[key][row]) if row is not None else np.nan
                )
        record["candidate"] = index
        record["params"] = _describe(params, varying[owner])
        failed = row is None or any(
            not np.isfinite(results[f"split{k}_test_{rank_metric}"][row])
            for k in range(search.n_splits_)
        )
        errors = search.fit_errors_.get(index, []) if failed else []
        record["note"] = ("error: " + "; ".join(errors)) if errors else ""
        records.append(record)
    return pd.DataFrame.from_records(records)


def _strategy_table(candidate_table, names, rank_metric):
    """Each strategy's best candidate, best strategy first."""
    picks, sizes = [], []
    for name in names:
        group = candidate_table[candidate_table["strategy"] == name]
        scores = group[f"{rank_metric}_mean"].to_numpy()
        pick = int(np.nanargmax(scores)) if np.isfinite(scores).any() else 0
        picks.append(group.index[pick])
        sizes.append(len(group))
    table = candidate_table.loc[picks].set_index("strategy")
    table.insert(len(table.columns) - 3, "n_candidates", sizes)
    # Stable sort: ties keep the order the strategies were given in.
    order = np.argsort(-table[f"{rank_metric}_mean"].fillna(-np.inf), kind="stable")
    table = table.iloc[order]
    # The ranking metric first, so that the first column is what was sorted on.
    first = [f"{rank_metric}_mean", f"{rank_metric}_std"]
    return table[first + [c for c in table.columns if c not in first]]


def _varying_keys(candidates):
    """Per strategy, the parameters whose value differs between candidates."""
    seen = {}
    for owner, params in candidates:
        for key, value in params.items():
            seen.setdefault(owner, {}).setdefault(key, set()).add(_value_text(value))
    return {
        owner: sorted(key for key, texts in keys.items() if len(texts) > 1)
        for owner, keys in seen.items()
    }


def _describe(params, keys):
    return ", ".join(
        f"{key.split('__')[-1]}={_value_text(params[key])}" for key in keys
    )


def _value_text(value):
    if hasattr(value, "get_params"):
        return type(value).__name__
    if isinstance(value, list):
        return "[" + ", ".join(_value_text(v) for v in value) + "]"
    if isinstance(value, tuple):
        return "(" + ", ".join(_value_text(v) for v in value) + ")"
    return str(value)


def out_of_fold_predictions(estimator, X, y, splits, n_jobs=None):
    """Fit on each training fold; predict probabilities and labels on its test fold.

    Parameters
    ----------
    estimator : classifier
        Cloned for every fold.
    X : array-like of shape (n_samples, n_features)
        Samples.
    y : ndarray of shape (n_samples,)
        Labels.
    splits : list of (train, test) index arrays
        Folds that together cover every sample once as a test sample.
    n_jobs : int or None, default=None
        Folds fitted in parallel.

    Returns
    -------
    predictions : dict
        ``"proba"`` (n_samples, n_classes) and ``"pred"`` (n_samples,).
    """
    folds = retry_lost_work(
        lambda: Parallel(n_jobs=n_jobs)(
            delayed(_fit_predict)(clone(estimator), X, y, train, test)
            for train, test in splits
        )
    )
    n_classes = folds[0][1].shape[1]
    proba = np.full((len(y), n_classes), np.nan)
    pred = np.empty(len(y), dtype=y.dtype)
    for test, fold_proba, fold_pred in folds:
        proba[test] = fold_proba
        pred[test] = fold_pred
    return {"proba": proba, "pred": pred}


def _fit_predict(estimator, X, y, train, test):
    estimator.fit(_safe_indexing(X, train), y[train])
    X_test = _safe_indexing(X, test)
    return test, estimator.predict_proba(X_test), estimator.predict(X_test)


@contextlib.contextmanager
def _progress_bar(enabled, total):
    """A tqdm bar on stderr, or a silent stand-in with the same methods."""
    if not enabled:
        yield _SilentBar(total)
        return
    from tqdm.auto import tqdm

    with tqdm(total=total, desc="fits", unit="fit") as bar:
        yield bar


class _SilentBar:
    def __init__(self, total):
        self.total = total

    def update(self, n=1):
        pass

    def refresh(self):
        pass


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
