"""Class-prior weights: the lecture's numbers, duplication, validation, words."""

import math

import numpy as np
import pytest
from sklearn.metrics import (
    accuracy_score,
    average_precision_score,
    balanced_accuracy_score,
    f1_score,
    precision_score,
    recall_score,
)
from sklearn.utils.class_weight import compute_sample_weight

from skimbal.metrics import (
    check_class_prior,
    class_prior_weights,
    describe_class_prior,
)


def duplicated(y, repeats, *arrays):
    """Every row of class c repeated repeats[c] times: the prior made real."""
    rows = np.sort(
        np.concatenate(
            [np.repeat(np.flatnonzero(y == c), k) for c, k in repeats.items()]
        )
    )
    return (y[rows], *(a[rows] for a in arrays))


@pytest.fixture(scope="module")
def binary():
    """10 positives and 40 negatives, predicted labels and two kinds of score."""
    rng = np.random.default_rng(0)
    y = np.array([1] * 10 + [0] * 40)
    # Positives score higher on average, so the metrics are far from 0 and 1.
    scores = rng.random(50) + 0.4 * y
    tied_scores = np.round(scores * 4) / 4  # five levels, many ties
    y_pred = (scores > 0.7).astype(int)
    assert len(np.unique(tied_scores)) < 8 and len(np.unique(scores)) == 50
    return y, y_pred, scores, tied_scores


def test_lecture_cats_at_one_to_twenty_two():
    y_true = np.array(["dog"] * 1500 + ["cat"] * 1500)
    y_pred = np.array(["dog"] * 1489 + ["cat"] * 11 + ["dog"] * 679 + ["cat"] * 821)

    def scores(sample_weight=None):
        return [
            metric(y_true, y_pred, pos_label="cat", sample_weight=sample_weight)
            for metric in (recall_score, precision_score, f1_score)
        ]

    assert scores() == pytest.approx([821 / 1500, 821 / 832, 0.704], abs=5e-4)
    weights = class_prior_weights(y_true, 1 / 23, pos_label="cat")
    # TP and FN count 2/23, FP 44/23: precision = 1642 / (1642 + 484).
    assert weights[y_true == "cat"] == pytest.approx(2 / 23)
    assert weights[y_true == "dog"] == pytest.approx(44 / 23)
    recall, precision, f1 = scores(weights)
    assert recall == pytest.approx(821 / 1500)
    assert precision == pytest.approx(1642 / 2126)
    assert round(precision, 3) == 0.772
    assert f1 == pytest.approx(3284 / 5126)
    assert round(f1, 3) == 0.641
    # The false-positive rate does not depend on the prior either.
    dogs = y_true == "dog"
    fpr = np.average(y_pred[dogs] == "cat", weights=weights[dogs])
    assert fpr == pytest.approx(11 / 1500)


def test_weights_sum_to_n_and_balanced_matches_scikit_learn():
    y = np.array([0] * 90 + [1] * 10 + [2] * 25)
    weights = class_prior_weights(y, "balanced")
    assert weights.dtype == np.float64 and weights.shape == (125,)
    assert weights.sum() == pytest.approx(125)
    np.testing.assert_allclose(weights, compute_sample_weight("balanced", y))
    for c in (0, 1, 2):
        assert weights[y == c].sum() == pytest.approx(125 / 3)


def test_train_gives_unit_weights():
    y = np.array(["a"] * 7 + ["b"] * 3)
    np.testing.assert_array_equal(class_prior_weights(y, "train"), np.ones(10))


def test_share_equal_to_the_data_is_the_same_as_train(binary):
    y = binary[0]
    np.testing.assert_allclose(class_prior_weights(y, 0.2), np.ones(50))


@pytest.mark.parametrize("metric", [f1_score, precision_score, recall_score])
def test_balanced_label_metrics_equal_duplicating_positives(binary, metric):
    y, y_pred, _, _ = binary
    weighted = metric(y, y_pred, sample_weight=class_prior_weights(y, "balanced"))
    expected = metric(*duplicated(y, {1: 4, 0: 1}, y_pred))
    assert weighted == pytest.approx(expected, rel=1e-12)
    if metric is recall_score:  # recall is a rate within the positives
        assert weighted == pytest.approx(metric(y, y_pred), rel=1e-12)
    else:  # the others mix in negatives, so the prior matters
        assert abs(weighted - metric(y, y_pred)) > 0.05


@pytest.mark.parametrize("score_kind", ["scores", "tied_scores"])
def test_balanced_average_precision_equals_duplicating_positives(binary, score_kind):
    y, _, scores, tied_scores = binary
    y_score = scores if score_kind == "scores" else tied_scores
    weights = class_prior_weights(y, "balanced")
    weighted = average_precision_score(y, y_score, sample_weight=weights)
    expected = average_precision_score(*duplicated(y, {1: 4, 0: 1}, y_score))
    assert weighted == pytest.approx(expected, rel=1e-12)
    assert weighted > average_precision_score(y, y_score) + 0.05


def test_balanced_macro_metrics_on_three_classes():
    rng = np.random.default_rng(1)
    y = np.repeat([0, 1, 2], [10, 20, 40])
    # Right two times in three, otherwise a random class.
    y_pred = np.where(rng.random(70) < 2 / 3, y, rng.integers(0, 3, 70))
    weights = class_prior_weights(y, "balanced")
    y_dup, y_pred_dup = duplicated(y, {0: 4, 1: 2, 2: 1}, y_pred)
    for metric in (f1_score, precision_score, recall_score):
        weighted = metric(y, y_pred, average="macro", sample_weight=weights)
        assert weighted == pytest.approx(metric(y_dup, y_pred_dup, average="macro"))
    # Accuracy on balanced classes is balanced accuracy.
    assert accuracy_score(y, y_pred, sample_weight=weights) == pytest.approx(
        balanced_accuracy_score(y, y_pred)
    )
    assert balanced_accuracy_score(y, y_pred, sample_weight=weights) == pytest.approx(
        balanced_accuracy_score(y, y_pred)
    )


@pytest.mark.parametrize(
    "share, repeats",
    [
        (0.5, {1: 3, 0: 1}),  # 60 : 60
        (0.1, {1: 1, 0: 3}),  # 20 : 180
        (0.4, {1: 2, 0: 1}),  # 40 : 60
    ],
)
def test_float_share_equals_duplication(share, repeats):
    rng = np.random.default_rng(2)
    y = np.array([1] * 20 + [0] * 60)
    y_score = rng.random(80) + 0.3 * y
    y_pred = (y_score > 0.6).astype(int)
    weights = class_prior_weights(y, share)
    y_dup, y_pred_dup, y_score_dup = duplicated(y, repeats, y_pred, y_score)
    assert np.mean(y_dup) == pytest.approx(share)
    for metric in (f1_score, precision_score, recall_score):
        assert metric(y, y_pred, sample_weight=weights) == pytest.approx(
            metric(y_dup, y_pred_dup)
        )
    assert average_precision_score(y, y_score, sample_weight=weights) == (
        pytest.approx(average_precision_score(y_dup, y_score_dup))
    )


def test_dict_prior_equals_duplication_on_three_classes():
    rng = np.random.default_rng(3)
    y = np.repeat([0, 1, 2], [10, 20, 40])
    y_pred = np.where(rng.random(70) < 0.6, y, rng.integers(0, 3, 70))
    weights = class_prior_weights(y, {0: 0.5, 1: 0.25, 2: 0.25})
    y_dup, y_pred_dup = duplicated(y, {0: 8, 1: 2, 2: 1}, y_pred)  # 80 : 40 : 40
    assert f1_score(y, y_pred, average="macro", sample_weight=weights) == (
        pytest.approx(f1_score(y_dup, y_pred_dup, average="macro"))
    )
    assert precision_score(y, y_pred, average=None, sample_weight=weights) == (
        pytest.approx(precision_score(y_dup, y_pred_dup, average=None))
    )


def test_string_labels_with_pos_label():
    y = np.array(["cat"] * 10 + ["dog"] * 30)
    y_pred = np.array(["cat"] * 7 + ["dog"] * 3 + ["cat"] * 6 + ["dog"] * 24)
    weights = class_prior_weights(y, 0.5, pos_label="cat")
    y_dup, y_pred_dup = duplicated(y, {"cat": 3, "dog": 1}, y_pred)
    # TP 21, FP 6 after duplication.
    precision = precision_score(y, y_pred, pos_label="cat", sample_weight=weights)
    assert precision == pytest.approx(21 / 27)
    assert precision == pytest.approx(
        precision_score(y_dup, y_pred_dup, pos_label="cat")
    )
    # pos_label="dog" puts the share on the dogs instead.
    dog_weights = class_prior_weights(y, 0.25, pos_label="dog")
    np.testing.assert_allclose(dog_weights[y == "cat"], 3.0)
    np.testing.assert_allclose(dog_weights[y == "dog"], 1 / 3)


def test_sample_weight_is_multiplied_in_and_counts_like_copies():
    y = np.array([1] * 4 + [0] * 8)
    sample_weight = np.array([2, 1, 1, 1] + [1, 1, 2, 2, 1, 1, 1, 3])
    weights = class_prior_weights(y, "balanced", sample_weight=sample_weight)
    # Weighted totals 5 and 12, of 17: factors 8.5 / 5 and 8.5 / 12.
    np.testing.assert_allclose(weights / sample_weight, np.where(y == 1, 1.7, 8.5 / 12))
    assert weights.sum() == pytest.approx(17)
    # A weight of k is k copies of the row: the same weights per copy.
    rows = np.repeat(np.arange(12), sample_weight)
    copies = class_prior_weights(y[rows], "balanced")
    np.testing.assert_allclose(copies, (weights / sample_weight)[rows])
    # "train" returns the caller's weights unchanged.
    np.testing.assert_array_equal(
        class_prior_weights(y, "train", sample_weight=sample_weight), sample_weight
    )


def test_labels_let_a_fold_lack_a_class_the_prior_does_not_need():
    y_fold = np.array([0, 0, 1, 1, 1])
    # A prior over all classes of the data is checked against all of them...
    prior = {0: 0.25, 1: 0.25, 2: 0.5}
    with pytest.raises(ValueError, match=r"class_prior=.*no samples of them"):
        class_prior_weights(y_fold, prior, labels=[0, 1, 2])
    # ...and, without labels, class 2 is an unknown class.
    with pytest.raises(ValueError, match=r"class_prior has classes \[2\]"):
        class_prior_weights(y_fold, prior)
    # "balanced" balances the classes present.
    weights = class_prior_weights(y_fold, "balanced", labels=[0, 1, 2])
    np.testing.assert_allclose(weights, [1.25, 1.25, 5 / 6, 5 / 6, 5 / 6])
    with pytest.raises(ValueError, match=r"labels \[3\].*labels=\[0, 1, 2\]"):
        class_prior_weights([0, 3], "balanced", labels=[0, 1, 2])


BAD_PRIORS = [
    # (class_prior, y, pos_label, error, pattern)
    (-0.1, [0, 1], None, ValueError, r"class_prior=-0\.1 is not a share in .*\(0, 1\)"),
    (0, [0, 1], None, ValueError, r"class_prior=0 is not a share"),
    (0.0, [0, 1], None, ValueError, r"class_prior=0\.0 is not a share"),
    (1, [0, 1], None, ValueError, r"class_prior=1 is not a share"),
    (1.5, [0, 1], None, ValueError, r"class_prior=1\.5 is not a share"),
    (math.nan, [0, 1], None, ValueError, r"class_prior=nan is not a share"),
    (
        {0: 0.0, 1: 1.0},
        [0, 1],
        None,
        ValueError,
        r"class_prior\[0\]=0\.0 is not a share",
    ),
    ({0: -0.5, 1: 1.5}, [0, 1], None, ValueError, r"class_prior\[0\]=-0\.5"),
    ({0: 1.0}, [0], None, ValueError, r"class_prior\[0\]=1\.0 is not a share"),
    ({0: 0.5, 1: 0.6}, [0, 1], None, ValueError, r"class_prior=.* sum to 1\.1, not 1"),
    ({0: 0.5, 7: 0.5}, [0, 1], None, ValueError, r"class_prior has classes \[7\]"),
    ({0: 0.5, 1: 0.5}, [0, 1, 2], None, ValueError, r"class_prior=.* no share .*\[2\]"),
    ({}, [0, 1], None, ValueError, r"class_prior=\{\} is an empty dict"),
    (0.3, [0, 1, 2], None, ValueError, r"class_prior=0\.3 .* exactly two classes"),
    ("uniform", [0, 1], None, ValueError, r"class_prior='uniform' is not a known"),
    ("Balanced", [0, 1], None, ValueError, r"class_prior='Balanced' is not a known"),
    (True, [0, 1], None, TypeError, r"class_prior=True has the wrong type \(bool\)"),
    # numpy >= 2 shows np.True_, numpy 1 True (the oldest supported versions).
    (np.True_, [0, 1], None, TypeError, r"class_prior=(np\.True_|True) has the wrong"),
    (None, [0, 1], None, TypeError, r"class_prior=None has the wrong type"),
    ([0.5, 0.5], [0, 1], None, TypeError, r"class_prior=\[0\.5, 0\.5\] has the wrong"),
    ({0: "half", 1: 0.5}, [0, 1], None, TypeError, r"class_prior\[0\]='half' is a str"),
    ({0: True, 1: 0.5}, [0, 1], None, TypeError, r"class_prior\[0\]=True is a bool"),
    (0.1, ["cat", "dog"], None, ValueError, r"pos_label=None means .* 1.*class_prior"),
    (0.1, ["cat", "dog"], "bird", ValueError, r"pos_label='bird' is not.*class_prior"),
    (0.1, [0, 0], None, ValueError, r"class_prior=0\.1 .* exactly two classes"),
]


@pytest.mark.parametrize("class_prior, y, pos_label, error, pattern", BAD_PRIORS)
def test_bad_priors_are_refused_naming_class_prior(
    class_prior, y, pos_label, error, pattern
):
    with pytest.raises(error, match=pattern) as raised:
        class_prior_weights(y, class_prior, pos_label=pos_label)
    assert "class_prior" in str(raised.value)
    # check_class_prior refuses the same values with the same message.
    with pytest.raises(error, match=pattern):
        check_class_prior(class_prior, np.unique(y), pos_label=pos_label)


def test_a_shared_class_without_samples_is_refused():
    with pytest.raises(ValueError, match=r"class_prior=0\.5 .*\[1\], but y_true has"):
        class_prior_weights([0, 0, 0], 0.5, labels=[0, 1])
    with pytest.raises(ValueError, match=r"'balanced' .*\[1\].*weight 0"):
        class_prior_weights([0, 1, 1], "balanced", sample_weight=[1, 0, 0])


def test_bad_sample_weight_is_refused():
    with pytest.raises(ValueError, match=r"sample_weight must .* per sample .*\(3\)"):
        class_prior_weights([0, 1, 1], "balanced", sample_weight=[1, 1])
    with pytest.raises(ValueError, match=r"non-negative .* from -1\.0"):
        class_prior_weights([0, 1, 1], "balanced", sample_weight=[1, -1, 1])


def test_check_class_prior_normalises():
    assert check_class_prior("train", [0, 1]) == "train"
    assert check_class_prior("balanced", [0, 1, 2]) == "balanced"
    prior = check_class_prior(0.2, np.array([0, 1]))
    assert prior == pytest.approx({0: 0.8, 1: 0.2})
    assert all(type(label) is int for label in prior)  # plain Python labels
    assert list(check_class_prior({"b": 0.7, "a": 0.3}, ["b", "a"])) == ["a", "b"]
    # Within the 1e-6 tolerance the shares are rescaled to sum to exactly 1.
    nearly = check_class_prior({0: 0.3333333, 1: 0.6666666}, [0, 1])
    assert math.fsum(nearly.values()) == pytest.approx(1, abs=1e-15)
    assert nearly[0] == pytest.approx(1 / 3, abs=1e-7)


@pytest.mark.parametrize(
    "class_prior, classes, pos_label, expected",
    [
        ("balanced", ["cat", "dog"], None, "as if cat and dog were equally frequent"),
        ("balanced", range(10), None, "as if all 10 classes were equally frequent"),
        ("balanced", [0, 1], None, "as if class 0 and class 1 were equally frequent"),
        ("train", ["cat", "dog"], None, "at the training data's own class proportions"),
        (0.1, ["cat", "dog"], "cat", "as if cat made up 10% of the data"),
        (1 / 23, ["cat", "dog"], "cat", "as if cat made up 4.3% of the data"),
        (0.5, ["cat", "dog"], "dog", "as if dog made up 50% of the data"),
        (0.001, [0, 1], None, "as if class 1 made up 0.1% of the data"),
        (0.999, [0, 1], None, "as if class 1 made up 99.9% of the data"),
        (1 / 3, [0, 1], None, "as if class 1 made up 33.3% of the data"),
        (0.00043, [0, 1], None, "as if class 1 made up 0.043% of the data"),
        (
            {"cat": 0.1, "dog": 0.9},
            ["cat", "dog"],
            None,
            "as if cat were 10% and dog 90% of the data",
        ),
        (
            {"a": 0.2, "b": 0.3, "c": 0.5},
            ["a", "b", "c"],
            None,
            "as if a were 20%, b 30% and c 50% of the data",
        ),
    ],
)
def test_describe_class_prior(class_prior, classes, pos_label, expected):
    assert describe_class_prior(class_prior, classes, pos_label=pos_label) == expected


def test_describe_class_prior_refuses_what_check_refuses():
    with pytest.raises(ValueError, match="class_prior='even'"):
        describe_class_prior("even", ["cat", "dog"])


def test_minority_class_fixes_the_f1_scorer_for_string_labels():
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import f1_score, make_scorer
    from sklearn.model_selection import cross_val_score

    from skimbal.metrics import minority_class

    rng = np.random.default_rng(0)
    X = np.r_[rng.normal(0, 1, (60, 2)), rng.normal(2, 1, (12, 2))]
    y = np.array(["dog"] * 60 + ["cat"] * 12)
    assert minority_class(y) == "cat"
    assert minority_class([0, 0, 1, 1]) == 1  # a tie: the later label
    assert minority_class(np.array([3, 3, 7])) == 7
    # scoring="f1" gives NaN with string labels; the minority scorer does not.
    with pytest.warns(UserWarning):
        naive = cross_val_score(LogisticRegression(), X, y, scoring="f1", cv=3)
    assert np.isnan(naive).all()
    fixed = cross_val_score(
        LogisticRegression(),
        X,
        y,
        scoring=make_scorer(f1_score, pos_label=minority_class(y)),
        cv=3,
    )
    assert np.isfinite(fixed).all() and fixed.mean() > 0.5
    with pytest.raises(ValueError, match="at least 2 classes"):
        minority_class(["cat", "cat"])
