"""compare_strategies: one honest search, tabulated exactly as GridSearchCV saw it."""

import re
import sys

import matplotlib.pyplot as plt
import numpy as np
import pytest
from imblearn import FunctionSampler
from imblearn.over_sampling import RandomOverSampler
from imblearn.pipeline import Pipeline
from sklearn.metrics import (
    average_precision_score,
    f1_score,
    make_scorer,
    precision_score,
    recall_score,
)
from sklearn.model_selection import GridSearchCV, StratifiedKFold

from skimbal import CNNClassifier
from skimbal.datasets import load_digits_images
from skimbal.model_selection import STRATEGIES, compare_strategies, strategy_grid
from skimbal.model_selection._compare import resolve_pos_label

METRICS = ["f1", "precision", "recall", "balanced_accuracy", "average_precision"]


@pytest.fixture(scope="module")
def all_report(odd_digits, tiny_cnn, two_folds):
    X, y = odd_digits
    return compare_strategies(
        X, y, tiny_cnn, strategies="all", cv=two_folds, random_state=0
    )


def test_every_named_strategy_fits_and_scores(all_report):
    table = all_report.table
    assert sorted(table.index) == sorted(STRATEGIES)
    scores = table[[f"{m}_{s}" for m in METRICS for s in ("mean", "std")]]
    assert np.isfinite(scores.to_numpy()).all()
    assert (table["fit_time_mean"] > 0).all()
    assert (table["note"] == "").all() and all_report.notes == []
    assert table.loc["focal", "n_candidates"] == 6
    assert table["n_candidates"].sum() == len(all_report.candidates) == 16


def test_table_is_sorted_best_first_and_names_the_best(all_report):
    f1 = all_report.table["f1_mean"].to_numpy()
    assert np.all(f1[:-1] >= f1[1:])
    assert all_report.best_strategy_ == all_report.table.index[0]
    assert list(all_report.table.columns[:2]) == ["f1_mean", "f1_std"]
    # Each strategy shows its best candidate.
    focal = all_report.candidates.query("strategy == 'focal'")
    assert all_report.table.loc["focal", "f1_mean"] == focal["f1_mean"].max()


def test_numbers_equal_a_separately_run_grid_search(
    all_report, odd_digits, tiny_cnn, two_folds
):
    X, y = odd_digits
    scoring = {
        "f1": make_scorer(f1_score, pos_label=1, zero_division=0.0),
        "precision": make_scorer(precision_score, pos_label=1, zero_division=0.0),
        "recall": make_scorer(recall_score, pos_label=1, zero_division=0.0),
        "balanced_accuracy": "balanced_accuracy",
        "average_precision": make_scorer(
            average_precision_score, response_method="predict_proba", pos_label=1
        ),
    }
    search = GridSearchCV(
        Pipeline([("sampler", "passthrough"), ("clf", tiny_cnn)]),
        strategy_grid(estimator=tiny_cnn, pos_label=1, random_state=0),
        scoring=scoring,
        cv=two_folds,
        refit=False,
        error_score="raise",
    ).fit(X, y)
    results = search.cv_results_
    candidates = all_report.candidates
    assert len(candidates) == len(results["params"])
    for metric in METRICS:
        for stat in ("mean", "std"):
            np.testing.assert_array_equal(
                candidates[f"{metric}_{stat}"], results[f"{stat}_test_{metric}"]
            )
            table = all_report.table
            np.testing.assert_array_equal(
                table[f"{metric}_{stat}"],
                results[f"{stat}_test_{metric}"][table["candidate"]],
            )
    # The report keeps the raw cv_results_ of its own search too.
    np.testing.assert_array_equal(
        all_report.cv_results_["mean_test_f1"], results["mean_test_f1"]
    )


def test_out_of_fold_predictions_reproduce_the_search(
    all_report, odd_digits, two_folds
):
    X, y = odd_digits
    splits = list(two_folds.split(X, y))
    results = all_report.cv_results_
    assert set(all_report.predictions_) == {all_report.best_strategy_, "plain"}
    for name, prediction in all_report.predictions_.items():
        row = all_report.table.loc[name, "candidate"]
        for k, (_, test) in enumerate(splits):
            f1 = f1_score(y[test], prediction["pred"][test], zero_division=0.0)
            assert f1 == results[f"split{k}_test_f1"][row]
        np.testing.assert_allclose(prediction["proba"].sum(axis=1), 1.0)


#: Row ids each sampler call received. Module-level, because GridSearchCV
#: deep-copies a FunctionSampler's arguments but not a function.
SAMPLED_ROWS = []


def record_and_oversample(X, y):
    SAMPLED_ROWS.append(frozenset(X[:, 0].astype(int).tolist()))
    return RandomOverSampler(random_state=0).fit_resample(X, y)


def test_resampling_never_touches_a_test_fold(tiny_cnn):
    rng = np.random.default_rng(0)
    y = np.r_[np.zeros(150, int), np.ones(15, int)]
    X = rng.normal(size=(len(y), 64)).astype(np.float32)
    X[:, 0] = np.arange(len(y))  # a row id the sampler can report
    SAMPLED_ROWS.clear()
    test_sizes = []

    def count_test_rows(estimator, X_test, y_test):
        test_sizes.append(len(y_test))
        return 0.0

    cv = StratifiedKFold(3, shuffle=True, random_state=0)
    splits = list(cv.split(X, y))
    report = compare_strategies(
        X,
        y,
        tiny_cnn,
        strategies={
            "recorded": {"sampler": FunctionSampler(func=record_and_oversample)}
        },
        cv=cv,
        scoring=count_test_rows,
    )
    train_folds = {frozenset(train.tolist()) for train, _ in splits}
    # Once per fold in the search, once per fold for the plots' predictions.
    assert len(SAMPLED_ROWS) == 2 * len(splits)
    assert set(SAMPLED_ROWS) == train_folds
    for train, test in splits:
        fitted_on = next(s for s in SAMPLED_ROWS if s == frozenset(train.tolist()))
        assert fitted_on.isdisjoint(test.tolist())
    # Every test fold was scored whole, never resampled.
    assert sorted(test_sizes) == sorted(len(test) for _, test in splits)
    assert report.table.loc["recorded", "score_mean"] == 0.0


def test_pos_label_defaults_to_the_minority_with_string_labels(
    odd_digits, tiny_cnn, two_folds
):
    X, y = odd_digits
    names = np.where(y == 1, "odd", "even")
    kwargs = dict(
        strategies=["plain", "oversample"],
        cv=two_folds,
        random_state=0,
        predictions=False,
    )
    by_name = compare_strategies(X, names, tiny_cnn, **kwargs)
    by_int = compare_strategies(X, y, tiny_cnn, **kwargs)
    assert by_name.metadata["pos_label"] == "odd"
    assert by_name.metadata["labels"] == ["even", "odd"]
    assert by_int.metadata["pos_label"] == 1
    # Labels renamed, same folds and seeds: the same numbers.
    np.testing.assert_array_equal(
        by_name.table.filter(regex="^(f1|precision|recall)_").to_numpy(),
        by_int.table.filter(regex="^(f1|precision|recall)_").to_numpy(),
    )
    # The rare class is positive even when it has the smaller label.
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


def test_explicit_pos_label_is_used(odd_digits, tiny_cnn, two_folds):
    X, y = odd_digits
    report = compare_strategies(
        X, y, tiny_cnn, ["plain"], cv=two_folds, pos_label=0, predictions=False
    )
    assert report.metadata["pos_label"] == 0
    # Predicting the majority everywhere: F1 of class 0 is high, not 0.
    assert report.table.loc["plain", "f1_mean"] > 0.9


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


def test_every_strategy_failing_raises(odd_digits, tiny_cnn, two_folds):
    X, y = odd_digits
    with pytest.raises(ValueError, match="Every candidate failed.*no_such_loss"):
        compare_strategies(
            X, y, tiny_cnn, {"broken": {"clf__criterion": "no_such_loss"}}, cv=two_folds
        )


def test_multiclass_uses_macro_scores_and_skips_threshold_tuning(tiny_cnn):
    X, y = load_digits_images(return_X_y=True)
    keep = y < 3
    report = compare_strategies(
        X[keep], y[keep], tiny_cnn, ["plain", "class_weight", "threshold_tuning"], cv=2
    )
    assert list(report.table.index).count("threshold_tuning") == 0
    assert "threshold_tuning skipped" in report.notes[0]
    assert report.metadata["pos_label"] is None
    assert np.isfinite(report.table["average_precision_mean"]).all()
    figure = report.plot_confusion_matrices()
    assert len(figure.axes) == len(report.predictions_)
    plt.close(figure)
    with pytest.raises(ValueError, match="binary"):
        report.plot_precision_recall()


def test_other_scorer_ranks_and_is_added(odd_digits, tiny_cnn, two_folds):
    X, y = odd_digits
    report = compare_strategies(
        X,
        y,
        tiny_cnn,
        ["plain", "oversample"],
        cv=two_folds,
        scoring="roc_auc",
        predictions=False,
    )
    assert report.metadata["scoring"] == "roc_auc"
    assert list(report.table.columns[:2]) == ["roc_auc_mean", "roc_auc_std"]
    assert "f1_mean" in report.table.columns


def test_default_estimator_guesses_square_images(odd_digits):
    X, y = odd_digits
    report = compare_strategies(
        X[:200], y[:200], None, ["plain"], cv=2, random_state=0, predictions=False
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
        ({"pos_label": 7}, "pos_label=7 is not a label"),
    ],
)
def test_invalid_arguments_fail_before_any_fit(odd_digits, tiny_cnn, kwargs, message):
    X, y = odd_digits
    with pytest.raises(ValueError, match=re.escape(message)):
        compare_strategies(X, y, tiny_cnn, **kwargs)


def test_progress_bar_counts_fits(odd_digits, tiny_cnn, two_folds, capsys):
    X, y = odd_digits
    compare_strategies(
        X, y, tiny_cnn, ["plain", "oversample"], cv=two_folds, progress=True
    )
    err = capsys.readouterr().err
    # 2 candidates x 2 folds, then 2 folds each for the best and plain re-fits.
    assert "8/8" in err


def test_dask_scheduler_gives_the_sequential_numbers(odd_digits, tiny_cnn, two_folds):
    distributed = pytest.importorskip("distributed")
    X, y = odd_digits
    kwargs = dict(
        strategies=["plain", "oversample"],
        cv=two_folds,
        random_state=0,
        predictions=False,
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
