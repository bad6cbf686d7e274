"""
A first comparison in five lines
================================

Which imbalance strategy works on *your* data?
:func:`~skimbal.model_selection.compare_strategies` answers with honest
cross-validation: every strategy is trained and scored on the same folds,
each with its own decision threshold tuned on data it is not scored on, and
the answer is a table, a choice and a model.

The data here are scikit-learn's 8x8 handwritten digits, turned into the
lecture's kind of problem: odd digits against even digits (two balanced halves
of varied images, like cats and dogs), with the odd digits then made rare, one
for every 50 even ones.
"""

# %%
# The five lines
# --------------
from skimbal.datasets import load_digits_images, make_imbalanced
from skimbal.model_selection import compare_strategies

X, y = load_digits_images(return_X_y=True)
X, y = make_imbalanced(X, y, ratio=50, positive=[1, 3, 5, 7, 9], random_state=0)
report = compare_strategies(
    X, y, strategies=["plain", "class_weight", "oversample"], cv=3, random_state=0
)

# %%
# The data: 891 even digits (class 0) and 17 odd ones (class 1, the rare
# positive class).
import numpy as np

print(np.bincount(y))

# %%
# The table has one row per strategy, best first: the mean and standard
# deviation over the folds of F1, precision and recall of the positive class
# at each fit's tuned threshold, F1 at the usual 0.5 threshold, the
# thresholds, balanced accuracy, average precision, F1 at the data's own
# class prior and the time per fit; then the t-tests and the choice.
report.table

# %%
# The same as Markdown, as ``skimbal compare`` prints it:
print(report.to_markdown())

# %%
# And as a chart (the best strategy in green, the ``plain`` baseline in grey):
ax = report.plot()

# %%
# What happened
# -------------
# ``plain`` cross-entropy learns to answer "even" almost always: with 1
# positive in 51 samples, that is the cheapest way to a low training loss,
# and its F1 on the rare class at the 0.5 threshold (``f1_at_0.5``) is low.
# Yet it ranks the odd digits above the even ones (see its average
# precision), so at a threshold tuned on held-out data its F1 is much
# higher (``f1``). Re-weighting the loss (``class_weight``) or repeating the
# rare samples (``oversample``) makes the network look at them; here that
# raised F1 at 0.5 much more than F1 at the tuned threshold. With 17 odd
# digits, each of the three test folds holds only 5 or 6, so the standard
# deviations are large, and the t-tests (``tied_with_best``,
# ``beats_plain``) say which gaps are more than noise. The chosen strategy,
# ``report.best_strategy_``, is the simplest one tied with the top one and
# within 0.01 of its mean:
print(report.best_strategy_)

# %%
# It comes back as ``report.best_estimator_``: its three fold models of
# this comparison, averaged, with the threshold chosen on their out-of-fold
# predictions
# (:ref:`sphx_glr_auto_examples_plot_trusted_model.py`).
#
# Without ``strategies=``, every built-in strategy runs (see
# :data:`~skimbal.model_selection.STRATEGIES`), and ``cv=5`` is the default;
# that is what ``skimbal compare`` does from the shell. This example keeps
# three strategies and three folds so that it runs in seconds.
