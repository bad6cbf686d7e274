"""Every fit's scores: at its threshold from the other folds, and at 0.5."""

import numpy as np
import pandas as pd

from ._scoring import score_predictions, table_scorers
from ._thresholds import other_folds_threshold

__all__ = ["score_candidates"]


def score_candidates(
    results, splits, n_repeats, y, classes, scorers, pos_label, prior, tune
):
    """Per candidate: a split x metric table, thresholds and errors."""
    binary = len(classes) == 2
    column = list(classes).index(pos_label) if binary else None
    with_train_prior = binary and not (isinstance(prior, str) and prior == "train")
    f1_train = None
    if with_train_prior:
        f1_train, _ = table_scorers(True, pos_label, "train")
        f1_train = {"f1": f1_train["f1"]}
    per_repeat = len(splits) // n_repeats
    all_scores, all_thresholds, all_errors = [], [], []
    for fits in results:
        rows, thresholds, errors = [], [], []
        for index, (fit, split) in enumerate(zip(fits, splits, strict=True)):
            if fit.error:
                errors.append(fit.error)
                rows.append(None)
                thresholds.append(None)
                continue
            y_test = y[split.test]
            threshold = None
            if tune:
                threshold = other_folds_threshold(
                    fits, splits, index, per_repeat, y, column, pos_label, prior
                )
            row = score_predictions(
                scorers, y_test, classes, fit.test_proba, threshold, pos_label
            )
            if tune:
                row = {
                    "f1": row.pop("f1"),
                    "f1_at_0.5": score_predictions(
                        {"f1": scorers["f1"]},
                        y_test,
                        classes,
                        fit.test_proba,
                        None,
                        pos_label,
                    )["f1"],
                    "threshold": threshold,
                    **row,
                }
            if with_train_prior:
                train_threshold = (
                    other_folds_threshold(
                        fits, splits, index, per_repeat, y, column, pos_label, "train"
                    )
                    if tune
                    else None
                )
                row["f1_train_prior"] = score_predictions(
                    f1_train,
                    y_test,
                    classes,
                    fit.test_proba,
                    train_threshold,
                    pos_label,
                )["f1"]
            row["fit_time"] = fit.fit_time
            rows.append(row)
            thresholds.append(threshold)
        all_scores.append(rows)
        all_thresholds.append(thresholds)
        all_errors.append(list(dict.fromkeys(errors)))
    # A failed fit has no row: NaN in every column the others have.
    columns = next(
        (list(row) for rows in all_scores for row in rows if row is not None), []
    )
    empty = dict.fromkeys(columns, np.nan)
    all_scores = [
        pd.DataFrame([empty if row is None else row for row in rows], columns=columns)
        for rows in all_scores
    ]
    return {"scores": all_scores, "thresholds": all_thresholds, "errors": all_errors}
