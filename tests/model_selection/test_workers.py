"""Local worker processes: started early, reused by the fits, none without a fit."""

import os

import joblib
import numpy as np
import pytest
from imblearn.pipeline import Pipeline
from sklearn.base import BaseEstimator, ClassifierMixin, clone

from skimbal._workers import (
    local_worker_count,
    start_local_workers,
    stop_local_workers,
)
from skimbal.model_selection._backend import parallel_backend
from skimbal.model_selection._fits import Split, run_fits


class ProcessClassifier(ClassifierMixin, BaseEstimator):
    """Gives every sample the id of the process that fitted it as its score."""

    def fit(self, X, y):
        self.classes_ = np.unique(y)
        self.pid_ = os.getpid()
        return self

    def predict_proba(self, X):
        return np.full((len(X), len(self.classes_)), float(self.pid_))

    def predict(self, X):
        return np.full(len(X), self.classes_[0])


def _splits(n_splits):
    rows = np.arange(40)
    return [Split(rows[:30], rows[:0], rows[30:]) for _ in range(n_splits)]


def _fit_pids(n_candidates, n_splits, n_jobs):
    X, y = np.zeros((40, 2)), np.r_[np.zeros(20, int), np.ones(20, int)]
    with parallel_backend("loky", n_jobs=n_jobs) as jobs:
        results = run_fits(
            ProcessClassifier(),
            [{}] * n_candidates,
            X,
            y,
            _splits(n_splits),
            n_jobs=jobs,
        )
    return {int(fit.test_proba[0, 0]) for fits in results for fit in fits}


@pytest.mark.parametrize("n_jobs", [2, -1])
def test_a_single_fit_starts_no_worker_process(n_jobs):
    assert _fit_pids(1, 1, n_jobs) == {os.getpid()}


def test_worker_count_is_joblibs_capped_by_the_fits():
    assert local_worker_count(1, 100) == 1
    assert local_worker_count(4, 3) == 3
    assert local_worker_count(-1) == joblib.cpu_count()
    assert local_worker_count(-1, 1) == 1
    assert start_local_workers(8, n_fits=1) is None


def test_fits_run_on_the_workers_started_early():
    workers = start_local_workers(2, n_fits=4).wait()
    assert workers.error is None
    assert workers.pids and os.getpid() not in workers.pids
    fitted_in = _fit_pids(2, 2, 2)
    # The same two processes imported and fitted: no second set was started.
    assert os.getpid() not in fitted_in
    assert len(fitted_in | set(workers.pids)) <= 2
    # The command stops them before it exits (they would hold its output).
    assert stop_local_workers()
    assert not stop_local_workers()


def test_predictions_do_not_depend_on_n_jobs(odd_digits, tiny_cnn):
    X, y = odd_digits
    rows = np.arange(len(y))
    splits = [
        Split(rows[::2][:300], rows[:0], rows[1::2][:200]),
        Split(rows[1::2][:300], rows[:0], rows[::2][:200]),
    ]
    pipeline = Pipeline([("sampler", "passthrough"), ("clf", clone(tiny_cnn))])
    candidates = [{}, {"clf__class_weight": "balanced"}]
    results = {}
    for n_jobs in (1, 2):
        # One PyTorch thread in the workers as in this process (conftest), so
        # that the arithmetic is the same operation for operation.
        with joblib.parallel_config(backend="loky", inner_max_num_threads=1):
            results[n_jobs] = run_fits(
                pipeline, candidates, X, y, splits, n_jobs=n_jobs
            )
    for serial, parallel in zip(results[1], results[2], strict=True):
        for one, two in zip(serial, parallel, strict=True):
            assert one.error == two.error == ""
            np.testing.assert_array_equal(one.test_proba, two.test_proba)
