"""f1_threshold: the F1-best cut at a class prior, by hand."""

import numpy as np
import pytest
from sklearn.metrics import f1_score

from skimbal.metrics import class_prior_weights
from skimbal.model_selection import f1_threshold


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
