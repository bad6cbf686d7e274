"""Training every candidate on every split, in parallel, keeping its predictions.

A comparison needs more than one score per fit: its probabilities on the
test fold, so that thresholds (each fit's from the other folds' test
probabilities), metrics at any class prior, t-tests and precision-recall
curves all come from the same fits. Each fit therefore returns its
predictions, and everything else is computed from them in the calling
process.
"""

import contextlib
import math
import time
import traceback
import warnings
from dataclasses import dataclass

import joblib
import numpy as np
from sklearn.base import clone
from sklearn.model_selection import StratifiedShuffleSplit
from sklearn.utils import check_random_state
from sklearn.utils.parallel import Parallel, delayed

from .._feature_cache import shared_feature_tables
from .._parallel import apply_worker_torch_threads
from .._sklearn_private import _safe_indexing
from .._workers import local_worker_count
from ._backend import retry_lost_work

__all__ = ["Split", "FitResult", "holdout_splits", "run_fits"]


@dataclass(frozen=True)
class Split:
    """Row indices of one cross-validation split.

    ``fit`` trains the model; ``holdout`` (possibly empty) is predicted
    too, for a threshold chosen on it; ``test`` scores it. ``fit`` and
    ``holdout`` together are the split's training fold.
    ``compare_strategies`` leaves ``holdout`` empty and takes each
    fit's threshold from the other folds' test predictions.
    """

    fit: np.ndarray
    holdout: np.ndarray
    test: np.ndarray

    @property
    def n_train(self):
        return len(self.fit) + len(self.holdout)


@dataclass
class FitResult:
    """Probabilities a fitted candidate gave its hold-out and test rows.

    ``learned`` holds the loss parameters the fit learned, where it learned
    some (``learned_loss_params_`` of the classifier, set by
    :class:`~skimbal.callbacks.AutoBalance`), as lists per class.
    """

    holdout_proba: np.ndarray | None = None
    test_proba: np.ndarray | None = None
    fit_time: float = float("nan")
    error: str = ""
    #: The fitted model itself, kept only when asked (``keep_models``).
    model: object = None
    learned: dict | None = None


def holdout_splits(splits, y, holdout, random_state):
    """Cut a stratified threshold hold-out out of every training fold.

    Parameters
    ----------
    splits : list of (train, test)
        Outer cross-validation folds.
    y : ndarray of shape (n_samples,)
        Labels.
    holdout : float
        Share of each training fold held out, in (0, 1); ``0`` holds out
        nothing.
    random_state : int, RandomState instance or None
        Seeds the hold-outs (one seed per split, drawn from it).

    Returns
    -------
    splits : list of Split
    """
    rng = check_random_state(random_state)
    result = []
    for train, test in splits:
        train = np.asarray(train)
        if holdout == 0:
            result.append(Split(train, train[:0], np.asarray(test)))
            continue
        splitter = StratifiedShuffleSplit(
            n_splits=1, test_size=holdout, random_state=rng.randint(2**31 - 1)
        )
        fit, kept = next(splitter.split(np.zeros(len(train)), y[train]))
        result.append(
            Split(train[np.sort(fit)], train[np.sort(kept)], np.asarray(test))
        )
    return result


def run_fits(
    pipeline,
    candidates,
    X,
    y,
    splits,
    *,
    n_jobs=None,
    on_progress=None,
    chunk_size=None,
    keep_models=False,
    feature_table=None,
):
    """Fit every candidate on every split; return their predictions.

    Parameters
    ----------
    pipeline : estimator
        Cloned and given each candidate's parameters.
    candidates : list of dict
        Parameters of each candidate.
    X, y : array-like
        All samples; splits index into them.
    splits : list of Split
    n_jobs : int or None
        joblib's ``n_jobs``, within the caller's backend. With local
        processes (loky), no more than there are fits.
    on_progress : callable or None
        Called with the number of candidates finished after each chunk.
    chunk_size : int or None
        Candidates per chunk; ``None`` runs all at once. A chunk whose work a
        Dask worker took with it is run again (seeded fits give the same
        predictions).
    keep_models : bool, default=False
        Also return each fitted model (``FitResult.model``), e.g. to hand
        the fold models back as an ensemble.
    feature_table : FeatureTable or None, default=None
        Frozen-body features of X's rows, shared by every fit (see
        ``_shared_features``); scatter it to Dask workers with X.

    Returns
    -------
    results : list of list of FitResult
        ``results[candidate][split]``.
    """
    chunk_size = chunk_size or len(candidates)
    backend, _ = joblib.parallel.get_active_backend()
    if isinstance(backend, joblib.parallel.LokyBackend):
        # No process without a fit to run; the same count as the command
        # line's early start (skimbal._workers), so its workers are reused.
        n_jobs = local_worker_count(n_jobs, len(candidates) * len(splits))
    results = []
    for start in range(0, len(candidates), chunk_size):
        chunk = candidates[start : start + chunk_size]

        def step(chunk=chunk):
            return Parallel(n_jobs=n_jobs)(
                delayed(_fit_and_predict)(
                    pipeline, params, X, y, split, keep_models, feature_table
                )
                for params in chunk
                for split in splits
            )

        flat = retry_lost_work(step)
        for i in range(len(chunk)):
            results.append(flat[i * len(splits) : (i + 1) * len(splits)])
        if on_progress is not None:
            on_progress(len(chunk))
    return results


def _fit_and_predict(
    pipeline, params, X, y, split, keep_model=False, feature_table=None
):
    # A Dask worker thread that trained before its count was set keeps the
    # old one; catch it up here, in the thread that trains.
    apply_worker_torch_threads()
    start = time.perf_counter()
    try:
        with shared_feature_tables([feature_table]):
            return _timed_fit(pipeline, params, X, y, split, keep_model, start)
    except Exception as error:  # reported in the table, like GridSearchCV's
        return FitResult(error=_last_line(error))


def _timed_fit(pipeline, params, X, y, split, keep_model, start):
    """Fit one candidate on one split; its predictions (and model)."""
    model = clone(pipeline).set_params(**params)
    model.fit(_safe_indexing(X, split.fit), y[split.fit])
    fit_time = time.perf_counter() - start
    holdout = (
        model.predict_proba(_safe_indexing(X, split.holdout))
        if len(split.holdout)
        else None
    )
    test = model.predict_proba(_safe_indexing(X, split.test))
    return FitResult(
        holdout,
        test,
        fit_time,
        model=model if keep_model else None,
        learned=_learned_loss_params(model),
    )


def _learned_loss_params(model):
    """The final step's ``learned_loss_params_`` as lists, or None."""
    final = model.steps[-1][1] if hasattr(model, "steps") else model
    learned = getattr(final, "learned_loss_params_", None)
    if learned is None:
        return None
    return {name: np.asarray(values).tolist() for name, values in learned.items()}


def _last_line(error):
    text = "".join(traceback.format_exception_only(type(error), error)).strip()
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else type(error).__name__


def chunk_size_for(n_jobs, n_splits):
    """Candidates per progress step: a whole number of rounds of all workers."""
    workers = max(1, joblib.effective_n_jobs(n_jobs))
    return workers // math.gcd(workers, n_splits)


@contextlib.contextmanager
def progress_bar(enabled, total):
    """A tqdm bar on stderr, or a silent stand-in with the same methods."""
    if not enabled:
        yield _SilentBar(total)
        return
    from tqdm.auto import tqdm

    with warnings.catch_warnings():
        # tqdm.auto warns when no notebook widget is available.
        warnings.simplefilter("ignore")
        bar = tqdm(total=total, desc="fits", unit="fit")
    with bar:
        yield bar


class _SilentBar:
    def __init__(self, total):
        self.total = total

    def update(self, n=1):
        pass

    def refresh(self):
        pass
