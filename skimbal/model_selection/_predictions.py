"""Out-of-fold predictions kept in a report, for its curves and matrices."""

import numpy as np

from ._scoring import Predictions

__all__ = ["out_of_fold", "predictions_to_plot"]


def predictions_to_plot(
    table, results, evaluation, splits, names, y, classes, pos_label, rank_metric
):
    """Out-of-fold predictions (one repeat) of the chosen, top and plain rows."""
    oof = {}
    for name in dict.fromkeys(names):
        if name in table.index and np.isfinite(table.loc[name, f"{rank_metric}_mean"]):
            index = int(table.loc[name, "candidate"])
            oof[name] = out_of_fold(
                results[index][: len(splits)],
                evaluation["thresholds"][index][: len(splits)],
                splits,
                len(y),
                y.dtype,
                classes,
                pos_label,
            )
    return oof


def out_of_fold(fits, thresholds, splits, n_samples, dtype, classes, pos_label):
    proba = np.full((n_samples, len(classes)), np.nan)
    pred = np.empty(n_samples, dtype=dtype)
    for fit, threshold, split in zip(fits, thresholds, splits, strict=True):
        if fit.error:
            continue
        model = Predictions(classes, fit.test_proba, threshold, pos_label)
        proba[split.test] = fit.test_proba
        pred[split.test] = model.predict(None)
    return {"proba": proba, "pred": pred}
