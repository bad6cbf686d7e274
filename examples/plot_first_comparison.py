"""
A first comparison in five lines
================================

Which imbalance strategy works on *your* data?
:func:`~skimbal.model_selection.compare_strategies` answers with honest
cross-validation: every strategy is trained and scored on the same folds, and
the answer is a table.

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
# deviation over the folds of F1, precision and recall of the positive class,
# balanced accuracy, average precision and the time per fit.
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
# and its F1 on the rare class is close to 0 (here it called no digit odd
# at all). Re-weighting the loss (``class_weight``) or repeating the rare
# samples (``oversample``) makes the network look at them. With 17 odd
# digits, each of the three test folds holds only 5 or 6, so the standard
# deviations are large: the two remedies are clearly better than ``plain``,
# but not clearly different from each other.
#
# Without ``strategies=``, all eleven strategies run (see
# :data:`~skimbal.model_selection.STRATEGIES`), and ``cv=5`` is the default;
# that is what ``skimbal compare`` does from the shell. This example keeps
# three strategies and three folds so that it runs in seconds.
