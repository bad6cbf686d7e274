"""The fits of a comparison: hold-outs, predictions, and worker threads."""

import threading

import numpy as np
import torch
from imblearn import FunctionSampler
from imblearn.pipeline import Pipeline
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold

from skimbal._parallel import set_worker_torch_threads
from skimbal.model_selection._budget import step_budget
from skimbal.model_selection._fits import Split, _fit_and_predict, holdout_splits

THREADS = []


def record_threads(X, y):
    THREADS.append(torch.get_num_threads())
    return X, y


def test_holdouts_are_stratified_quarters_of_each_training_fold():
    y = np.r_[np.zeros(80, int), np.ones(20, int)]
    folds = list(StratifiedKFold(4, shuffle=True, random_state=0).split(y, y))
    splits = holdout_splits(folds, y, 0.25, random_state=0)
    for split, (train, test) in zip(splits, folds, strict=True):
        assert sorted(np.r_[split.fit, split.holdout]) == sorted(train)
        assert np.intersect1d(split.fit, split.holdout).size == 0
        assert np.array_equal(split.test, test)
        assert len(split.holdout) == round(0.25 * len(train))
        assert y[split.holdout].sum() == round(0.25 * y[train].sum())
    again = holdout_splits(folds, y, 0.25, random_state=0)
    assert all(np.array_equal(a.fit, b.fit) for a, b in zip(splits, again, strict=True))
    whole = holdout_splits(folds, y, 0, random_state=0)
    assert all(len(split.holdout) == 0 for split in whole)


def test_a_fit_catches_up_the_worker_torch_thread_count(odd_digits, tiny_cnn):
    X, y = odd_digits
    pipeline = Pipeline(
        [("sampler", FunctionSampler(func=record_threads)), ("clf", tiny_cnn)]
    )
    split = Split(np.arange(300), np.arange(300, 400), np.arange(400, 500))
    THREADS.clear()
    results = []

    def work():
        torch.set_num_threads(1)  # this thread already ran with another count
        results.append(_fit_and_predict(pipeline, {}, X, y, split))

    previous = set_worker_torch_threads(2)
    try:
        thread = threading.Thread(target=work)
        thread.start()
        thread.join()
    finally:
        set_worker_torch_threads(None)
        torch.set_num_threads(previous)
    assert THREADS == [2]
    [result] = results
    assert result.error == ""
    assert result.holdout_proba.shape == (100, 2)
    assert result.test_proba.shape == (100, 2)


def test_a_failing_fit_reports_its_last_error_line(odd_digits, tiny_cnn):
    X, y = odd_digits
    pipeline = Pipeline([("sampler", "passthrough"), ("clf", tiny_cnn)])
    split = Split(np.arange(300), np.arange(0), np.arange(300, 400))
    result = _fit_and_predict(pipeline, {"clf__criterion": "nope"}, X, y, split)
    assert result.error.startswith("ValueError: Unknown criterion='nope'")
    assert result.test_proba is None


def test_step_budget_counts_rows_before_any_sampler(tiny_cnn):
    # max_epochs=2 over 640 rows in batches of 64: 20 steps.
    assert step_budget(tiny_cnn, 640) == {"max_epochs": 1, "min_steps": 20}
    clf = clone(tiny_cnn).set_params(min_steps=50)
    assert step_budget(clf, 64) == {"max_epochs": 1, "min_steps": 50}
    assert step_budget(clone(clf).set_params(early_stopping=True), 640) == {}
    assert step_budget(clone(clf).set_params(batch_size=-1), 640)["min_steps"] == 50
    assert step_budget(LogisticRegression(), 640) == {}
