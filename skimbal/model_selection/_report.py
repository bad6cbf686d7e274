"""StrategyReport: the table, plots and files of a strategy comparison."""

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd

from ..metrics import class_prior_weights

__all__ = ["METRICS", "StrategyReport"]

from ._scoring import METRICS

_LABELS = {
    "f1": "F1",
    "f1_at_0.5": "F1 at 0.5",
    "threshold": "threshold",
    "f1_train_prior": "F1 at training prior",
    "precision": "precision",
    "recall": "recall",
    "balanced_accuracy": "balanced accuracy",
    "average_precision": "average precision",
    "fit_time": "fit time (s)",
    "tied_with_best": "tied",
    "beats_plain": "beats plain",
}

_FILES = {
    "table": "table.csv",
    "candidates": "candidates.csv",
    "markdown": "table.md",
    "json": "report.json",
    "predictions": "predictions.npz",
    "split_scores": "split_scores.csv",
    "model": "model",
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
    split_scores : pandas.DataFrame, default=None
        The ranking metric of every strategy (columns) on every split
        (rows), the numbers behind the t-tests.
    best_estimator : estimator, default=None
        The chosen strategy's fitted model.
    estimators : dict, default=None
        Strategy -> its unfitted model (see :meth:`make_estimator`).
    fitted_estimators : dict, default=None
        Strategy -> its fitted model, where the comparison's fits make it
        without training (``compare_strategies(ensemble=True)``).

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
        The chosen strategy: the simplest one tied with the top-scoring one
        (see :func:`compare_strategies`), or None when no strategy got a
        finite score.
    best_estimator_ : estimator or None
        The chosen strategy's model with its tuned threshold (binary): its
        fold models averaged (``ensemble=True``) or its pipeline trained on
        all data; None with ``refit=False``.
    estimators_ : dict
        Strategy -> fitted model, the same kind of model as
        ``best_estimator_``, for every strategy with a finite score
        (``ensemble=True``; empty otherwise). Not kept by :meth:`save`.
    split_scores : pandas.DataFrame or None
        See Parameters.
    metadata : dict
        See Parameters.
    notes : list of str
        Strategies skipped or failed.
    predictions_ : dict
        See Parameters.
    learned_loss_params_ : dict
        Loss parameters learned during the fits (``"autobalance"``'s), by
        strategy; also listed under the Markdown table.

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
        split_scores=None,
        best_estimator=None,
        estimators=None,
        fitted_estimators=None,
    ):
        self.table = table
        self.candidates = candidates
        self.metadata = metadata
        self.y_true_ = y_true
        self.predictions_ = {} if predictions is None else predictions
        self.split_scores = split_scores
        self.best_estimator_ = best_estimator
        self._estimators = {} if estimators is None else dict(estimators)
        self.estimators_ = {} if fitted_estimators is None else dict(fitted_estimators)

    @property
    def best_strategy_(self):
        """The chosen strategy.

        Returns
        -------
        name : str or None
            None when no strategy got a finite score.
        """
        return self.metadata.get("best_strategy")

    @property
    def notes(self):
        """The strategies skipped or failed.

        Returns
        -------
        notes : list of str
            One line each.
        """
        return list(self.metadata.get("notes", []))

    @property
    def learned_loss_params_(self):
        """Loss parameters learned during the fits, by strategy.

        Returns
        -------
        learned : dict
            Strategy -> ``{"scaling": [...], "offset": [...], "weight":
            [...]}``, one value per class (in the order of
            ``metadata["labels"]``), the mean over the folds of the shown
            candidate; only strategies that learn them
            (``"autobalance"``). Empty when none did.
        """
        return dict(self.metadata.get("learned_loss_params", {}))

    def __repr__(self):
        return (
            f"{type(self).__name__}(best_strategy_={self.best_strategy_!r}, "
            f"scoring={self.metadata.get('scoring', 'f1')!r}, "
            f"n_strategies={len(self.table)}, cv={self.metadata.get('cv')!r})"
        )

    def make_estimator(self, strategy):
        """The unfitted model a strategy would be handed back as.

        ``best_estimator_`` is ``make_estimator(best_strategy_)`` fitted on
        the data that were compared (with ``ensemble=True`` the comparison's
        fits already are that fit, see ``estimators_``); this gives the same
        recipe for any other strategy of the table (its best candidate, its
        step budget, the comparison's folds for an ensemble and, binary, its
        own tuned threshold), e.g. to check a runner-up on a test set. Not
        kept by :meth:`save`.

        Parameters
        ----------
        strategy : str
            A strategy of the table with a finite score.

        Returns
        -------
        estimator : estimator
            Unfitted; call ``fit(X, y)`` with the data that were compared.
        """
        from sklearn.base import clone

        if strategy not in self._estimators:
            known = sorted(self._estimators)
            raise ValueError(
                f"strategy={strategy!r} has no model in this report; "
                f"strategies with one: {known}."
            )
        return clone(self._estimators[strategy])

    # -- text ------------------------------------------------------------------

    def _metric_names(self):
        names = [c[: -len("_mean")] for c in self.table.columns if c.endswith("_mean")]
        names = [n for n in names if n != "threshold"] + (
            ["threshold"] if "threshold" in names else []
        )
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
        tests = [c for c in ("tied_with_best", "beats_plain") if c in self.table]
        extra = [c for c in ("params", "note") if c in self.table.columns]
        header = [
            "strategy",
            *(_LABELS.get(m, m) for m in metrics),
            *(_LABELS[c] for c in tests),
            *extra,
        ]
        rows = []
        for name, row in self.table.iterrows():
            chosen = bool(row.get("chosen", False))
            cells = [f"**{name}** (chosen)" if chosen else str(name)]
            for metric in metrics:
                decimals = 1 if metric == "fit_time" else digits
                cells.append(
                    _mean_std(row[f"{metric}_mean"], row.get(f"{metric}_std"), decimals)
                )
            cells.extend(_test_cell(row, c) for c in tests)
            cells.extend(_cell(row[c]) for c in extra)
            rows.append(cells)
        lines = [header, ["---"] * len(header), *rows]
        table = "\n".join("| " + " | ".join(line) + " |" for line in lines)
        caption = self.caption()
        text = f"{caption}\n\n{table}" if caption else table
        learned = self._learned_text()
        return f"{text}\n\n{learned}" if learned else text

    def _learned_text(self):
        """The learned loss parameters, one line per strategy, or ``""``."""
        learned = self.learned_loss_params_
        if not learned:
            return ""
        labels = ", ".join(map(str, self.metadata.get("labels", [])))
        lines = [
            "Loss parameters learned on held-out rows (mean over folds; per "
            f"class {labels}):"
        ]
        for name, params in learned.items():
            values = "; ".join(
                f"{key} " + ", ".join(f"{v:.2f}" for v in params[key])
                for key in params
            )
            lines.append(f"- {name}: {values}")
        return "\n".join(lines)

    def caption(self):
        """One paragraph saying at which class prior and how the table scores.

        Returns
        -------
        text : str
            Empty for a report without that metadata.
        """
        meta = self.metadata
        if "class_prior_text" not in meta:
            return ""
        splits = meta.get("n_splits", meta.get("cv"))
        repeats = meta.get("n_repeats", 1)
        how = f"{meta.get('cv')}-fold cross-validation"
        if repeats > 1:
            how += f" repeated {repeats} times ({splits} splits)"
        text = (
            f"Scores {meta['class_prior_text']} (class_prior="
            f"{meta.get('class_prior')!r}), mean ± std over {how}."
        )
        if meta.get("tune_threshold"):
            text += (
                " F1, precision and recall at each fit's decision threshold, tuned "
                "for F1 at that prior on the other folds' out-of-fold predictions; "
                "F1 at 0.5 beside it."
            )
        if "tied_with_best" in self.table:
            text += (
                f" 'tied' = not significantly below the top strategy, 'beats plain' "
                f"= significantly above plain (one-sided corrected t-tests, alpha="
                f"{meta.get('alpha', 0.05):g})."
            )
        return text

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
        if metric not in (
            "f1",
            "f1_at_0.5",
            "precision",
            "recall",
            "average_precision",
        ):
            return label
        if self.metadata.get("pos_label") is not None:
            label = f"{label} (positive class {self.metadata['pos_label']!r})"
        elif "pos_label" in self.metadata:  # None: a multi-class report
            label = f"macro {label}"
        if "class_prior_text" in self.metadata:
            label += f"\n{self.metadata['class_prior_text']}"
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
        prior = self.metadata.get("class_prior", "train")
        weights = class_prior_weights(
            self.y_true_, _prior_from_json(prior, self._labels()), pos_label=pos_label
        )
        for name, prediction in self.predictions_.items():
            # Pooled over the first repeat's test folds: one curve, one AP,
            # which differs from the table's mean of per-split APs.
            PrecisionRecallDisplay.from_predictions(
                self.y_true_,
                prediction["proba"][:, column],
                pos_label=pos_label,
                sample_weight=weights,
                name=name,
                ax=ax,
            )
        share = weights[np.asarray(self.y_true_) == pos_label].sum() / weights.sum()
        ax.axhline(share, color="gray", linestyle="--", label=f"chance ({share:.2f})")
        ax.legend(loc="lower left")
        # AP here is pooled over the first repeat's test folds, not the
        # table's mean of per-split APs: the title says so.
        title = (
            f"Out-of-fold precision-recall (AP pooled over folds), positive "
            f"class {pos_label!r}"
        )
        if "class_prior_text" in self.metadata:
            title += f"\n{self.metadata['class_prior_text']}"
        ax.set_title(title, fontsize="medium")
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
        table), ``split_scores.csv`` (the ranking metric per split),
        ``model/`` (``best_estimator_`` in skimbal's safe format, see
        :func:`skimbal.save_model`), ``<scoring>.png`` (:meth:`plot`, e.g.
        ``f1.png``), and from the out-of-fold predictions
        ``predictions.npz``, ``precision_recall.png`` (binary problems) and
        ``confusion_matrices.png``.

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
            """Record and return the path of the file of ``kind``.

            Parameters
            ----------
            kind : str
                A key of the file names.

            Returns
            -------
            path : Path
                Where to write it.
            """
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
        metric = self.metadata.get("scoring", "f1")
        chart = folder / f"{metric}.png"
        written.append(chart)
        _save_figure(ax.figure, chart)
        if self.split_scores is not None:
            self.split_scores.to_csv(target("split_scores"))
        if self.best_estimator_ is not None:
            from .._persistence import save_model

            save_model(self.best_estimator_, target("model"))
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
            Table, candidates, metadata, split scores, predictions and the
            model (loaded with :func:`skimbal.load_model`) as saved.
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
        split_scores = None
        if (folder / _FILES["split_scores"]).exists():
            split_scores = pd.read_csv(
                folder / _FILES["split_scores"], index_col="split"
            )
        best_estimator = None
        if (folder / _FILES["model"]).is_dir():
            from .._persistence import load_model

            best_estimator = load_model(folder / _FILES["model"])
        return cls(
            table,
            candidates,
            metadata=metadata,
            y_true=y_true,
            predictions=predictions,
            split_scores=split_scores,
            best_estimator=best_estimator,
        )


def _prior_from_json(prior, labels):
    """A class prior as saved in report.json (dict keys are strings)."""
    if not isinstance(prior, dict):
        return prior
    by_text = {str(label): label for label in labels}
    return {by_text.get(key, key): share for key, share in prior.items()}


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


def _test_cell(row, column):
    p = row.get("p_vs_best" if column == "tied_with_best" else "p_vs_plain")
    if p is None or not np.isfinite(p):
        return "yes" if bool(row[column]) else ""
    return f"{'yes' if bool(row[column]) else 'no'} (p={p:.2f})"


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
