"""StrategyReport: Markdown, plots, and files that read back the same."""

import json

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.image import imread

from skimbal.model_selection import StrategyReport, compare_strategies


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def report(odd_digits, tiny_cnn, two_folds):
    X, y = odd_digits
    labels = np.where(y == 1, "odd", "even")  # string labels survive the files
    return compare_strategies(
        X,
        labels,
        tiny_cnn,
        ["plain", "oversample", "class_weight"],
        cv=two_folds,
        random_state=0,
    )


def test_markdown_says_the_prior_and_has_one_row_per_strategy_best_first(report):
    caption, blank, *lines = report.to_markdown().splitlines()
    assert caption.startswith(
        "Scores as if even and odd were equally frequent (class_prior='balanced')"
    )
    assert "tuned for F1 at that prior on the other folds'" in caption
    assert blank == ""
    assert lines[0].startswith("| strategy | F1 | F1 at 0.5 | precision | recall |")
    assert lines[0].endswith("| tied | beats plain | params | note |")
    assert lines[1].startswith("| --- |")
    names = [line.split(" | ")[0][2:] for line in lines[2:]]
    chosen = report.best_strategy_
    assert [n.replace(f"**{chosen}** (chosen)", chosen) for n in names] == list(
        report.table.index
    )
    f1, std = report.table.iloc[0][["f1_mean", "f1_std"]]
    assert f"{f1:.3f} ± {std:.3f}" in lines[2]


def test_markdown_escapes_pipes_and_shows_missing_scores():
    table = pd.DataFrame(
        {"f1_mean": [0.5, np.nan], "f1_std": [0.1, np.nan], "note": ["", "a|b"]},
        index=pd.Index(["ok", "bad"], name="strategy"),
    )
    text = StrategyReport(table, table, metadata={}).to_markdown()
    assert "| bad | n/a | a\\|b |" in text


def test_plot_draws_f1_bars_with_error_bars_best_on_top(report):
    ax = report.plot()
    assert isinstance(ax, Axes)
    assert len(ax.patches) == len(report.table)
    labels = [tick.get_text() for tick in ax.get_yticklabels()]
    assert labels == list(report.table.index)
    widths = [patch.get_width() for patch in ax.patches]
    np.testing.assert_allclose(widths, report.table["f1_mean"])
    assert ax.containers[0].has_xerr
    assert ax.get_xlabel() == (
        "F1 (positive class 'odd')\nas if even and odd were equally frequent"
    )


def test_plot_other_metric_and_bad_metric(report):
    ax = report.plot(metric="recall")
    np.testing.assert_allclose(
        [p.get_width() for p in ax.patches], report.table["recall_mean"]
    )
    with pytest.raises(ValueError, match="metric='auc' is not in the table"):
        report.plot(metric="auc")


def test_precision_recall_and_confusion_matrices(report):
    ax = report.plot_precision_recall()
    names = {text.get_text().split(" (")[0] for text in ax.get_legend().get_texts()}
    assert {report.best_strategy_, "plain"} <= names
    # The legend's AP is pooled over folds, unlike the table's mean: said.
    assert "AP pooled over folds" in ax.get_title()
    # Chance level at the balanced prior: half the weight is positive.
    assert "chance (0.50)" in {text.get_text() for text in ax.get_legend().get_texts()}
    figure = report.plot_confusion_matrices()
    assert isinstance(figure, Figure)
    assert len(figure.axes) == len(report.predictions_)
    # The matrices add up to every sample once.
    counts = [sum(int(t.get_text()) for t in ax.texts) for ax in figure.axes]
    assert counts == [len(report.y_true_)] * len(counts)


def test_save_writes_every_file_and_load_reads_it_back(report, odd_digits, tmp_path):
    written = report.save(tmp_path / "out")
    assert plt.get_fignums() == []  # files only, no pyplot figures left open
    names = sorted(path.name for path in written)
    assert names == sorted(
        [
            "table.csv",
            "candidates.csv",
            "table.md",
            "report.json",
            "predictions.npz",
            "f1.png",
            "precision_recall.png",
            "confusion_matrices.png",
            "split_scores.csv",
            "model",
        ]
    )
    for path in written:
        assert path.is_dir() or path.stat().st_size > 0
        if path.suffix == ".png":
            assert imread(path).ndim == 3
    document = json.loads((tmp_path / "out" / "report.json").read_text())
    assert document["best_strategy"] == report.best_strategy_
    assert document["pos_label"] == "odd"
    assert [row["strategy"] for row in document["table"]] == list(report.table.index)
    assert (tmp_path / "out" / "table.md").read_text().strip() == report.to_markdown()

    loaded = StrategyReport.load(tmp_path / "out")
    pd.testing.assert_frame_equal(loaded.table, report.table)
    pd.testing.assert_frame_equal(loaded.candidates, report.candidates)
    assert loaded.metadata == json.loads(json.dumps(report.metadata))
    assert loaded.best_strategy_ == report.best_strategy_
    np.testing.assert_array_equal(loaded.y_true_, report.y_true_)
    for name, prediction in report.predictions_.items():
        np.testing.assert_array_equal(
            loaded.predictions_[name]["pred"], prediction["pred"]
        )
        np.testing.assert_array_equal(
            loaded.predictions_[name]["proba"], prediction["proba"]
        )
    pd.testing.assert_frame_equal(loaded.split_scores, report.split_scores)
    X = odd_digits[0][:50]
    np.testing.assert_array_equal(
        loaded.best_estimator_.predict_proba(X), report.best_estimator_.predict_proba(X)
    )
    np.testing.assert_array_equal(
        loaded.best_estimator_.predict(X), report.best_estimator_.predict(X)
    )
    # A loaded report plots like the original.
    assert len(loaded.plot_confusion_matrices().axes) == len(report.predictions_)


def test_a_report_without_predictions_saves_what_it_has(
    odd_digits, tiny_cnn, two_folds, tmp_path
):
    X, y = odd_digits
    bare = compare_strategies(
        X,
        y,
        tiny_cnn,
        ["plain"],
        cv=two_folds,
        predictions=False,
        refit=False,
        scoring="recall",
    )
    names = sorted(path.name for path in bare.save(tmp_path))
    # The chart is named after the ranking metric.
    assert names == [
        "candidates.csv",
        "recall.png",
        "report.json",
        "split_scores.csv",
        "table.csv",
        "table.md",
    ]
    loaded = StrategyReport.load(tmp_path)
    assert loaded.predictions_ == {} and loaded.y_true_ is None
    with pytest.raises(ValueError, match="no out-of-fold predictions"):
        loaded.plot_confusion_matrices()


def test_repr_names_the_best(report):
    assert repr(report).startswith(
        f"StrategyReport(best_strategy_={report.best_strategy_!r}, scoring='f1'"
    )
