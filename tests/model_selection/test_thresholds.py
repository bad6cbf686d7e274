"""f1_threshold: the F1-best cut at a class prior, by hand."""

import numpy as np
import pytest
from sklearn.metrics import f1_score

from skimbal.metrics import class_prior_weights
from skimbal.model_selection import f1_threshold
from skimbal.model_selection._fits import FitResult, Split
from skimbal.model_selection._thresholds import other_folds_threshold


def test_threshold_maximises_weighted_f1_and_sits_between_scores():
    rng = np.random.default_rng(0)
    y = np.r_[np.zeros(200, int), np.ones(10, int)]
    scores = np.r_[rng.beta(1, 8, 200), rng.beta(4, 3, 10)]
    for prior in ("balanced", "train", 0.3):
        threshold, f1 = f1_threshold(y, scores, pos_label=1, class_prior=prior)
        weights = class_prior_weights(y, prior, pos_label=1)
        # Brute force over every distinct score as a cut.
        best = max(
            f1_score(y, scores >= cut, sample_weight=weights)
            for cut in np.unique(scores)
        )
        assert f1 == pytest.approx(best)
        assert f1_score(y, scores >= threshold, sample_weight=weights) == pytest.approx(
            f1
        )
        assert not np.isin(threshold, scores)  # halfway between two scores


def test_a_rarer_deployment_prior_raises_the_threshold():
    rng = np.random.default_rng(1)
    y = np.r_[np.zeros(300, int), np.ones(30, int)]
    scores = np.r_[rng.beta(2, 5, 300), rng.beta(5, 2, 30)]
    balanced, _ = f1_threshold(y, scores, pos_label=1, class_prior="balanced")
    rare, _ = f1_threshold(y, scores, pos_label=1, class_prior=0.01)
    assert rare > balanced


def test_string_labels_and_no_positive():
    y = np.array(["dog", "dog", "cat", "dog", "cat"])
    threshold, f1 = f1_threshold(
        y, np.array([0.1, 0.2, 0.9, 0.3, 0.7]), pos_label="cat"
    )
    assert f1 == 1.0 and 0.3 < threshold < 0.7
    assert f1_threshold(np.zeros(4), np.arange(4) / 4, pos_label=1)[0] == 0.5


def _fits_and_splits(n_repeats, y, scores):
    """Folds of 4 rows each, repeated; fit k scores its test rows with ``scores``."""
    rows = np.arange(len(y))
    folds = np.array_split(rows, len(y) // 4)
    splits, fits = [], []
    for _ in range(n_repeats):
        for test in folds:
            train = np.setdiff1d(rows, test)
            splits.append(Split(train, np.array([], int), test))
            proba = np.c_[1 - scores[test], scores[test]]
            fits.append(FitResult(None, proba, 0.1))
    return fits, splits


def test_other_folds_threshold_never_reads_its_own_fold_or_other_repeats():
    y = np.array([0, 0, 0, 1] * 3)
    scores = np.array([0.1, 0.2, 0.3, 0.9, 0.1, 0.2, 0.3, 0.8, 0.7, 0.75, 0.2, 0.6])
    fits, splits = _fits_and_splits(2, y, scores)
    per_repeat = 3
    for index in range(len(splits)):
        own = splits[index].test
        others = np.setdiff1d(np.arange(len(y)), own)
        expected, _ = f1_threshold(y[others], scores[others], pos_label=1)
        got = other_folds_threshold(
            fits, splits, index, per_repeat, y, 1, 1, "balanced"
        )
        assert got == expected
    # The last fold (rows 8-11) holds the only negatives scored above 0.3 and
    # a positive at 0.6: the other folds alone separate at 0.3 < t <= 0.8.
    last = other_folds_threshold(fits, splits, 2, per_repeat, y, 1, 1, "balanced")
    first = other_folds_threshold(fits, splits, 0, per_repeat, y, 1, 1, "balanced")
    assert 0.3 < last <= 0.8
    assert first < 0.6  # fold 0's threshold must keep the positive at 0.6
    # Changing a score in the fold itself leaves its threshold alone.
    moved = scores.copy()
    moved[3] = 0.05
    fits_moved, _ = _fits_and_splits(2, y, moved)
    assert other_folds_threshold(
        fits_moved, splits, 0, per_repeat, y, 1, 1, "balanced"
    ) == other_folds_threshold(fits, splits, 0, per_repeat, y, 1, 1, "balanced")


def test_other_folds_threshold_skips_failed_fits_and_defaults_to_one_half():
    y = np.array([0, 0, 0, 1] * 2)
    scores = np.array([0.1, 0.2, 0.3, 0.9, 0.1, 0.2, 0.3, 0.8])
    fits, splits = _fits_and_splits(1, y, scores)
    fits[1].error = "boom"
    assert other_folds_threshold(fits, splits, 0, 2, y, 1, 1, "balanced") == 0.5
