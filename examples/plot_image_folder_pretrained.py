"""
Images from a folder with a pretrained backbone
===============================================

Real data are usually image files: one sub-folder per class
(``data/good/001.png``, ``data/defect/002.png``) or the dogs-vs-cats naming
(``data/cat.1.jpg``). :func:`~skimbal.datasets.load_image_folder` lists them
as a one-column table of paths; :class:`~skimbal.CNNClassifier` decodes the
files batch by batch, so samplers copy file names, never pixels.

With a pretrained torchvision backbone the network starts from features
learned on ImageNet; the lecture's ResNet18 went from F1 0.67 (plain loss) to
0.96 this way. Pretrained weights are read from local files only: skimbal
never downloads. To keep this example offline and fast, it makes a tiny
folder of synthetic images and saves a *randomly initialised* ResNet18 as its
"pretrained" weights file; with real weights, the code is the same.
"""

# %%
# A tiny image folder
# -------------------
# 60 "good" parts (noise) and 6 "defect" parts (noise with a bright scratch),
# 32x32 RGB PNG files in a temporary folder.
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

workdir = Path(tempfile.mkdtemp())
root = workdir / "parts"
rng = np.random.default_rng(0)
for label, count in [("good", 60), ("defect", 6)]:
    (root / label).mkdir(parents=True)
    for i in range(count):
        pixels = rng.integers(60, 120, size=(32, 32, 3), dtype=np.uint8)
        if label == "defect":
            row = rng.integers(4, 28)
            pixels[row : row + 2, 4:28] = 250
        Image.fromarray(pixels).save(root / label / f"{i:03d}.png")

# %%
# List it
# -------
import pandas as pd

from skimbal.datasets import load_image_folder

X, y = load_image_folder(root)
print(X.head(3))
print(pd.Series(y).value_counts())

# %%
# Two of the images:
import matplotlib.pyplot as plt

fig, axes = plt.subplots(1, 2, figsize=(4, 2))
for ax, index in zip(axes, [0, len(y) - 1], strict=True):
    ax.imshow(Image.open(X["path"].iloc[index]))
    ax.set_title(y[index])
    ax.axis("off")

# %%
# A weights file
# --------------
# Any file written by ``torch.save(model.state_dict(), path)`` works, for
# the original 1000-class torchvision model or one with your number of
# classes. Here: an untrained ResNet18. With network access, torchvision's
# ImageNet weights are one line away (see the note at the end).
import torch
import torchvision

weights_file = workdir / "resnet18.pth"
torch.save(torchvision.models.resnet18(weights=None).state_dict(), weights_file)

# %%
# The classifier
# --------------
# ``module="resnet18"`` builds the torchvision model with a new 2-class head
# and loads ``module__weights``. ``module__freeze=True`` trains the head only
# (the backbone and its BatchNorm statistics stay as loaded), which is what
# a small data set calls for. Images are resized to ``image_size`` and
# normalised with ImageNet's mean and standard deviation, as the backbone
# expects. ``class_weight="balanced"`` weighs the 6 defects like the 60 good
# parts.
from skimbal import CNNClassifier

clf = CNNClassifier(
    module="resnet18",
    module__weights=str(weights_file),
    module__freeze=True,
    image_size=32,
    class_weight="balanced",
    max_epochs=1,
    batch_size=16,
    random_state=0,
)
clf.fit(X, y)
print(clf.classes_, clf.class_counts_, clf.class_weight_.round(2))

# %%
# Only the new head was trained:
trainable = sum(p.numel() for p in clf.module_.parameters() if p.requires_grad)
total = sum(p.numel() for p in clf.module_.parameters())
print(f"{trainable} of {total} parameters trainable")

# %%
# Predictions are labels from the folder names, probabilities a softmax:
print(clf.predict(X.iloc[[0, -1]]))
print(clf.predict_proba(X.iloc[[0, -1]]).round(3))

# %%
# One epoch on random "pretrained" features learns nothing useful; the point
# here is the plumbing. Everything else in skimbal takes this classifier
# as it takes any other, e.g. ``compare_strategies(X, y, clf)``, or
# ``skimbal compare --data parts --module resnet18 --image-size 32 --weights
# resnet18.pth --freeze`` from the shell. With a frozen backbone both compute
# its features once per image and train only the head on them (see
# :ref:`sphx_glr_auto_examples_plot_frozen_features.py`).
#
# .. note::
#
#    **Real ImageNet weights.** ``module__weights="IMAGENET1K_V1"`` (or
#    ``"DEFAULT"``) is read from the torch hub cache,
#    ``~/.cache/torch/hub/checkpoints/``. Fill it once, on a machine with
#    network access, by loading the weights with torchvision,
#    ``torchvision.models.resnet18(weights="IMAGENET1K_V1")``, and copy the
#    file where it is needed. A missing file is an error that
#    names the URL and the path to store it under, never a silent download.

import shutil

shutil.rmtree(workdir)
