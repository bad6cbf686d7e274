"""
From a comparison to a model you can trust
==========================================

A comparison should end with a model: the strategy that won, for reasons
that are not noise, trained and ready to predict.
:func:`~skimbal.model_selection.compare_strategies` hands one back. This
example runs it on a small visual-inspection problem, 110 images of which
10 show a defect, and follows the numbers from the table to the model:
how much the decision threshold is worth, which differences the t-tests
say are real, what was chosen and why, and the model itself.
:doc:`/user_guide/deployment` explains each step.
"""

# %%
# The data
# --------
# :func:`~skimbal.datasets.make_defect_images` generates grey textured
# surfaces, one in eleven with a faint spot: 100 good parts and 10 defects
# (class 1, the rare positive class), 24x24 pixels.
import matplotlib.pyplot as plt
import numpy as np

from skimbal.datasets import make_defect_images

X, y = make_defect_images(110, ratio=10, random_state=0)
print(X.shape, np.bincount(y))

fig, axes = plt.subplots(1, 6, figsize=(7, 1.6))
shown = np.r_[np.flatnonzero(y == 0)[:3], np.flatnonzero(y == 1)[:3]]
for ax, i in zip(axes, shown, strict=True):
    ax.imshow(X[i].reshape(24, 24), cmap="gray", vmin=0, vmax=1)
    ax.set_title("defect" if y[i] else "good", fontsize="small")
    ax.set_axis_off()

# %%
# The comparison
# --------------
# Three strategies, the default network, 5 folds. Every fit trains for the
# same 200 optimisation steps on its whole training fold, and its decision
# threshold is the one that maximises F1 over the other folds' out-of-fold
# predictions; its own test fold scores it. The scores are at the balanced
# class prior (as if good parts and defects were equally common), which the
# caption says.
from skimbal import CNNClassifier
from skimbal.model_selection import compare_strategies

clf = CNNClassifier(input_shape=(1, 24, 24), random_state=0)
report = compare_strategies(
    X,
    y,
    clf,
    strategies=["plain", "class_weight", "oversample"],
    cv=5,
    random_state=0,
)
print(report.to_markdown())

# %%
# The threshold is the lever
# --------------------------
# ``f1_at_0.5`` is what each network scores with the usual 0.5 threshold,
# ``f1`` the same fits at their tuned thresholds. Average precision, which
# does not depend on the threshold, says how well each ranks the defects.
report.table[
    ["f1_at_0.5_mean", "f1_mean", "threshold_mean", "average_precision_mean"]
].round(3)

# %%
fig, ax = plt.subplots(figsize=(7, 2.4), layout="constrained")
positions = np.arange(len(report.table))
ax.barh(positions - 0.2, report.table["f1_at_0.5_mean"], 0.4, label="at 0.5")
ax.barh(positions + 0.2, report.table["f1_mean"], 0.4, label="at the tuned threshold")
ax.set_yticks(positions, labels=report.table.index)
ax.set_xlim(0, 1)
ax.set_xlabel("F1 of the defects (mean over 5 folds)")
ax.legend(loc="center left", bbox_to_anchor=(1, 0.5), fontsize="small")
ax.invert_yaxis()

# %%
# Which differences are real, and the choice
# ------------------------------------------
# Each test fold holds 2 of the 10 defects, so the scores spread widely.
# ``tied_with_best`` and ``beats_plain`` are one-sided corrected t-tests
# (:func:`~skimbal.model_selection.corrected_ttest`) on the per-fold scores
# (``report.split_scores``). The strategy handed back is the simplest one
# tied with the top one and within 0.01 of its mean F1.
columns = ["f1_mean", "f1_std", "p_vs_best", "tied_with_best", "p_vs_plain"]
report.table[[*columns, "beats_plain", "chosen"]].round(3)

# %%
print("highest mean:", report.metadata["top_strategy"])
print("chosen:      ", report.best_strategy_)

# %%
# The model
# ---------
# ``report.best_estimator_`` is the chosen pipeline as the comparison
# trained it on each of its five training folds, the five averaged
# (:class:`~skimbal.model_selection.FoldEnsembleClassifier`), inside a
# :class:`~sklearn.model_selection.FixedThresholdClassifier` whose threshold
# maximises F1 over these very models' out-of-fold probabilities: a
# scikit-learn classifier, ready to predict, with no training after the
# comparison.
model = report.best_estimator_
print(f"threshold: {model.threshold:.4f}")
model

# %%
# On 110 new images from the same process (another seed), at their own
# proportions of 1 defect in 11. They hold 10 defects too, so one more or
# one fewer found moves F1 by about 0.05: a single test set this small is a
# sanity check, not a ranking.
from sklearn.metrics import ConfusionMatrixDisplay, f1_score

X_new, y_new = make_defect_images(110, ratio=10, random_state=1)
pred = model.predict(X_new)
print(f"F1 on new images: {f1_score(y_new, pred):.3f}")
fig, ax = plt.subplots(figsize=(3.4, 3.2), layout="constrained")
ax.set_title(f"{report.best_strategy_} on new images", fontsize="medium")
disp = ConfusionMatrixDisplay.from_predictions(y_new, pred, ax=ax, colorbar=False)

# %%
# Any other strategy's model
# --------------------------
# ``report.estimators_[name]`` is the model any strategy of the table would
# have been handed back as, already trained, its own threshold included: to
# check a runner-up, or the baseline, on data of your own.
baseline = report.estimators_["plain"]
print(
    f"plain, threshold {baseline.threshold:.4f}: "
    f"F1 on new images {f1_score(y_new, baseline.predict(X_new)):.3f}"
)

# %%
# Keeping it
# ----------
# The model pickles like any scikit-learn estimator (load pickles only from
# sources you trust). :doc:`/user_guide/deployment` shows the other ways,
# and ``skimbal compare --save-model`` with ``skimbal predict`` from the
# shell.
import os
import tempfile

import joblib

with tempfile.TemporaryDirectory() as folder:
    path = os.path.join(folder, "defect_model.joblib")
    joblib.dump(model, path)
    loaded = joblib.load(path)
print("same predictions after loading:", bool((loaded.predict(X_new) == pred).all()))
