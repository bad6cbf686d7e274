"""Networks: the default :class:`SimpleCNN` and torchvision backbones."""

from ._heads import LinearHead, MLPHead
from ._simple_cnn import SimpleCNN
from ._torchvision import (
    IMAGENET_MEAN,
    IMAGENET_STD,
    TorchvisionBackbone,
    backbone_normalization,
    classification_model_names,
)

__all__ = [
    "IMAGENET_MEAN",
    "IMAGENET_STD",
    "LinearHead",
    "MLPHead",
    "SimpleCNN",
    "TorchvisionBackbone",
    "backbone_normalization",
    "classification_model_names",
]
