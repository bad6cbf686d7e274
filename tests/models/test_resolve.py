"""Tests for skimbal.models._resolve.resolve_module."""

import pytest
import torch
from torch import nn

from skimbal.models._resolve import resolve_module
from skimbal.models._torchvision import TorchvisionBackbone


class TinyNet(nn.Module):
    def __init__(self, num_classes=2):
        super().__init__()
        self.linear = nn.Linear(4, num_classes)

    def forward(self, x):
        return self.linear(x.flatten(1))


def test_simple_cnn():
    from skimbal.models import SimpleCNN

    assert resolve_module("simple_cnn") == (SimpleCNN, {})
    assert resolve_module("Simple_CNN") == (SimpleCNN, {})


@pytest.mark.parametrize(
    "name, expected", [("resnet18", "resnet18"), ("VGG16", "vgg16")]
)
def test_torchvision_names(name, expected):
    assert resolve_module(name) == (TorchvisionBackbone, {"name": expected})


def test_resolved_backbone_builds():
    module_class, kwargs = resolve_module("resnet18")
    net = module_class(**kwargs, num_classes=3, in_channels=1)
    net.eval()
    assert net(torch.zeros(2, 1, 32, 32)).shape == (2, 3)


def test_module_class_and_instance():
    assert resolve_module(TinyNet) == (TinyNet, {})
    assert resolve_module(TinyNet(num_classes=3)) == (TinyNet, {})
    assert resolve_module(TorchvisionBackbone) == (TorchvisionBackbone, {})


@pytest.mark.parametrize(
    "module, suggestion",
    [("resnet_18", "'resnet18'"), ("simple-cnn", "'simple_cnn'"), ("vgg61", "'vgg16'")],
)
def test_unknown_name_suggests_close_ones(module, suggestion):
    with pytest.raises(ValueError, match=f"module='{module}'") as info:
        resolve_module(module)
    assert suggestion in str(info.value)
    assert "classification_model_names" in str(info.value)


def test_unknown_name_without_close_match():
    with pytest.raises(ValueError, match="not a known network") as info:
        resolve_module("qqqqqqqq")
    assert "Did you mean" not in str(info.value)


@pytest.mark.parametrize("module", [3, None, dict, ["resnet18"]])
def test_other_types(module):
    with pytest.raises(TypeError, match="module must be"):
        resolve_module(module)


@pytest.mark.parametrize(
    "module, expected",
    [
        ("resnet18", (224, 224)),
        ("VGG16", (224, 224)),
        ("simple_cnn", (64, 64)),
        ("Simple_CNN", (64, 64)),
        (TinyNet, (64, 64)),
        (TinyNet(), (64, 64)),
    ],
)
def test_default_image_size(module, expected):
    from skimbal.models._resolve import default_image_size

    assert default_image_size(module) == expected


def test_input_normalization_only_for_pretrained_backbones(tmp_path):
    from skimbal.models import IMAGENET_MEAN, IMAGENET_STD
    from skimbal.models._resolve import input_normalization

    assert input_normalization("resnet18", None, in_channels=3) is None
    assert input_normalization("simple_cnn", "DEFAULT", in_channels=3) is None
    assert input_normalization(TinyNet, "DEFAULT", in_channels=3) is None
    # A state dict file: ImageNet's statistics, for the channels asked for.
    weights_file = str(tmp_path / "weights.pt")
    assert input_normalization("resnet18", weights_file, in_channels=3) == (
        IMAGENET_MEAN,
        IMAGENET_STD,
    )
    mean, std = input_normalization("ResNet18", weights_file, in_channels=1)
    assert mean == (pytest.approx(sum(IMAGENET_MEAN) / 3),)
    assert std == (pytest.approx(sum(IMAGENET_STD) / 3),)
