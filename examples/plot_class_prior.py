"""
At which class prior? One comparison, ranked twice
==================================================

F1 and precision depend on how common the rare class is where they are
measured, and so does the best decision threshold.
:func:`~skimbal.model_selection.compare_strategies` scores, tunes and
chooses at one stated class prior: ``"balanced"`` by default, as if every
class were equally frequent (the lecture's balanced validation set), or
``"train"``, the data's own proportions. This example runs the same
comparison at both and shows what changes. :doc:`/user_guide/class_prior`
explains the weighting.
"""

# %%
# The lecture's numbers
# ---------------------
# The lecture's network found 821 of 1,500 cats and called 11 of 1,500 dogs
# cats: F1 0.704 on its balanced validation set. Weighted so that one animal
# in 23 is a cat, the same predictions have the same recall but less
# precision, and F1 0.641.
import numpy as np
from sklearn.metrics import f1_score, precision_score, recall_score

from skimbal.metrics import class_prior_weights, describe_class_prior

y_true = np.array(["dog"] * 1500 + ["cat"] * 1500)
y_pred = np.array(["dog"] * 1489 + ["cat"] * 11 + ["dog"] * 679 + ["cat"] * 821)
for prior in ("balanced", 1 / 23):
    weights = class_prior_weights(y_true, prior, pos_label="cat")
    scores = [
        metric(y_true, y_pred, pos_label="cat", sample_weight=weights)
        for metric in (recall_score, precision_score, f1_score)
    ]
    print(
        describe_class_prior(prior, ["cat", "dog"], pos_label="cat") + ":",
        "recall {:.3f}, precision {:.3f}, F1 {:.3f}".format(*scores),
    )

# %%
# The same comparison at two priors
# ---------------------------------
# Four strategies on odd-versus-even digits at 1:50, a small network, 3
# folds. Both runs train the very same networks (same folds, same seeds);
# only the thresholds, the scores and the choice are made at another prior.
# Neither needs the chosen model, so ``refit=False``.
from skimbal import CNNClassifier
from skimbal.datasets import load_digits_images, make_imbalanced
from skimbal.model_selection import compare_strategies

X, y = load_digits_images(return_X_y=True)
X, y = make_imbalanced(X, y, ratio=50, positive=[1, 3, 5, 7, 9], random_state=0)
clf = CNNClassifier(input_shape=(1, 8, 8), module__filters=(8,), random_state=0)
strategies = ["plain", "class_weight", "oversample", "balanced_softmax"]
reports = {
    prior: compare_strategies(
        X,
        y,
        clf,
        strategies=strategies,
        cv=3,
        class_prior=prior,
        refit=False,
        random_state=0,
    )
    for prior in ("balanced", "train")
}
for prior, report in reports.items():
    print(f"{prior!r}: scores {report.metadata['class_prior_text']}")

# %%
# Rankings and thresholds
# -----------------------
# F1 at each prior's tuned thresholds, the thresholds, and the rank of each
# strategy (1 is best):
import pandas as pd

columns = {}
for prior, report in reports.items():
    columns[(prior, "F1")] = report.table["f1_mean"]
    columns[(prior, "threshold")] = report.table["threshold_mean"]
    columns[(prior, "rank")] = report.table["f1_mean"].rank(ascending=False)
pd.DataFrame(columns).loc[strategies].round(3)

# %%
# At the data's own prior every odd digit competes with 52 even ones, so a
# false alarm costs 52 times as much as on a balanced set: F1 is lower, the
# tuned thresholds are higher (a positive call has to be surer), and the
# strategies are ranked again by how few false alarms they pay for their
# hits; compare the two rank columns. The choice is made at each prior too:
for prior, report in reports.items():
    print(f"{prior!r}: chosen {report.best_strategy_}")

# %%
# The bar charts side by side:
import matplotlib.pyplot as plt

fig, axes = plt.subplots(1, 2, figsize=(10, 3), layout="constrained")
for ax, (prior, report) in zip(axes, reports.items(), strict=True):
    report.plot(ax=ax)
    ax.set_title(f"class_prior={prior!r}", fontsize="medium")

# %%
# Which prior to choose? The one the model will meet: ``"train"`` when it
# will see data like the training data, ``"balanced"`` to compare with
# balanced test sets and the literature, or the share you expect
# (``class_prior=0.01``). Report it with every figure; the caption of
# ``report.to_markdown()`` does.
