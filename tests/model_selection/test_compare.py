"""compare_strategies: the same splits for all, thresholds, t-tests, the model."""

import re
import sys

import matplotlib.pyplot as plt
import numpy as np
import pytest
from imblearn import FunctionSampler
from imblearn.over_sampling import RandomOverSampler
from imblearn.pipeline import Pipeline
from sklearn.base import clone
from sklearn.metrics import (
    average_precision_score,
    f1_score,
    make_scorer,
    precision_score,
    recall_score,
)
from sklearn.model_selection import (
    FixedThresholdClassifier,
    GridSearchCV,
    ParameterGrid,
    StratifiedKFold,
)

from skimbal import CNNClassifier
from skimbal.datasets import load_digits_images
from skimbal.metrics import class_prior_weights
from skimbal.model_selection import (
    FoldEnsembleClassifier,
    StrategyReport,
    compare_strategies,
    corrected_ttest,
    f1_threshold,
    strategy_grid,
)
from skimbal.model_selection._budget import step_budget
from skimbal.model_selection._compare import resolve_pos_label
from skimbal.model_selection._strategy_names import IN_ALL

METRICS = ["f1", "precision", "recall", "balanced_accuracy", "average_precision"]


@pytest.fixture(scope="module")
def all_report(odd_digits, tiny_cnn, two_folds):
    X, y = odd_digits
    return compare_strategies(
        X, y, tiny_cnn, strategies="all", cv=two_folds, random_state=0
    )


def test_every_named_strategy_fits_and_scores(all_report):
    table = all_report.table
    assert sorted(table.index) == sorted(IN_ALL)
    columns = [*METRICS, "f1_at_0.5", "threshold", "f1_train_prior"]
    scores = table[[f"{m}_{s}" for m in columns for s in ("mean", "std")]]
    assert np.isfinite(scores.to_numpy()).all()
    assert (table["fit_time_mean"] > 0).all()
    assert (table["note"] == "").all() and all_report.notes == []
    assert table.loc["focal", "n_candidates"] == 6
    assert table.loc["logit_adjusted", "n_candidates"] == 2
    # Every candidate of the grid, counted from the strategy registry.
    n_candidates = len(ParameterGrid(strategy_grid()))
    assert table["n_candidates"].sum() == len(all_report.candidates) == n_candidates


def test_table_is_sorted_and_the_choice_follows_the_documented_rule(all_report):
    table = all_report.table
    f1 = table["f1_mean"].to_numpy()
    assert np.all(f1[:-1] >= f1[1:])
    assert list(table.columns[:2]) == ["f1_mean", "f1_std"]
    top = table.index[0]
    assert all_report.metadata["top_strategy"] == top
    assert table.loc[top, "tied_with_best"]
    # The choice: the simplest strategy tied with the top one and within
    # tie_tolerance of its mean.
    eligible = [
        name
        for name in IN_ALL  # the strategies of "all", in SIMPLICITY's order
        if table.loc[name, "tied_with_best"]
        and f1[0] - table.loc[name, "f1_mean"] <= 0.01
    ]
    assert all_report.best_strategy_ == eligible[0]
    assert table["chosen"].sum() == 1 and table.loc[eligible[0], "chosen"]
    # Each strategy shows its best candidate.
    focal = all_report.candidates.query("strategy == 'focal'")
    assert table.loc["focal", "f1_mean"] == focal["f1_mean"].max()


def test_t_tests_in_the_table_are_the_corrected_test_on_the_split_scores(
    all_report, odd_digits
):
    table, scores = all_report.table, all_report.split_scores
    n = len(odd_digits[1])
    top = table.index[0]
    for name in table.index:
        if name != top:
            _, p = corrected_ttest(
                scores[top] - scores[name], n_train=n // 2, n_test=n - n // 2
            )
            assert table.loc[name, "p_vs_best"] == pytest.approx(p)
            assert table.loc[name, "tied_with_best"] == (p >= 0.05)
        if name != "plain":
            _, p = corrected_ttest(
                scores[name] - scores["plain"], n_train=n // 2, n_test=n - n // 2
            )
            assert table.loc[name, "p_vs_plain"] == pytest.approx(p)
    np.testing.assert_allclose(scores.mean().loc[table.index], table["f1_mean"])


def test_each_folds_threshold_comes_from_the_other_folds_never_its_own(
    all_report, odd_digits, two_folds
):
    X, y = odd_digits
    name = all_report.best_strategy_
    prediction = all_report.predictions_[name]
    folds = [test for _, test in two_folds.split(X, y)]
    thresholds = []
    for own, other in [(folds[0], folds[1]), (folds[1], folds[0])]:
        # The threshold F1-best on the other fold's out-of-fold probabilities
        # is the one this fold's predictions were made with...
        expected, _ = f1_threshold(y[other], prediction["proba"][other, 1], pos_label=1)
        predicted = prediction["pred"][own]
        np.testing.assert_array_equal(
            predicted, (prediction["proba"][own, 1] >= expected).astype(int)
        )
        thresholds.append(expected)
        # ... and not one chosen on the fold itself, which scores at least as
        # well there.
        on_test, best_possible = f1_threshold(
            y[own], prediction["proba"][own, 1], pos_label=1
        )
        weights = class_prior_weights(y[own], "balanced", pos_label=1)
        reported = f1_score(y[own], predicted, sample_weight=weights)
        assert reported <= best_possible + 1e-12
    assert all_report.table.loc[name, "threshold_mean"] == pytest.approx(
        np.mean(thresholds)
    )
    assert all_report.metadata["threshold_source"] == "other folds"
    assert (all_report.table["threshold_mean"] < 1).all()


def test_without_tuning_at_train_prior_the_numbers_equal_grid_search(
    odd_digits, tiny_cnn, two_folds
):
    X, y = odd_digits
    names = ["plain", "class_weight", "oversample", "focal"]
    report = compare_strategies(
        X,
        y,
        tiny_cnn,
        names,
        cv=two_folds,
        random_state=0,
        class_prior="train",
        tune_threshold=False,
        refit=False,
    )
    scoring = {
        "f1": make_scorer(f1_score, pos_label=1, zero_division=0.0),
        "precision": make_scorer(precision_score, pos_label=1, zero_division=0.0),
        "recall": make_scorer(recall_score, pos_label=1, zero_division=0.0),
        "balanced_accuracy": "balanced_accuracy",
        "average_precision": make_scorer(
            average_precision_score, response_method="predict_proba", pos_label=1
        ),
    }
    # The same step budget for every strategy: max_epochs over a training fold.
    budgeted = clone(tiny_cnn).set_params(**step_budget(tiny_cnn, len(y) // 2))
    search = GridSearchCV(
        Pipeline([("sampler", "passthrough"), ("clf", budgeted)]),
        strategy_grid(names, random_state=0),
        scoring=scoring,
        cv=two_folds,
        refit=False,
        error_score="raise",
    ).fit(X, y)
    results = search.cv_results_
    candidates = report.candidates
    for metric in METRICS:
        np.testing.assert_allclose(
            candidates[f"{metric}_mean"], results[f"mean_test_{metric}"], atol=1e-12
        )
        np.testing.assert_allclose(
            candidates[f"{metric}_std"], results[f"std_test_{metric}"], atol=1e-12
        )
    assert "f1_train_prior_mean" not in report.table
    assert "threshold_mean" not in report.table
    assert report.best_estimator_ is None


def test_the_chosen_model_is_the_comparisons_fold_models_with_their_threshold(
    all_report, odd_digits
):
    X, y = odd_digits
    model = all_report.best_estimator_
    assert isinstance(model, FixedThresholdClassifier)
    assert model.threshold == all_report.metadata["threshold"]
    assert 0 < model.threshold < 1
    assert all_report.metadata["final_model"] == "fold ensemble (2 models)"
    ensemble = model.estimator_
    assert isinstance(ensemble, FoldEnsembleClassifier)
    # The members are the fits that were scored: each one predicts its own
    # test fold exactly as the out-of-fold predictions say.
    oof = all_report.predictions_[all_report.best_strategy_]["proba"]
    for member, (train, test) in zip(ensemble.estimators_, ensemble.cv, strict=True):
        assert len(train) + len(test) == len(y)
        np.testing.assert_allclose(member.predict_proba(X[test]), oof[test], atol=1e-6)
    proba = model.predict_proba(X)[:, 1]
    np.testing.assert_array_equal(model.predict(X), (proba >= model.threshold) * 1)
    # The threshold is the F1-best one over those pooled out-of-fold
    # probabilities.
    assert model.threshold == pytest.approx(f1_threshold(y, oof[:, 1], pos_label=1)[0])
    # Every strategy's ensemble is there, the chosen one among them.
    assert set(all_report.estimators_) == set(all_report.table.index)
    assert model is all_report.estimators_[all_report.best_strategy_]


def test_the_ensemble_recipe_trains_the_same_fold_models(all_report, odd_digits):
    X, y = odd_digits
    recipe = all_report.make_estimator(all_report.best_strategy_)
    refitted = recipe.fit(X, y)
    np.testing.assert_allclose(
        refitted.predict_proba(X),
        all_report.best_estimator_.predict_proba(X),
        atol=1e-5,
    )


def test_without_ensemble_the_chosen_strategy_is_refitted_on_everything(
    odd_digits, tiny_cnn, two_folds, capsys
):
    X, y = odd_digits
    report = compare_strategies(
        X,
        y,
        tiny_cnn,
        ["plain", "oversample"],
        cv=two_folds,
        random_state=0,
        ensemble=False,
        progress=True,
    )
    # 2 candidates x 2 folds, then the refit.
    assert "5/5" in capsys.readouterr().err
    assert report.metadata["final_model"] == "refit on all data"
    assert report.estimators_ == {}
    model = report.best_estimator_
    clf = model.estimator_.named_steps["clf"]
    assert clf.class_counts_.sum() >= len(y)  # all rows (more after oversampling)
    assert model.threshold == report.metadata["threshold"]


def test_the_class_prior_changes_scores_and_thresholds_not_the_fits(
    odd_digits, tiny_cnn, two_folds
):
    X, y = odd_digits
    kwargs = dict(strategies=["plain", "class_weight"], cv=two_folds, random_state=0)
    balanced = compare_strategies(X, y, tiny_cnn, refit=False, **kwargs)
    train = compare_strategies(
        X, y, tiny_cnn, class_prior="train", refit=False, **kwargs
    )
    assert (
        balanced.metadata["class_prior_text"]
        == "as if class 0 and class 1 were equally frequent"
    )
    assert train.metadata["class_prior"] == "train"
    # The same fits: average precision at "train" is scikit-learn's, and the
    # F1 at the training prior of the balanced run equals the train run's F1.
    pd_cols = ["f1_train_prior_mean"]
    np.testing.assert_allclose(
        balanced.table.loc[train.table.index, pd_cols[0]], train.table["f1_mean"]
    )
    # A rare positive counts more at the balanced prior: higher precision.
    for name in ["plain", "class_weight"]:
        assert (
            balanced.table.loc[name, "precision_mean"]
            >= train.table.loc[name, "precision_mean"] - 1e-12
        )


#: Row ids each sampler call received. Module-level, because cloning
#: deep-copies a FunctionSampler's arguments but not a function.
SAMPLED_ROWS = []


def record_and_oversample(X, y):
    SAMPLED_ROWS.append(frozenset(X[:, 0].astype(int).tolist()))
    return RandomOverSampler(random_state=0).fit_resample(X, y)


def test_resampling_sees_the_whole_training_fold_never_the_test_fold(tiny_cnn):
    rng = np.random.default_rng(0)
    y = np.r_[np.zeros(150, int), np.ones(15, int)]
    X = rng.normal(size=(len(y), 64)).astype(np.float32)
    X[:, 0] = np.arange(len(y))  # a row id the sampler can report
    SAMPLED_ROWS.clear()
    cv = StratifiedKFold(3, shuffle=True, random_state=0)
    splits = list(cv.split(X, y))
    compare_strategies(
        X,
        y,
        tiny_cnn,
        strategies={
            "recorded": {"sampler": FunctionSampler(func=record_and_oversample)}
        },
        cv=cv,
        refit=False,
    )
    assert len(SAMPLED_ROWS) == len(splits)
    for rows, (train, test) in zip(SAMPLED_ROWS, splits, strict=True):
        # The whole training fold (no hold-out); nothing of the test fold.
        assert rows == frozenset(train.tolist())
        assert rows.isdisjoint(test.tolist())


def test_pos_label_defaults_to_the_minority_with_string_labels(
    odd_digits, tiny_cnn, two_folds
):
    X, y = odd_digits
    names = np.where(y == 1, "odd", "even")
    kwargs = dict(
        strategies=["plain", "oversample"], cv=two_folds, random_state=0, refit=False
    )
    by_name = compare_strategies(X, names, tiny_cnn, **kwargs)
    by_int = compare_strategies(X, y, tiny_cnn, **kwargs)
    assert by_name.metadata["pos_label"] == "odd"
    assert by_name.metadata["labels"] == ["even", "odd"]
    assert by_name.metadata["class_prior_text"] == (
        "as if even and odd were equally frequent"
    )
    assert by_int.metadata["pos_label"] == 1
    # Labels renamed, same folds and seeds: the same numbers.
    np.testing.assert_array_equal(
        by_name.table.filter(regex="^(f1|precision|recall)").to_numpy(),
        by_int.table.filter(regex="^(f1|precision|recall)").to_numpy(),
    )
    flipped = compare_strategies(X, 1 - y, tiny_cnn, **kwargs)
    assert flipped.metadata["pos_label"] == 0


def test_resolve_pos_label():
    assert resolve_pos_label(np.array([0, 0, 1]), None) == 1
    assert resolve_pos_label(np.array([0, 1, 1]), None) == 0
    assert resolve_pos_label(np.array(["a", "b"]), None) == "b"  # tie: the later
    assert resolve_pos_label(np.array(["a", "b", "b"]), "b") == "b"
    assert resolve_pos_label(np.array([0, 1, 2]), None) is None
    with pytest.raises(ValueError, match=re.escape("pos_label='c' is not a label")):
        resolve_pos_label(np.array(["a", "b"]), "c")
    with pytest.raises(ValueError, match=re.escape("labels are ['a', 'b']")):
        resolve_pos_label(np.array(["a", "b"]), 1)
    with pytest.raises(ValueError, match="binary problems only"):
        resolve_pos_label(np.array([0, 1, 2]), 1)


def test_a_failing_strategy_is_a_row_with_nan_and_the_error(
    odd_digits, tiny_cnn, two_folds
):
    X, y = odd_digits
    report = compare_strategies(
        X,
        y,
        tiny_cnn,
        {"plain": None, "broken": {"clf__criterion": "no_such_loss"}},
        cv=two_folds,
    )
    assert report.table.index[-1] == "broken"
    assert np.isnan(report.table.loc["broken", "f1_mean"])
    assert "Unknown criterion='no_such_loss'" in report.table.loc["broken", "note"]
    assert any(note.startswith("broken: error") for note in report.notes)
    assert report.best_strategy_ == "plain"
    assert not report.table.loc["broken", "tied_with_best"]


def test_every_strategy_failing_raises(odd_digits, tiny_cnn, two_folds):
    X, y = odd_digits
    with pytest.raises(ValueError, match="Every candidate failed.*no_such_loss"):
        compare_strategies(
            X, y, tiny_cnn, {"broken": {"clf__criterion": "no_such_loss"}}, cv=two_folds
        )


def test_multiclass_uses_macro_scores_without_thresholds(tiny_cnn):
    X, y = load_digits_images(return_X_y=True)
    keep = y < 3
    report = compare_strategies(
        X[keep], y[keep], tiny_cnn, ["plain", "class_weight"], cv=2, random_state=0
    )
    assert report.metadata["pos_label"] is None
    assert report.metadata["class_prior_text"] == (
        "as if all 3 classes were equally frequent"
    )
    assert "threshold_mean" not in report.table and "f1_at_0.5_mean" not in report.table
    assert np.isfinite(report.table["average_precision_mean"]).all()
    assert not isinstance(report.best_estimator_, FixedThresholdClassifier)
    assert set(report.best_estimator_.predict(X[keep][:20])) <= {0, 1, 2}
    figure = report.plot_confusion_matrices()
    assert len(figure.axes) == len(report.predictions_)
    plt.close(figure)
    with pytest.raises(ValueError, match="binary"):
        report.plot_precision_recall()


def test_repeats_multiply_the_splits(odd_digits, tiny_cnn):
    X, y = odd_digits
    report = compare_strategies(
        X,
        y,
        tiny_cnn,
        ["plain", "class_weight"],
        cv=2,
        n_repeats=2,
        random_state=0,
        refit=False,
    )
    assert report.split_scores.shape == (4, 2)
    assert report.metadata["n_splits"] == 4 and report.metadata["n_repeats"] == 2
    # Out-of-fold predictions cover every sample once (the first repeat).
    for prediction in report.predictions_.values():
        assert np.isfinite(prediction["proba"]).all()


def test_other_scorer_ranks_and_is_added(odd_digits, tiny_cnn, two_folds):
    X, y = odd_digits
    report = compare_strategies(
        X,
        y,
        tiny_cnn,
        ["plain", "oversample"],
        cv=two_folds,
        scoring="roc_auc",
        refit=False,
    )
    assert report.metadata["scoring"] == "roc_auc"
    assert list(report.table.columns[:2]) == ["roc_auc_mean", "roc_auc_std"]
    assert "f1_mean" in report.table.columns


def test_default_estimator_guesses_square_images(odd_digits):
    X, y = odd_digits
    report = compare_strategies(
        X[:200], y[:200], None, ["plain"], cv=2, random_state=0, refit=False
    )
    assert "input_shape=(1, 8, 8)" in report.metadata["estimator"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"backend": "spark"}, "backend must be one of"),
        ({"scheduler": "tcp://x:1"}, "needs backend='dask'"),
        ({"scoring": "nope"}, "scoring must be None"),
        ({"cv": 1}, "at least 2 folds"),
        ({"strategies": "focul"}, "Did you mean 'focal'"),
        ({"strategies": ["threshold_tuning"]}, "the 'plain' row is threshold tuning"),
        ({"pos_label": 7}, "pos_label=7 is not a label"),
        ({"class_prior": 1.5}, "class_prior"),
        ({"class_prior": "even"}, "class_prior"),
        ({"n_repeats": 0}, "n_repeats must be an int >= 1"),
        ({"cv": StratifiedKFold(2), "n_repeats": 2}, "RepeatedStratifiedKFold"),
        ({"alpha": 1.0}, "alpha must be a float in (0, 1)"),
        ({"tie_tolerance": -0.1}, "tie_tolerance must be a number >= 0"),
        ({"refit": "yes"}, "refit must be True or False"),
        ({"ensemble": 1}, "ensemble must be True or False"),
    ],
)
def test_invalid_arguments_fail_before_any_fit(
    odd_digits, tiny_cnn, kwargs, message, monkeypatch
):
    X, y = odd_digits

    def fail(*args, **kwargs):
        raise AssertionError("training started")

    monkeypatch.setattr(CNNClassifier, "fit", fail)
    with pytest.raises(ValueError, match=re.escape(message)):
        compare_strategies(X, y, tiny_cnn, **kwargs)


def test_progress_bar_counts_fits(odd_digits, tiny_cnn, two_folds, capsys):
    X, y = odd_digits
    compare_strategies(
        X, y, tiny_cnn, ["plain", "oversample"], cv=two_folds, progress=True
    )
    err = capsys.readouterr().err
    # 2 candidates x 2 folds; the fold models are the final model.
    assert "4/4" in err


@pytest.mark.slow
def test_dask_scheduler_gives_the_sequential_numbers(odd_digits, tiny_cnn, two_folds):
    distributed = pytest.importorskip("distributed")
    X, y = odd_digits
    kwargs = dict(
        strategies=["plain", "oversample"], cv=two_folds, random_state=0, refit=False
    )
    # One torch thread here (conftest) as in Dask's workers: the same numbers.
    local = compare_strategies(X, y, tiny_cnn, **kwargs)
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        remote = compare_strategies(
            X,
            y,
            tiny_cnn,
            backend="dask",
            scheduler=cluster.scheduler_address,
            **kwargs,
        )
        # The fits ran on the worker, and the caller's cluster is left running.
        with distributed.Client(cluster) as client:
            ran_there = client.run(lambda: "skimbal._classifier" in sys.modules)
            assert any(ran_there.values())
    np.testing.assert_array_equal(
        local.table["f1_mean"], remote.table.loc[local.table.index, "f1_mean"]
    )
    assert distributed.client._get_global_client() is None


def test_dask_backend_without_distributed_says_what_to_install(
    odd_digits, tiny_cnn, monkeypatch
):
    monkeypatch.setitem(sys.modules, "distributed", None)
    X, y = odd_digits
    with pytest.raises(
        ImportError, match=re.escape('pip install "skimbal[distributed]"')
    ):
        compare_strategies(X, y, tiny_cnn, ["plain"], cv=2, backend="dask")


def test_too_few_minority_samples_for_the_folds_fail_before_training(monkeypatch):
    X = np.random.RandomState(0).rand(40, 64)
    y = np.array([0] * 37 + [1] * 3)

    def fail(*args, **kwargs):
        raise AssertionError("training started")

    monkeypatch.setattr(CNNClassifier, "initialize", fail)
    with pytest.raises(ValueError, match="class 1 has only 3 samples, fewer than"):
        compare_strategies(X, y, cv=5, strategies=["plain"])


def test_fold_without_a_class_fails_before_training(monkeypatch):
    X = np.random.RandomState(0).rand(40, 64)
    y = np.array([0] * 30 + [1] * 10)
    unshuffled = [
        (np.arange(20, 40), np.arange(20)),
        (np.arange(20), np.arange(20, 40)),
    ]

    def fail(*args, **kwargs):
        raise AssertionError("training started")

    monkeypatch.setattr(CNNClassifier, "initialize", fail)
    with pytest.raises(ValueError, match=r"test part of fold 0 has no samples of"):
        compare_strategies(X, y, cv=unshuffled, strategies=["plain"])


def test_learned_loss_parameters_reach_the_report(
    odd_digits, tiny_cnn, two_folds, tmp_path
):
    X, y = odd_digits
    report = compare_strategies(
        X,
        y,
        tiny_cnn,
        strategies=["plain", "autobalance"],
        cv=two_folds,
        random_state=0,
        refit=False,
    )
    learned = report.learned_loss_params_
    assert list(learned) == ["autobalance"]
    assert set(learned["autobalance"]) == {"scaling", "offset", "weight"}
    assert all(len(values) == 2 for values in learned["autobalance"].values())
    text = report.to_markdown()
    assert "Loss parameters learned on held-out rows (mean over folds; per " in text
    assert "- autobalance: scaling " in text
    report.save(tmp_path)
    again = StrategyReport.load(tmp_path)
    assert again.learned_loss_params_ == learned
    # Strategies that learn nothing add nothing.
    assert (
        "learned_loss_params"
        not in compare_strategies(
            X, y, tiny_cnn, strategies=["plain"], cv=two_folds, refit=False
        ).metadata
    )
