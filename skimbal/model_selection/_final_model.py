"""The model a comparison hands back for each strategy, fitted or as a recipe.

By default (``ensemble=True``) that is the strategy's own fold models of the
comparison, averaged (see :mod:`._ensemble` for why); otherwise one pipeline
for all the data, trained after the comparison. Either is wrapped with the
strategy's threshold from its pooled out-of-fold probabilities (binary).
"""

import numpy as np
from imblearn.pipeline import Pipeline
from sklearn.base import clone
from sklearn.model_selection import FixedThresholdClassifier

from .._sklearn_private import prefit_fixed_threshold
from ._budget import step_budget
from ._ensemble import FoldEnsembleClassifier, fitted_fold_ensemble
from ._thresholds import pooled_threshold

__all__ = ["final_estimator", "final_models", "with_threshold"]


def final_models(
    table,
    results,
    candidates,
    clf,
    splits,
    y,
    classes,
    pos_label,
    prior,
    tune,
    rank_metric,
    *,
    ensemble,
    keep_models,
):
    """Each scored strategy's model: unfitted recipe, fitted one, threshold.

    With ``ensemble``, ``clf`` is the fold pipeline (budget for a fold) and
    the recipe is a :class:`FoldEnsembleClassifier` over the comparison's
    own splits; with ``keep_models`` the fitted one is made of the fits'
    models. Otherwise the recipe is one pipeline for all of the data.
    """
    models, fitted, thresholds = {}, {}, {}
    for name in table.index:
        if not np.isfinite(table.loc[name, f"{rank_metric}_mean"]):
            continue
        index = int(table.loc[name, "candidate"])
        params = candidates[index][1]
        threshold = (
            pooled_threshold(results[index], splits, y, classes, pos_label, prior)
            if tune
            else None
        )
        thresholds[name] = threshold
        if not ensemble:
            models[name] = final_estimator(clf, params, len(y), threshold, pos_label)
            continue
        pipeline = clone(clf).set_params(**params)
        folds = [(split.fit, split.test) for split in splits]
        models[name] = with_threshold(
            FoldEnsembleClassifier(pipeline, cv=folds), threshold, pos_label
        )
        if keep_models:
            members = [fit.model for fit in results[index] if not fit.error]
            model = fitted_fold_ensemble(pipeline, folds, members)
            fitted[name] = (
                model
                if threshold is None
                else prefit_fixed_threshold(
                    model,
                    threshold=threshold,
                    pos_label=pos_label,
                    response_method="predict_proba",
                )
            )
    return models, fitted, thresholds


def final_estimator(clf, params, n_samples, threshold, pos_label):
    """A strategy's unfitted model for all the data, with its threshold."""
    pipeline = Pipeline(
        [
            ("sampler", "passthrough"),
            ("clf", clone(clf).set_params(**step_budget(clf, n_samples))),
        ]
    ).set_params(**params)
    return with_threshold(pipeline, threshold, pos_label)


def with_threshold(model, threshold, pos_label):
    if threshold is None:
        return model
    return FixedThresholdClassifier(
        model,
        threshold=threshold,
        pos_label=pos_label,
        response_method="predict_proba",
    )
