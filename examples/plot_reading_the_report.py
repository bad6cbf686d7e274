"""
Reading the report
==================

:func:`~skimbal.model_selection.compare_strategies` returns a
:class:`~skimbal.model_selection.StrategyReport`: a table, the candidates
behind it, the t-tests and the choice, plots made from out-of-fold
predictions, and files. This example walks through each, on a comparison
small enough to run in seconds; :doc:`/user_guide/reading_reports` reads a
full-size one line by line.
"""

# %%
# A comparison
# ------------
# Three strategies on odd-versus-even digits at 1:50, with a small network
# (one convolution block of 8 filters). ``"focal"`` tries six settings
# (``gamma`` 1, 2, 5, with and without balanced class weights). Every fit
# trains on its whole training fold; its decision threshold maximises F1 at
# the balanced class prior (the default) over the other folds' out-of-fold
# predictions, never its own test fold's. This example only reads the
# report, so ``refit=False`` keeps no model (see
# :ref:`sphx_glr_auto_examples_plot_trusted_model.py` for the model).
from skimbal import CNNClassifier
from skimbal.datasets import load_digits_images, make_imbalanced
from skimbal.model_selection import compare_strategies

X, y = load_digits_images(return_X_y=True)
X, y = make_imbalanced(X, y, ratio=50, positive=[1, 3, 5, 7, 9], random_state=0)
clf = CNNClassifier(input_shape=(1, 8, 8), module__filters=(8,), random_state=0)
report = compare_strategies(
    X,
    y,
    clf,
    strategies=["plain", "oversample", "focal"],
    cv=3,
    refit=False,
    random_state=0,
)
report

# %%
# The table
# ---------
# One row per strategy, sorted by the ranking metric (F1 unless ``scoring``
# says otherwise), best first. For every metric, ``_mean`` and ``_std`` over
# the folds. F1, precision and recall are those of the positive class, which
# is the minority class unless you pass ``pos_label``, at each fit's tuned
# threshold; every score is at the class prior the caption names.
print(report.caption())
report.table.round(3)

# %%
# Thresholds: the biggest lever
# -----------------------------
# ``f1_at_0.5`` is the same fits at the usual 0.5 threshold, ``threshold``
# the thresholds they chose, and average precision, which does not depend on
# the threshold, how well each ranks the odd digits:
report.table[
    ["f1_at_0.5_mean", "f1_mean", "threshold_mean", "average_precision_mean"]
].round(3)

# %%
# A network whose F1 at 0.5 is far below its tuned F1 ranks the rare class
# well but rarely gives it a probability near 0.5: its threshold is worth
# more than its strategy. Keep the threshold with the model
# (``report.best_estimator_`` does).

# %%
# Which differences are real
# --------------------------
# ``p_vs_best`` is a one-sided corrected t-test of "the top strategy is
# better than this one" on the F1 of each fold, ``tied_with_best`` says it
# is not significantly worse; ``p_vs_plain`` and ``beats_plain`` test "this
# one is better than ``plain``". ``report.split_scores`` holds the per-fold
# scores behind them. With 17 odd digits, each of the three test folds holds
# 5 or 6 of them, so the tests have little power: "tied" means "not shown to
# be different", not "equal".
report.table[
    ["f1_mean", "f1_std", "p_vs_best", "tied_with_best", "p_vs_plain", "beats_plain"]
].round(3)

# %%
report.split_scores.round(3)

# %%
# The choice
# ----------
# ``metadata["top_strategy"]`` has the highest mean score; the strategy
# handed back, ``best_strategy_``, is the simplest one (in the order of
# :data:`~skimbal.model_selection.SIMPLICITY`) that is tied with it and
# within ``tie_tolerance`` (0.01) of its mean. The two often agree; when a
# simpler strategy is as good, they don't.
print("top:", report.metadata["top_strategy"], " chosen:", report.best_strategy_)
print({k: report.metadata[k] for k in ["scoring", "pos_label", "class_counts", "cv"]})

# %%
# Every candidate
# ---------------
# The six focal-loss settings, and the other strategies' single candidates.
# The focal row of the table shows its best setting, picked on the same
# folds it is scored on, which flatters it slightly next to strategies with
# one candidate:
columns = ["strategy", "params", "f1_mean", "f1_std", "f1_at_0.5_mean"]
report.candidates[columns].round(3)

# %%
# Plots
# -----
# The ranking metric per strategy, with its standard deviation (the chosen
# strategy in green, ``plain`` in grey):
ax = report.plot()

# %%
# Out-of-fold precision-recall curves of the chosen and top strategies and
# of ``plain`` (each sample predicted by the fit whose test fold it was in),
# weighted at the class prior. The closer to the top right, the better; the
# dashed line is chance, the positive class's share at that prior (0.5 when
# balanced). The legend's AP is that of the pooled curve, which differs a
# little from the table's mean of one AP per fold.
ax = report.plot_precision_recall()

# %%
# Confusion matrices from the same predictions, each fold at its own tuned
# threshold. Rows are the true class, columns the predicted one: the odd
# digits missed are in row 1, column 0, the even digits called odd in
# row 0, column 1.
fig = report.plot_confusion_matrices()

# %%
# Files
# -----
# :meth:`~skimbal.model_selection.StrategyReport.save` writes the tables
# (CSV, Markdown), the per-fold scores, the metadata (JSON), the predictions
# and the plots (the bar chart is named after the ranking metric,
# ``f1.png``); :meth:`~skimbal.model_selection.StrategyReport.load` reads them
# back. A report made with ``refit=True`` also writes its model to
# ``model/``. ``skimbal compare`` writes the same folder (``skimbal_report/``
# by default).
import tempfile

from skimbal.model_selection import StrategyReport

with tempfile.TemporaryDirectory() as folder:
    written = report.save(folder)
    print(sorted(path.name for path in written))
    again = StrategyReport.load(folder)
print(again.best_strategy_)
