"""
Reading the report
==================

:func:`~skimbal.model_selection.compare_strategies` returns a
:class:`~skimbal.model_selection.StrategyReport`: a table, the candidates
behind it, plots made from out-of-fold predictions, and files. This example
walks through each, on a comparison small enough to run in seconds.
"""

# %%
# A comparison
# ------------
# Four strategies on odd-versus-even digits at 1:50, with a small network
# trained for 6 epochs. ``"focal"`` tries six settings (``gamma`` 1, 2, 5,
# with and without balanced class weights); ``"threshold_tuning"`` tunes the
# plain network's decision threshold.
from skimbal import CNNClassifier
from skimbal.datasets import load_digits_images, make_imbalanced
from skimbal.model_selection import compare_strategies

X, y = load_digits_images(return_X_y=True)
X, y = make_imbalanced(X, y, ratio=50, positive=[1, 3, 5, 7, 9], random_state=0)
clf = CNNClassifier(input_shape=(1, 8, 8), max_epochs=6, random_state=0)
report = compare_strategies(
    X,
    y,
    clf,
    strategies=["plain", "oversample", "focal", "threshold_tuning"],
    cv=3,
    random_state=0,
)
report

# %%
# The table
# ---------
# One row per strategy, sorted by the ranking metric (F1 unless ``scoring``
# says otherwise), best first. For every metric, ``_mean`` and ``_std`` over
# the folds. F1, precision and recall are those of the positive class, which
# is the minority class unless you pass ``pos_label``.
report.table.round(3)

# %%
# How to read it:
#
# * **Compare with** ``plain``. It is the baseline every strategy must beat.
# * **Mind the standard deviations.** With 17 positives in 3 folds, each test
#   fold holds 5 or 6 of them: one more or one fewer found moves recall by
#   0.17 to 0.2. Differences smaller than the standard deviations are not
#   evidence.
# * **Precision and recall say how a strategy wins.** A strategy with high
#   recall and low precision predicts the rare class too often; one with
#   high precision and low recall, too rarely. Recall 0 with balanced
#   accuracy 0.5 means the network never predicted the rare class at all.
# * **Average precision is threshold-free.** A strategy with good average
#   precision and poor F1 ranks the samples well but cuts at the wrong
#   probability: threshold tuning is then the cheap fix.
# * ``n_candidates`` counts the settings a strategy tried; the row shows its
#   best one (``params``), picked on the same folds it is scored on, so a
#   strategy with many candidates is slightly flattered.
#
# The winner and the run's settings:
print(report.best_strategy_)
print({k: report.metadata[k] for k in ["scoring", "pos_label", "class_counts", "cv"]})

# %%
# Every candidate
# ---------------
# The six focal-loss settings, and the other strategies' single candidates:
report.candidates[["strategy", "params", "f1_mean", "f1_std", "recall_mean"]].round(3)

# %%
# Plots
# -----
# The ranking metric per strategy, with its standard deviation:
ax = report.plot()

# %%
# Precision-recall curves of the best strategy and of ``plain``, from
# out-of-fold predictions (each sample predicted by the model that did not
# train on it). The closer to the top right, the better; the dashed line is
# chance, the share of positives.
ax = report.plot_precision_recall()

# %%
# Confusion matrices from the same predictions. Rows are the true class,
# columns the predicted one: the bottom-left cell counts the rare samples
# missed.
fig = report.plot_confusion_matrices()

# %%
# Files
# -----
# :meth:`~skimbal.model_selection.StrategyReport.save` writes the tables
# (CSV, Markdown), the metadata (JSON), the predictions and the plots;
# :meth:`~skimbal.model_selection.StrategyReport.load` reads them back.
# ``skimbal compare`` writes the same folder (``skimbal_report/`` by default).
import tempfile

from skimbal.model_selection import StrategyReport

with tempfile.TemporaryDirectory() as folder:
    written = report.save(folder)
    print(sorted(path.name for path in written))
    again = StrategyReport.load(folder)
print(again.best_strategy_)
