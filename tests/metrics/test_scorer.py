"""make_prior_scorer: scikit-learn's scores at "train", duplication elsewhere."""

import pickle
import warnings

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import (
    average_precision_score,
    f1_score,
    get_scorer,
    log_loss,
    make_scorer,
    precision_score,
)
from sklearn.model_selection import (
    GridSearchCV,
    StratifiedKFold,
    TunedThresholdClassifierCV,
    cross_val_score,
)

from skimbal.metrics import class_prior_weights, make_prior_scorer

BINARY_NAMES = [
    "f1",
    "precision",
    "recall",
    "average_precision",
    "balanced_accuracy",
    "accuracy",
    "f1_macro",
    "precision_macro",
    "recall_macro",
    "roc_auc",
    "neg_log_loss",
    "jaccard",
]
MULTICLASS_NAMES = [
    "f1_macro",
    "precision_macro",
    "recall_macro",
    "balanced_accuracy",
    "accuracy",
    "neg_log_loss",
]


def rows_of(y, counts, rng):
    """Indices of counts[c] rows of each class c, in random order."""
    rows = [
        rng.choice(np.flatnonzero(y == c), n, replace=False) for c, n in counts.items()
    ]
    return rng.permutation(np.concatenate(rows))


def duplicated(X, y, repeats):
    """Every row of class c repeated repeats[c] times."""
    rows = np.concatenate(
        [np.repeat(np.flatnonzero(y == c), k) for c, k in repeats.items()]
    )
    return X[rows], y[rows]


@pytest.fixture(scope="module")
def binary_task():
    """A model fitted on 1:9 data, a held-out set of 20 positives, 180 negatives."""
    X, y = make_classification(
        n_samples=1500, weights=[0.9], flip_y=0.05, class_sep=1.0, random_state=0
    )
    rng = np.random.default_rng(0)
    test = rows_of(y, {1: 20, 0: 180}, rng)
    train = np.setdiff1d(np.arange(len(y)), test)
    model = LogisticRegression().fit(X[train], y[train])
    return model, X[train], y[train], X[test], y[test]


@pytest.fixture(scope="module")
def multiclass_task():
    """Three classes; held-out counts 10, 20, 40 (balanced by 4x, 2x, 1x)."""
    X, y = make_classification(
        n_samples=900,
        n_classes=3,
        n_informative=4,
        weights=[0.1, 0.3, 0.6],
        flip_y=0.05,
        random_state=0,
    )
    rng = np.random.default_rng(1)
    test = rows_of(y, {0: 10, 1: 20, 2: 40}, rng)
    train = np.setdiff1d(np.arange(len(y)), test)
    model = LogisticRegression(max_iter=500).fit(X[train], y[train])
    return model, X[test], y[test]


@pytest.mark.parametrize("name", BINARY_NAMES)
def test_train_prior_equals_scikit_learn_exactly(binary_task, name):
    model, _, _, X_test, y_test = binary_task
    ours = make_prior_scorer(name, class_prior="train")(model, X_test, y_test)
    assert ours == get_scorer(name)(model, X_test, y_test)


@pytest.mark.parametrize("name", BINARY_NAMES)
def test_balanced_prior_equals_duplicating_positives(binary_task, name):
    model, _, _, X_test, y_test = binary_task
    ours = make_prior_scorer(name, class_prior="balanced")(model, X_test, y_test)
    X_dup, y_dup = duplicated(X_test, y_test, {1: 9, 0: 1})
    assert ours == pytest.approx(get_scorer(name)(model, X_dup, y_dup), rel=1e-10)


def test_the_prior_changes_f1_and_average_precision(binary_task):
    model, _, _, X_test, y_test = binary_task
    # On 20 : 180, balancing raises precision (fewer negatives to confuse),
    # hence F1 and average precision; recall stays.
    for name, gain in (("f1", 0.02), ("precision", 0.1), ("average_precision", 0.1)):
        at_train = get_scorer(name)(model, X_test, y_test)
        scorer = make_prior_scorer(name, class_prior="balanced")
        assert scorer(model, X_test, y_test) > at_train + gain, name
    recall = make_prior_scorer("recall", class_prior="balanced")
    assert recall(model, X_test, y_test) == pytest.approx(
        get_scorer("recall")(model, X_test, y_test)
    )


@pytest.mark.parametrize("name", MULTICLASS_NAMES)
def test_multiclass_balanced_prior_equals_duplication(multiclass_task, name):
    model, X_test, y_test = multiclass_task
    assert make_prior_scorer(name, class_prior="train")(model, X_test, y_test) == (
        get_scorer(name)(model, X_test, y_test)
    )
    ours = make_prior_scorer(name, class_prior="balanced")(model, X_test, y_test)
    X_dup, y_dup = duplicated(X_test, y_test, {0: 4, 1: 2, 2: 1})
    assert ours == pytest.approx(get_scorer(name)(model, X_dup, y_dup), rel=1e-10)


@pytest.mark.parametrize(
    "share, repeats",
    [(0.5, {1: 9, 0: 1}), (0.25, {1: 3, 0: 1}), (1 / 19, {1: 1, 0: 2})],
)
def test_float_prior_equals_duplication(binary_task, share, repeats):
    model, _, _, X_test, y_test = binary_task
    X_dup, y_dup = duplicated(X_test, y_test, repeats)
    assert np.mean(y_dup) == pytest.approx(share)
    for name in ("f1", "average_precision"):
        ours = make_prior_scorer(name, class_prior=share)(model, X_test, y_test)
        assert ours == pytest.approx(get_scorer(name)(model, X_dup, y_dup))


@pytest.fixture(scope="module")
def cat_dog_task(binary_task):
    """The binary task with cat (the rare class) and dog as labels."""
    model, X_train, y_train, X_test, y_test = binary_task
    names = np.array(["dog", "cat"])
    model = LogisticRegression().fit(X_train, names[y_train])
    return model, X_test, names[y_test]


def test_string_labels_with_pos_label(cat_dog_task):
    model, X_test, y_test = cat_dog_task
    assert list(model.classes_) == ["cat", "dog"]  # the cat is column 0
    X_dup, y_dup = duplicated(X_test, y_test, {"cat": 9, "dog": 1})
    f1_cat = make_scorer(f1_score, pos_label="cat")
    ap_cat = make_scorer(
        average_precision_score, response_method="predict_proba", pos_label="cat"
    )
    for name, reference in (("f1", f1_cat), ("average_precision", ap_cat)):
        at_train = make_prior_scorer(name, class_prior="train", pos_label="cat")
        assert at_train(model, X_test, y_test) == reference(model, X_test, y_test)
        for prior in ("balanced", 0.5, {"cat": 0.5, "dog": 0.5}):
            scorer = make_prior_scorer(name, class_prior=prior, pos_label="cat")
            assert scorer(model, X_test, y_test) == pytest.approx(
                reference(model, X_dup, y_dup)
            )
    # The average precision of the cat's column, not the dog's.
    ap = make_prior_scorer("average_precision", class_prior=0.5, pos_label="cat")
    cat_scores = model.predict_proba(X_test)[:, 0]
    weights = class_prior_weights(y_test, 0.5, pos_label="cat")
    assert ap(model, X_test, y_test) == pytest.approx(
        average_precision_score(
            y_test, cat_scores, pos_label="cat", sample_weight=weights
        )
    )


def test_float_prior_without_pos_label_needs_label_one(cat_dog_task):
    model, X_test, y_test = cat_dog_task
    scorer = make_prior_scorer("balanced_accuracy", class_prior=0.5)
    with pytest.raises(ValueError, match=r"pos_label=None .* 1.*\['cat', 'dog'\]"):
        scorer(model, X_test, y_test)


def test_caller_sample_weight_counts_like_copies(binary_task):
    model, _, _, X_test, y_test = binary_task
    sample_weight = np.random.default_rng(5).integers(1, 4, len(y_test))
    rows = np.repeat(np.arange(len(y_test)), sample_weight)
    for name in ("f1", "average_precision", "neg_log_loss"):
        scorer = make_prior_scorer(name, class_prior="balanced")
        weighted = scorer(model, X_test, y_test, sample_weight=sample_weight)
        assert weighted == pytest.approx(scorer(model, X_test[rows], y_test[rows]))
        # The caller's weights are multiplied in: without them the score differs.
        assert weighted != pytest.approx(scorer(model, X_test, y_test))
    # At "train" they pass through to the metric unchanged.
    at_train = make_prior_scorer("f1", class_prior="train")
    assert at_train(model, X_test, y_test, sample_weight=sample_weight) == (
        get_scorer("f1")(model, X_test, y_test, sample_weight=sample_weight)
    )


def test_cross_val_score_scores_each_fold_at_the_prior(binary_task):
    _, X, y, _, _ = binary_task
    cv = StratifiedKFold(4, shuffle=True, random_state=0)
    scorer = make_prior_scorer("precision", class_prior="balanced")
    scores = cross_val_score(LogisticRegression(), X, y, cv=cv, scoring=scorer)
    expected = []
    for train, test in cv.split(X, y):
        y_pred = LogisticRegression().fit(X[train], y[train]).predict(X[test])
        weights = class_prior_weights(y[test], "balanced")
        expected.append(precision_score(y[test], y_pred, sample_weight=weights))
    np.testing.assert_allclose(scores, expected, rtol=1e-12)
    plain = cross_val_score(LogisticRegression(), X, y, cv=cv, scoring="precision")
    assert scores.mean() > plain.mean() + 0.05


def test_grid_search_ranks_by_the_prior_weighted_score(binary_task):
    _, X, y, _, _ = binary_task
    cv = StratifiedKFold(3, shuffle=True, random_state=0)
    scorer = make_prior_scorer("f1", class_prior=0.5)
    grid = {"C": [0.001, 1.0], "class_weight": [None, "balanced"]}
    search = GridSearchCV(LogisticRegression(), grid, scoring=scorer, cv=cv).fit(X, y)
    for params, mean in zip(
        search.cv_results_["params"],
        search.cv_results_["mean_test_score"],
        strict=True,
    ):
        folds = [
            f1_score(
                y[test],
                LogisticRegression(**params).fit(X[train], y[train]).predict(X[test]),
                sample_weight=class_prior_weights(y[test], 0.5),
            )
            for train, test in cv.split(X, y)
        ]
        assert mean == pytest.approx(np.mean(folds), rel=1e-12)
    assert search.best_score_ == max(search.cv_results_["mean_test_score"])


def test_tuned_threshold_maximises_the_prior_weighted_f1(binary_task):
    model, _, _, X_test, y_test = binary_task
    thresholds = np.linspace(0.02, 0.98, 49)
    X_dup, y_dup = duplicated(X_test, y_test, {1: 9, 0: 1})
    positive_dup = model.predict_proba(X_dup)[:, 1]
    f1_by_duplication = [
        f1_score(y_dup, (positive_dup >= t).astype(int)) for t in thresholds
    ]
    best = {}
    for prior in ("train", "balanced"):
        tuned = TunedThresholdClassifierCV(
            model,
            scoring=make_prior_scorer("f1", class_prior=prior),
            cv="prefit",
            refit=False,
            thresholds=thresholds,
        ).fit(X_test, y_test)
        best[prior] = tuned.best_threshold_
        if prior == "balanced":
            assert tuned.best_score_ == pytest.approx(max(f1_by_duplication))
            assert tuned.best_threshold_ == pytest.approx(
                thresholds[np.argmax(f1_by_duplication)]
            )
    # Balanced classes make positives cheaper to call: a lower threshold.
    assert best["balanced"] < best["train"]


def test_metric_function_and_make_scorer_object(binary_task):
    model, _, _, X_test, y_test = binary_task
    by_name = make_prior_scorer("f1", class_prior="balanced")(model, X_test, y_test)
    by_function = make_prior_scorer(f1_score, class_prior="balanced")
    assert by_function(model, X_test, y_test) == by_name
    ap = make_prior_scorer(
        average_precision_score,
        class_prior="balanced",
        response_method="predict_proba",
    )
    assert ap(model, X_test, y_test) == pytest.approx(
        make_prior_scorer("average_precision", class_prior="balanced")(
            model, X_test, y_test
        )
    )
    loss = make_prior_scorer(
        log_loss,
        class_prior="balanced",
        response_method="predict_proba",
        greater_is_better=False,
    )
    assert loss(model, X_test, y_test) == pytest.approx(
        make_prior_scorer("neg_log_loss", class_prior="balanced")(model, X_test, y_test)
    )
    assert loss(model, X_test, y_test) < 0
    made = make_scorer(f1_score, pos_label=0)
    assert make_prior_scorer(made, class_prior="balanced")(model, X_test, y_test) == (
        make_prior_scorer("f1", class_prior="balanced", pos_label=0)(
            model, X_test, y_test
        )
    )


def test_kwargs_reach_the_metric(binary_task):
    _, X_train, y_train, X_test, y_test = binary_task
    never_positive = DummyClassifier(strategy="most_frequent").fit(X_train, y_train)
    for zero_division in (0.0, 1.0):
        scorer = make_prior_scorer(
            "precision", class_prior="balanced", zero_division=zero_division
        )
        assert scorer(never_positive, X_test, y_test) == zero_division


def test_pos_label_is_not_passed_to_averaged_metrics(cat_dog_task):
    model, X_test, y_test = cat_dog_task
    scorer = make_prior_scorer("f1_macro", class_prior=0.5, pos_label="cat")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        score = scorer(model, X_test, y_test)
    balanced = make_prior_scorer("f1_macro", class_prior="balanced")
    assert score == pytest.approx(balanced(model, X_test, y_test))


def test_repr_names_the_prior_and_the_scorer_pickles(binary_task):
    model, _, _, X_test, y_test = binary_task
    scorer = make_prior_scorer("f1", class_prior=0.25)
    assert repr(scorer) == (
        "make_scorer(f1_score at class_prior=0.25, response_method='predict', "
        "average=binary, pos_label=1)"
    )
    restored = pickle.loads(pickle.dumps(scorer))
    assert restored(model, X_test, y_test) == scorer(model, X_test, y_test)


@pytest.mark.parametrize(
    "class_prior, error, pattern",
    [
        ("uniform", ValueError, r"class_prior='uniform' is not a known prior"),
        (True, TypeError, r"class_prior=True has the wrong type"),
        (1.5, ValueError, r"class_prior=1\.5 is not a share"),
        (0, ValueError, r"class_prior=0 is not a share"),
        ({0: 0.5, 1: 0.6}, ValueError, r"class_prior=.* sum to 1\.1"),
        ({0: 0.0, 1: 1.0}, ValueError, r"class_prior\[0\]=0\.0 is not a share"),
        (None, TypeError, r"class_prior=None has the wrong type"),
    ],
)
def test_malformed_priors_are_refused_when_the_scorer_is_made(
    class_prior, error, pattern
):
    with pytest.raises(error, match=pattern):
        make_prior_scorer("f1", class_prior=class_prior)


def test_unknown_classes_are_refused_when_scoring(binary_task):
    model, X, y, _, _ = binary_task
    scorer = make_prior_scorer("f1", class_prior={0: 0.5, 7: 0.5})
    with pytest.raises(ValueError, match=r"class_prior has classes \[7\]"):
        cross_val_score(model, X, y, cv=3, scoring=scorer, error_score="raise")


def test_bad_scoring_is_refused():
    with pytest.raises(ValueError, match=r"scoring='f2' is not a scikit-learn scorer"):
        make_prior_scorer("f2", class_prior="balanced")
    with pytest.raises(TypeError, match=r"scoring=3 is neither"):
        make_prior_scorer(3, class_prior="balanced")

    def no_weights(y_true, y_pred):
        return 0.0

    with pytest.raises(TypeError, match=r"no_weights takes no sample_weight"):
        make_prior_scorer(no_weights, class_prior="balanced")
