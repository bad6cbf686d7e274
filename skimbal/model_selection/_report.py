"""StrategyReport: the table, plots and files of a strategy comparison."""

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["METRICS", "StrategyReport"]

#: The metrics every comparison reports, in table order.
METRICS = ("f1", "precision", "recall", "balanced_accuracy", "average_precision")

_LABELS = {
    "f1": "F1",
    "precision": "precision",
    "recall": "recall",
    "balanced_accuracy": "balanced accuracy",
    "average_precision": "average precision",
    "fit_time": "fit time (s)",
}

_FILES = {
    "table": "table.csv",
    "candidates": "candidates.csv",
    "markdown": "table.md",
    "json": "report.json",
    "predictions": "predictions.npz",
    "f1": "f1.png",
    "precision_recall": "precision_recall.png",
    "confusion_matrices": "confusion_matrices.png",
}


class StrategyReport:
    """Cross-validated scores of imbalance strategies, with plots and files.

    Made by :func:`compare_strategies`, or read back with :meth:`load`.

    Parameters
    ----------
    table : pandas.DataFrame
        One row per strategy (the index), best first.
    candidates : pandas.DataFrame
        One row per candidate of the search.
    metadata : dict
        What was compared and how (``"best_strategy"``, ``"scoring"``,
        ``"pos_label"``, ``"labels"``, ``"cv"``, ``"notes"``, ...).
    y_true : ndarray of shape (n_samples,), default=None
        Labels the out-of-fold predictions are compared with.
    predictions : dict, default=None
        Strategy name -> ``{"proba": ndarray, "pred": ndarray}`` out-of-fold
        predictions, for the precision-recall curves and confusion matrices.
    cv_results : dict, default=None
        The search's ``cv_results_`` (not saved by :meth:`save`).

    Attributes
    ----------
    table : pandas.DataFrame
        Per strategy: ``<metric>_mean`` and ``<metric>_std`` over the folds
        for F1, precision, recall, balanced accuracy, average precision and
        fit time (seconds per fit), the ranking metric first;
        ``n_candidates`` (settings tried), ``candidate`` (the shown one's
        row in ``candidates``), ``params`` (the shown candidate's settings
        where the strategy tried several) and ``note`` (errors). Sorted by
        the ranking metric, best first; failed strategies last, with NaN.
    candidates : pandas.DataFrame
        The same columns for every candidate, with a ``strategy`` column.
    best_strategy_ : str or None
        Name of the first row, or None when no strategy got a finite score.
    metadata : dict
        See Parameters.
    notes : list of str
        Strategies skipped or failed.
    predictions_ : dict
        See Parameters.
    cv_results_ : dict or None
        See Parameters.

    See Also
    --------
    compare_strategies : Makes a report.

    Examples
    --------
    >>> import pandas as pd
    >>> from skimbal.model_selection import StrategyReport
    >>> table = pd.DataFrame(
    ...     {"f1_mean": [0.8, 0.3], "f1_std": [0.05, 0.2]},
    ...     index=pd.Index(["oversample", "plain"], name="strategy"),
    ... )
    >>> report = StrategyReport(table, table.reset_index(),
    ...                         metadata={"best_strategy": "oversample", "cv": 5})
    >>> report.best_strategy_
    'oversample'
    >>> print(report.to_markdown())
    | strategy | F1 |
    | --- | --- |
    | oversample | 0.800 ± 0.050 |
    | plain | 0.300 ± 0.200 |
    """

    def __init__(
        self,
        table,
        candidates,
        *,
        metadata,
        y_true=None,
        predictions=None,
        cv_results=None,
    ):
        self.table = table
        self.candidates = candidates
        self.metadata = metadata
        self.y_true_ = y_true
        self.predictions_ = {} if predictions is None else predictions
        self.cv_results_ = cv_results

    @property
    def best_strategy_(self):
        return self.metadata.get("best_strategy")

    @property
    def notes(self):
        return list(self.metadata.get("notes", []))

    def __repr__(self):
        return (
            f"{type(self).__name__}(best_strategy_={self.best_strategy_!r}, "
            f"scoring={self.metadata.get('scoring', 'f1')!r}, "
            f"n_strategies={len(self.table)}, cv={self.metadata.get('cv')!r})"
        )

    # -- text ------------------------------------------------------------------

    def _metric_names(self):
        names = [c[: -len("_mean")] for c in self.table.columns if c.endswith("_mean")]
        return [n for n in names if n != "fit_time"] + (
            ["fit_time"] if "fit_time" in names else []
        )

    def to_markdown(self, digits=3):
        """The table as Markdown: ``mean ± std`` per metric, best first.

        Parameters
        ----------
        digits : int, default=3
            Decimals of the scores (fit times get 1).

        Returns
        -------
        text : str
            A GitHub-flavoured Markdown table.
        """
        metrics = self._metric_names()
        extra = [c for c in ("params", "note") if c in self.table.columns]
        header = ["strategy", *(_LABELS.get(m, m) for m in metrics), *extra]
        rows = []
        for name, row in self.table.iterrows():
            cells = [str(name)]
            for metric in metrics:
                decimals = 1 if metric == "fit_time" else digits
                cells.append(
                    _mean_std(row[f"{metric}_mean"], row.get(f"{metric}_std"), decimals)
                )
            cells.extend(_cell(row[c]) for c in extra)
            rows.append(cells)
        lines = [header, ["---"] * len(header), *rows]
        return "\n".join("| " + " | ".join(line) + " |" for line in lines)

    # -- plots -----------------------------------------------------------------

    def plot(self, ax=None, metric=None):
        """Bar chart of a metric per strategy, with its standard deviation.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Where to draw; ``None`` makes a new pyplot figure (shown in a
            notebook; never shown by skimbal itself).
        metric : str, default=None
            A metric of the table; ``None`` is the ranking metric (F1 unless
            ``scoring`` said otherwise).

        Returns
        -------
        ax : matplotlib Axes
            The best strategy's bar is on top.
        """
        metric = metric or self.metadata.get("scoring", "f1")
        if f"{metric}_mean" not in self.table.columns:
            raise ValueError(
                f"metric={metric!r} is not in the table; use one of "
                f"{self._metric_names()}."
            )
        names = [str(n) for n in self.table.index]
        if ax is None:
            ax = _new_axes(self._figsize("f1"), pyplot=True)
        means = self.table[f"{metric}_mean"].to_numpy(dtype=float)
        stds = self.table[f"{metric}_std"].to_numpy(dtype=float)
        colors = [
            "tab:green"
            if n == self.best_strategy_
            else ("tab:gray" if n == "plain" else "tab:blue")
            for n in names
        ]
        positions = np.arange(len(names))
        ax.barh(positions, np.nan_to_num(means), xerr=stds, color=colors, capsize=3)
        ax.set_yticks(positions, labels=names)
        ax.invert_yaxis()
        for position, mean in zip(positions, means, strict=True):
            text = "failed" if not np.isfinite(mean) else f"{mean:.3f}"
            ax.annotate(
                text,
                (0, position),
                xytext=(3, 0),
                textcoords="offset points",
                va="center",
                color="white" if np.isfinite(mean) and mean > 0.1 else "black",
                fontsize="small",
            )
        if metric != "fit_time" and np.nanmax(np.r_[means + stds, 0]) <= 1.05:
            ax.set_xlim(0, 1)
        ax.set_xlabel(self._metric_label(metric))
        folds = self.metadata.get("cv")
        ax.set_title(
            f"Strategies, mean ± std over {folds} folds"
            if folds
            else "Strategies, mean ± std"
        )
        return ax

    def _metric_label(self, metric):
        label = _LABELS.get(metric, metric)
        if metric not in ("f1", "precision", "recall", "average_precision"):
            return label
        if self.metadata.get("pos_label") is not None:
            return f"{label} (positive class {self.metadata['pos_label']!r})"
        if "pos_label" in self.metadata:  # None: a multi-class report
            return f"macro {label}"
        return label

    def plot_precision_recall(self, ax=None):
        """Out-of-fold precision-recall curves of the best and plain strategies.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Where to draw; ``None`` makes a new pyplot figure.

        Returns
        -------
        ax : matplotlib Axes
            One curve per strategy with predictions (scikit-learn's
            :class:`~sklearn.metrics.PrecisionRecallDisplay`), and the chance
            level.
        """
        from sklearn.metrics import PrecisionRecallDisplay

        self._check_predictions()
        pos_label = self.metadata.get("pos_label")
        if pos_label is None:
            raise ValueError(
                "Precision-recall curves need a binary problem with a positive "
                "class; this report is multi-class."
            )
        if ax is None:
            ax = _new_axes(self._figsize("precision_recall"), pyplot=True)
        column = self._labels().index(pos_label)
        for i, (name, prediction) in enumerate(self.predictions_.items()):
            PrecisionRecallDisplay.from_predictions(
                self.y_true_,
                prediction["proba"][:, column],
                pos_label=pos_label,
                name=name,
                ax=ax,
                plot_chance_level=i == 0,
            )
        ax.set_title(f"Out-of-fold precision-recall, positive class {pos_label!r}")
        return ax

    def plot_confusion_matrices(self, axes=None):
        """Out-of-fold confusion matrices of the best and plain strategies.

        Parameters
        ----------
        axes : sequence of matplotlib Axes, default=None
            One per strategy with predictions; ``None`` makes a new pyplot
            figure.

        Returns
        -------
        figure : matplotlib Figure
            One :class:`~sklearn.metrics.ConfusionMatrixDisplay` per strategy
            with predictions (rows: true class, columns: predicted class).
        """
        from sklearn.metrics import ConfusionMatrixDisplay

        self._check_predictions()
        names = list(self.predictions_)
        if axes is None:
            axes = _new_axes(
                self._figsize("confusion_matrices"), ncols=len(names), pyplot=True
            )
        axes = np.atleast_1d(axes)
        for ax, name in zip(axes, names, strict=True):
            ConfusionMatrixDisplay.from_predictions(
                self.y_true_,
                self.predictions_[name]["pred"],
                labels=self._labels(),
                ax=ax,
                colorbar=False,
            )
            ax.set_title(name)
        return axes[0].figure

    def _figsize(self, kind):
        if kind == "f1":
            return (6.4, 1.2 + 0.4 * len(self.table))
        if kind == "precision_recall":
            return (5.6, 5.0)
        side = 2.0 + 0.45 * len(self._labels())
        return (side * len(self.predictions_), side + 0.4)

    def _labels(self):
        return list(self.metadata["labels"])

    def _check_predictions(self):
        if not self.predictions_ or self.y_true_ is None:
            raise ValueError(
                "This report holds no out-of-fold predictions (no strategy got a "
                "finite score), so there is nothing to plot."
            )

    # -- files -----------------------------------------------------------------

    def save(self, directory):
        """Write the table, metadata, predictions and plots to a folder.

        Files: ``table.csv`` and ``candidates.csv`` (full precision),
        ``table.md`` (:meth:`to_markdown`), ``report.json`` (metadata and the
        table), ``predictions.npz`` (out-of-fold predictions), ``f1.png``
        (:meth:`plot`), ``precision_recall.png`` (binary problems) and
        ``confusion_matrices.png``. The last three need predictions.

        Parameters
        ----------
        directory : str or os.PathLike
            Created if needed; files already there are replaced.

        Returns
        -------
        paths : list of pathlib.Path
            The files written.
        """
        folder = Path(directory)
        folder.mkdir(parents=True, exist_ok=True)
        written = []

        def target(kind):
            path = folder / _FILES[kind]
            written.append(path)
            return path

        self.table.to_csv(target("table"))
        self.candidates.to_csv(target("candidates"), index=False)
        target("markdown").write_text(self.to_markdown() + "\n", encoding="utf-8")
        document = {
            **self.metadata,
            "table": self.table.reset_index().to_dict(orient="records"),
        }
        target("json").write_text(
            json.dumps(_json_safe(document), indent=2, allow_nan=False) + "\n",
            encoding="utf-8",
        )
        # Bare figures, not pyplot: saving opens no window and leaves nothing
        # in pyplot's list of open figures.
        ax = self.plot(ax=_new_axes(self._figsize("f1")))
        _save_figure(ax.figure, target("f1"))
        if self.predictions_ and self.y_true_ is not None:
            self._save_predictions(target("predictions"))
            if self.metadata.get("pos_label") is not None:
                ax = _new_axes(self._figsize("precision_recall"))
                self.plot_precision_recall(ax=ax)
                _save_figure(ax.figure, target("precision_recall"))
            axes = _new_axes(
                self._figsize("confusion_matrices"), ncols=len(self.predictions_)
            )
            figure = self.plot_confusion_matrices(axes=axes)
            _save_figure(figure, target("confusion_matrices"))
        return written

    def _save_predictions(self, path):
        labels = self._labels()
        arrays = {"y_true": _codes(self.y_true_, labels)}
        for name, prediction in self.predictions_.items():
            arrays[f"proba__{name}"] = prediction["proba"]
            arrays[f"pred__{name}"] = _codes(prediction["pred"], labels)
        np.savez_compressed(path, **arrays)

    @classmethod
    def load(cls, directory):
        """Read a report written by :meth:`save`.

        Parameters
        ----------
        directory : str or os.PathLike
            The folder :meth:`save` wrote.

        Returns
        -------
        report : StrategyReport
            Table, candidates, metadata and predictions as saved
            (``cv_results_`` is not saved, so it is None).
        """
        folder = Path(directory)
        metadata = json.loads((folder / _FILES["json"]).read_text(encoding="utf-8"))
        metadata.pop("table", None)
        table = _read_table(folder / _FILES["table"], index_col="strategy")
        candidates = _read_table(folder / _FILES["candidates"])
        y_true, predictions = None, {}
        path = folder / _FILES["predictions"]
        if path.exists():
            labels = np.asarray(metadata["labels"])
            with np.load(path, allow_pickle=False) as arrays:
                y_true = labels[arrays["y_true"]]
                for key in arrays.files:
                    if key.startswith("proba__"):
                        name = key[len("proba__") :]
                        predictions[name] = {
                            "proba": arrays[key],
                            "pred": labels[arrays[f"pred__{name}"]],
                        }
        return cls(
            table, candidates, metadata=metadata, y_true=y_true, predictions=predictions
        )


def _read_table(path, index_col=None):
    table = pd.read_csv(path, index_col=index_col)
    for column in ("params", "note"):
        if column in table.columns:
            # An all-empty text column reads back as float NaN.
            table[column] = ["" if pd.isna(v) else str(v) for v in table[column]]
    return table


def _codes(values, labels):
    lookup = {label: code for code, label in enumerate(labels)}
    return np.asarray([lookup[v] for v in np.asarray(values).tolist()], dtype=np.int64)


def _new_axes(figsize, ncols=1, pyplot=False):
    """Axes on a pyplot figure (for notebooks), or on a bare Figure (for files).

    A bare Figure needs no GUI backend and is garbage collected like any
    object; pyplot picks its backend itself (Agg without a display).
    """
    if pyplot:
        import matplotlib.pyplot as plt

        _, axes = plt.subplots(ncols=ncols, figsize=figsize, layout="constrained")
        return axes
    from matplotlib.figure import Figure

    return Figure(figsize=figsize, layout="constrained").subplots(ncols=ncols)


def _save_figure(figure, path):
    figure.savefig(path, dpi=120)


def _mean_std(mean, std, decimals):
    if mean is None or not np.isfinite(mean):
        return "n/a"
    if std is None or not np.isfinite(std):
        return f"{mean:.{decimals}f}"
    return f"{mean:.{decimals}f} ± {std:.{decimals}f}"


def _cell(value):
    text = (
        ""
        if value is None or (isinstance(value, float) and math.isnan(value))
        else str(value)
    )
    return text.replace("|", "\\|").replace("\n", " ")


def _json_safe(value):
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
