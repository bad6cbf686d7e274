"""
Threshold tuning
================

A classifier's ``predict`` takes the most probable class: for two classes,
"positive when P(positive) > 0.5". A network trained with plain
cross-entropy on 1:50 data rarely gives the rare class that much
probability, even when it ranks the rare samples above the others. Moving
the threshold then recovers much of the lost F1, without retraining with
another loss.

scikit-learn's :class:`~sklearn.model_selection.TunedThresholdClassifierCV`
chooses the threshold on held-out training data.
:func:`~skimbal.model_selection.compare_strategies` tunes every strategy's
threshold too, each fit's on the other folds' out-of-fold predictions, and
the ``"threshold_tuning"`` strategy of
:func:`~skimbal.model_selection.strategy_grid` wraps the plain network in it
for a ``GridSearchCV`` of your own (:doc:`/user_guide/threshold_tuning`).
"""

# %%
# Data and a plain network
# ------------------------
from sklearn.metrics import f1_score
from sklearn.model_selection import train_test_split

from skimbal import CNNClassifier
from skimbal.datasets import load_digits_images, make_imbalanced

X, y = load_digits_images(return_X_y=True)
X, y = make_imbalanced(X, y, ratio=50, positive=[1, 3, 5, 7, 9], random_state=0)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.3, stratify=y, random_state=0
)

clf = CNNClassifier(input_shape=(1, 8, 8), max_epochs=10, random_state=0)
clf.fit(X_train, y_train)
proba = clf.predict_proba(X_test)[:, 1]
print(f"test F1 at threshold 0.5: {f1_score(y_test, proba > 0.5):.3f}")

# %%
# How the probabilities of the two classes spread
# -----------------------------------------------
# Odd digits get higher probabilities than even ones, but mostly below 0.5.
import matplotlib.pyplot as plt
import numpy as np

fig, ax = plt.subplots(figsize=(6, 3))
bins = np.linspace(0, 1, 41)
ax.hist(proba[y_test == 0], bins=bins, alpha=0.6, label="even (negative)")
ax.hist(proba[y_test == 1], bins=bins, alpha=0.6, label="odd (positive)")
ax.axvline(0.5, color="k", linestyle="--", label="default threshold")
ax.set_yscale("log")
ax.set_xlabel("P(odd)")
ax.set_ylabel("test samples")
ax.legend()

# %%
# Tune the threshold by cross-validation
# --------------------------------------
# ``cv=0.25`` holds out a quarter of the training data (stratified) to choose
# the threshold that maximises F1, then ``refit=True`` trains again on all of
# it. A threshold chosen on the test set would be an optimistic score, not a
# model.
from sklearn.model_selection import TunedThresholdClassifierCV

tuned = TunedThresholdClassifierCV(
    clf, scoring="f1", cv=0.25, refit=True, random_state=0, store_cv_results=True
)
tuned.fit(X_train, y_train)
print(f"chosen threshold: {tuned.best_threshold_:.3f}")
print(f"test F1 at the chosen threshold: {f1_score(y_test, tuned.predict(X_test)):.3f}")

# %%
# F1 on the held-out quarter for every threshold tried:
fig, ax = plt.subplots(figsize=(6, 3))
ax.plot(tuned.cv_results_["thresholds"], tuned.cv_results_["scores"])
ax.axvline(tuned.best_threshold_, color="tab:green", label="chosen")
ax.axvline(0.5, color="k", linestyle="--", label="default")
ax.set_xlabel("threshold on P(odd)")
ax.set_ylabel("F1 (held-out quarter)")
ax.legend()

# %%
# The held-out quarter holds only a handful of odd digits (about 3 of the 12
# in the training set here), so the chosen threshold is noisy; that is the
# price of choosing it honestly with one split, and why
# ``compare_strategies`` chooses each fit's threshold on the other folds'
# out-of-fold predictions, which hold every rare training sample. Threshold
# tuning combines with every other strategy (a re-weighted loss also shifts
# the probabilities) and is binary only.
