"""Datasets for skimbal classifiers: image folders, small built-in sets."""

from ._builtin import load_digits_images, load_mnist_5k, make_imbalanced
from ._image_folder import load_image_folder
from ._synthetic import make_defect_images

__all__ = [
    "load_digits_images",
    "load_image_folder",
    "load_mnist_5k",
    "make_defect_images",
    "make_imbalanced",
]
