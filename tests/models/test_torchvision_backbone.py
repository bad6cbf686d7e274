"""Tests for skimbal.models._torchvision (torchvision backbones, offline)."""

import os
import pickle
import warnings

import pytest
import torch
import torchvision
from torch import nn
from torch.nn import functional as F

from skimbal.models._torchvision import (
    IMAGENET_MEAN,
    IMAGENET_STD,
    TorchvisionBackbone,
    backbone_normalization,
    classification_model_names,
)

RESNET18_FILE = "resnet18-f37072fd.pth"  # basename of ResNet18_Weights' URL


@pytest.fixture(autouse=True)
def seed():
    torch.manual_seed(0)


@pytest.fixture
def hub_dir(tmp_path, monkeypatch):
    """An empty torch hub cache under a temporary $TORCH_HOME."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    monkeypatch.setattr(torch.hub, "_hub_dir", None)  # undo any set_dir()
    return tmp_path / "hub" / "checkpoints"


@pytest.fixture(scope="module")
def resnet18_file(tmp_path_factory):
    """A torchvision resnet18 (1000 classes) and its state dict file."""
    torch.manual_seed(1)
    reference = torchvision.models.resnet18()
    path = tmp_path_factory.mktemp("resnet18") / "resnet18.pth"
    torch.save(reference.state_dict(), path)
    return reference.state_dict(), str(path)


@pytest.fixture(scope="module")
def vgg16_file(tmp_path_factory):
    torch.manual_seed(2)
    state_dict = torchvision.models.vgg16().state_dict()
    path = tmp_path_factory.mktemp("vgg16") / "vgg16.pth"
    torch.save(state_dict, path)
    # Only two parameters are compared later; keep the 0.5 GB out of memory.
    kept = {
        k: state_dict[k].clone() for k in ["features.0.weight", "classifier.3.bias"]
    }
    del state_dict
    yield kept, str(path)
    os.remove(path)


def _tiny_batch(channels=3, n=8, size=32):
    generator = torch.Generator().manual_seed(3)
    x = torch.randn(n, channels, size, size, generator=generator)
    y = torch.arange(n) % 2
    return x, y


def _train(net, steps, lr=0.01, channels=3):
    x, y = _tiny_batch(channels)
    optimizer = torch.optim.SGD(
        [p for p in net.parameters() if p.requires_grad], lr=lr, momentum=0.9
    )
    net.train()
    losses = []
    for _ in range(steps):
        optimizer.zero_grad()
        loss = F.cross_entropy(net(x), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


def _snapshot(net):
    return {k: v.detach().clone() for k, v in net.state_dict().items()}


# -- ResNet18 ----------------------------------------------------------------


def test_resnet18_random_init_trains():
    net = TorchvisionBackbone("resnet18", num_classes=2)
    assert not net.pretrained and net.head_name == "fc"
    assert isinstance(net.model.fc, nn.Linear) and net.model.fc.out_features == 2
    before = _snapshot(net)
    losses = _train(net, steps=3)
    assert all(torch.isfinite(torch.tensor(losses)))
    assert losses[-1] < losses[0] / 2  # 8 images: the net starts to memorise them
    after = net.state_dict()
    assert not torch.equal(before["model.conv1.weight"], after["model.conv1.weight"])
    net.eval()
    assert net(_tiny_batch()[0]).shape == (8, 2)


def test_resnet18_from_full_state_dict_file(resnet18_file):
    reference, path = resnet18_file
    net = TorchvisionBackbone("resnet18", num_classes=3, weights=path)
    assert net.pretrained
    loaded = net.model.state_dict()
    for key in ["conv1.weight", "layer4.1.conv2.weight", "layer1.0.bn1.running_var"]:
        assert torch.equal(loaded[key], reference[key])
    assert loaded["fc.weight"].shape == (3, 512)  # new head, not the 1000-class one
    net.eval()
    assert net(_tiny_batch()[0]).shape == (8, 3)


def test_state_dict_with_matching_head_loads_after_replacement(tmp_path):
    source = TorchvisionBackbone("resnet18", num_classes=3, in_channels=1)
    expected = source.state_dict()
    # skorch's save_params writes the module's own state dict ("model." keys);
    # the bare torchvision model's keys work as well.
    for name, state_dict in [
        ("backbone.pt", source.state_dict()),
        ("model.pt", source.model.state_dict()),
    ]:
        torch.save(state_dict, tmp_path / name)
        net = TorchvisionBackbone(
            "resnet18", num_classes=3, in_channels=1, weights=tmp_path / name
        )
        assert net.pretrained
        for key, value in net.state_dict().items():
            assert torch.equal(value, expected[key]), key


def test_wrapped_checkpoint_loads(tmp_path, resnet18_file):
    reference, _ = resnet18_file
    path = tmp_path / "checkpoint.pth"
    torch.save({"epoch": 3, "state_dict": reference}, path)
    net = TorchvisionBackbone("resnet18", weights=str(path))
    assert torch.equal(net.model.conv1.weight, reference["conv1.weight"])


def test_missing_weights_file(tmp_path):
    path = str(tmp_path / "absent.pth")
    with pytest.raises(FileNotFoundError, match="absent.pth"):
        TorchvisionBackbone("resnet18", weights=path)


def test_mismatched_state_dict_names_file_and_keys(tmp_path, resnet18_file):
    reference, _ = resnet18_file
    broken = dict(reference)
    del broken["layer2.0.conv1.weight"]
    broken["extra.weight"] = torch.zeros(1)
    path = str(tmp_path / "broken.pth")
    torch.save(broken, path)
    with pytest.raises(ValueError, match="does not fit 'resnet18'") as info:
        TorchvisionBackbone("resnet18", weights=path)
    message = str(info.value)
    assert repr(path) in message
    assert "missing layer2.0.conv1.weight" in message
    assert "unexpected extra.weight" in message


def test_state_dict_of_another_architecture(tmp_path):
    path = str(tmp_path / "squeezenet.pth")
    torch.save(torchvision.models.squeezenet1_1().state_dict(), path)
    with pytest.raises(ValueError, match="problem") as info:
        TorchvisionBackbone("resnet18", weights=path)
    assert repr(path) in str(info.value)


@pytest.mark.parametrize(
    "content, match",
    [
        ([1, 2, 3], "does not hold a state dict"),
        ({}, "does not hold a state dict"),
        (b"not a torch file", "not a valid PyTorch state-dict file"),
    ],
)
def test_file_without_state_dict(tmp_path, content, match):
    path = tmp_path / "weights.pt"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        torch.save(content, path)
    with pytest.raises(ValueError, match=match) as info:
        TorchvisionBackbone("resnet18", weights=path)
    assert str(path) in str(info.value)


@pytest.mark.parametrize(
    "content",
    [
        bytes(range(256)) * 8,
        b"\x80\x09" + bytes(range(255, -1, -1)) * 8,  # claims pickle protocol 9
        os.urandom(2000),
    ],
    ids=["bytes", "pickle protocol 9", "random"],
)
def test_garbage_weights_file_gets_a_safe_message(tmp_path, content):
    path = tmp_path / "garbage.pth"
    path.write_bytes(content)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(ValueError) as info:
            TorchvisionBackbone("resnet18", weights=str(path))
    message = str(info.value)
    assert str(path) in message
    assert "not a valid PyTorch state-dict file" in message
    assert "torch.save(model.state_dict(), path)" in message
    assert "weights_only=False" not in message
    assert info.value.__cause__ is None and info.value.__suppress_context__
    assert [str(w.message) for w in caught] == []  # e.g. "Detected pickle protocol"


# -- input channels ----------------------------------------------------------


def test_grayscale_adaptation_of_pretrained_conv(resnet18_file):
    reference, path = resnet18_file
    net = TorchvisionBackbone("resnet18", in_channels=1, weights=path)
    rgb_weight = reference["conv1.weight"]
    gray_weight = net.model.conv1.weight.detach()
    assert gray_weight.shape == (64, 1, 7, 7)
    # The RGB mean times 3: the sum over the RGB filters ...
    torch.testing.assert_close(gray_weight, rgb_weight.mean(1, keepdim=True) * 3)
    # ... so a gray image gives the activations of its RGB replication.
    gray = torch.rand(2, 1, 16, 16)
    torch.testing.assert_close(
        F.conv2d(gray, gray_weight, stride=2, padding=3),
        F.conv2d(gray.expand(-1, 3, -1, -1), rgb_weight, stride=2, padding=3),
    )
    # The rest of the network is the pretrained one.
    assert torch.equal(
        net.model.layer1[0].conv1.weight, reference["layer1.0.conv1.weight"]
    )
    x, _ = _tiny_batch(channels=1)
    net.eval()
    assert net(x).shape == (8, 2)


def test_two_channel_adaptation_repeats_scaled_mean(resnet18_file):
    reference, path = resnet18_file
    net = TorchvisionBackbone("resnet18", in_channels=2, weights=path)
    expected = reference["conv1.weight"].mean(1, keepdim=True).repeat(1, 2, 1, 1) * 1.5
    torch.testing.assert_close(net.model.conv1.weight.detach(), expected)


def test_grayscale_adaptation_without_weights():
    net = TorchvisionBackbone("resnet18", in_channels=1, num_classes=4)
    conv = net.model.conv1
    assert conv.in_channels == 1 and conv.out_channels == 64
    assert conv.stride == (2, 2) and conv.padding == (3, 3) and conv.bias is None
    losses = _train(net, steps=2, channels=1)
    assert all(torch.isfinite(torch.tensor(losses)))


# -- freezing ----------------------------------------------------------------


def test_freeze_trains_only_the_head(resnet18_file):
    _, path = resnet18_file
    net = TorchvisionBackbone("resnet18", weights=path, freeze=True)
    trainable = [name for name, p in net.named_parameters() if p.requires_grad]
    assert trainable == ["model.fc.weight", "model.fc.bias"]
    before = _snapshot(net)
    _train(net, steps=3, lr=0.1)
    after = net.state_dict()
    assert net.model.bn1.training is False  # frozen BatchNorm stays in eval mode
    assert net.model.fc.training is True
    for key, value in after.items():
        if key.startswith("model.fc."):
            assert not torch.equal(value, before[key]), key
        else:  # parameters and BatchNorm buffers alike
            assert torch.equal(value, before[key]), key


def test_freeze_keeps_new_first_conv_trainable_only_without_weights(resnet18_file):
    _, path = resnet18_file
    with pytest.warns(UserWarning, match="random weights"):
        fresh = TorchvisionBackbone("resnet18", in_channels=1, freeze=True)
    assert fresh.model.conv1.weight.requires_grad
    assert not fresh.model.layer1[0].conv1.weight.requires_grad
    pretrained = TorchvisionBackbone(
        "resnet18", in_channels=1, weights=path, freeze=True
    )
    assert not pretrained.model.conv1.weight.requires_grad
    assert pretrained.model.fc.weight.requires_grad


def test_freeze_without_weights_warns(resnet18_file):
    with pytest.warns(UserWarning, match=r"random weights.*module__weights=") as info:
        TorchvisionBackbone("resnet18", freeze=True)
    assert info[0].filename == __file__  # points at the caller
    _, path = resnet18_file
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        TorchvisionBackbone("resnet18", weights=path, freeze=True)
        TorchvisionBackbone("resnet18")  # random and trained: nothing to say


def test_classifier_with_frozen_random_backbone_warns():
    from skimbal import CNNClassifier

    clf = CNNClassifier(
        module="resnet18", module__freeze=True, classes=[0, 1], input_shape=(3, 32, 32)
    )
    with pytest.warns(UserWarning, match="module__weights="):
        clf.initialize()


def test_unfrozen_batchnorm_trains():
    net = TorchvisionBackbone("resnet18")
    net.train()
    assert net.model.bn1.training


# -- torchvision weights names and the hub cache -----------------------------


@pytest.mark.parametrize(
    "weights",
    [
        "DEFAULT",
        "IMAGENET1K_V1",
        "ResNet18_Weights.IMAGENET1K_V1",
        torchvision.models.ResNet18_Weights.IMAGENET1K_V1,
    ],
)
def test_weights_name_missing_from_cache(hub_dir, weights):
    with pytest.raises(FileNotFoundError) as info:
        TorchvisionBackbone("resnet18", weights=weights)
    message = str(info.value)
    assert repr(str(hub_dir / RESNET18_FILE)) in message
    assert torchvision.models.ResNet18_Weights.IMAGENET1K_V1.url in message
    assert "$TORCH_HOME" in message


def test_weights_name_found_in_cache(hub_dir, resnet18_file):
    reference, _ = resnet18_file
    hub_dir.mkdir(parents=True)
    torch.save(reference, hub_dir / RESNET18_FILE)
    net = TorchvisionBackbone("resnet18", weights="DEFAULT", num_classes=5)
    assert net.pretrained
    assert torch.equal(net.model.layer3[1].bn2.weight, reference["layer3.1.bn2.weight"])
    assert net.model.fc.out_features == 5


def test_set_dir_is_honoured(tmp_path, monkeypatch):
    monkeypatch.setattr(torch.hub, "_hub_dir", None)
    torch.hub.set_dir(str(tmp_path / "custom"))
    expected = tmp_path / "custom" / "checkpoints" / RESNET18_FILE
    with pytest.raises(FileNotFoundError, match=str(expected)):
        TorchvisionBackbone("resnet18", weights="DEFAULT")


@pytest.mark.parametrize(
    "weights, match",
    [
        ("IMAGENET1K_V9", r"neither a weights name of 'resnet18'.*'DEFAULT'"),
        ("ResNet50_Weights.IMAGENET1K_V1", "belong to another model"),
        (torchvision.models.ResNet50_Weights.DEFAULT, "belong to another model"),
    ],
)
def test_bad_weights_names(weights, match):
    with pytest.raises(ValueError, match=match):
        TorchvisionBackbone("resnet18", weights=weights)


def test_weights_type():
    with pytest.raises(TypeError, match="weights=3"):
        TorchvisionBackbone("resnet18", weights=3)


# -- other arguments ---------------------------------------------------------


def test_unknown_model_name_suggests_close_ones():
    with pytest.raises(ValueError, match="'resnet18'") as info:
        TorchvisionBackbone("resnet19")
    assert "list_models" in str(info.value)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"name": 18}, TypeError, "name=18"),
        ({"name": "fasterrcnn_resnet50_fpn"}, ValueError, "not a torchvision class"),
        ({"num_classes": 0}, ValueError, "num_classes=0"),
        ({"in_channels": 2.0}, ValueError, "in_channels=2.0"),
        ({"freeze": "yes"}, TypeError, "freeze='yes'"),
    ],
)
def test_argument_errors(kwargs, error, match):
    with pytest.raises(error, match=match):
        TorchvisionBackbone(**kwargs)


def test_name_is_case_insensitive():
    assert TorchvisionBackbone("ResNet18").name == "resnet18"


def test_classification_model_names():
    names = classification_model_names()
    assert {"resnet18", "vgg16", "vit_b_16", "squeezenet1_1"} <= set(names)
    assert not any(name.startswith(("fasterrcnn", "fcn_", "raft")) for name in names)


def test_model_without_linear_head():
    # SqueezeNet classifies with a 1x1 convolution.
    net = TorchvisionBackbone("squeezenet1_1", num_classes=3, in_channels=1)
    assert net.head_name == "classifier.1"
    assert net.model.classifier[1].out_channels == 3
    assert not any(isinstance(m, nn.Linear) for m in net.modules())
    net.eval()
    assert net(torch.rand(2, 1, 32, 32)).shape == (2, 3)


def test_auxiliary_heads_are_removed(tmp_path):
    # torchvision's GoogLeNet checkpoints include the auxiliary classifiers.
    reference = torchvision.models.googlenet(aux_logits=True, init_weights=False)
    path = tmp_path / "googlenet.pth"
    torch.save(reference.state_dict(), path)
    net = TorchvisionBackbone("googlenet", num_classes=2, weights=path)
    assert net.model.aux1 is None and net.model.transform_input
    net.train()
    out = net(torch.rand(2, 3, 32, 32))
    assert isinstance(out, torch.Tensor) and out.shape == (2, 2)


def test_backbone_pickles(tmp_path):
    with pytest.warns(UserWarning, match="random weights"):
        net = TorchvisionBackbone("resnet18", num_classes=2, freeze=True)
    clone = pickle.loads(pickle.dumps(net))
    x, _ = _tiny_batch()
    net.eval()
    clone.eval()
    assert torch.equal(net(x), clone(x))


# -- normalisation statistics ------------------------------------------------


def test_backbone_normalization(tmp_path):
    assert backbone_normalization("resnet18", None) is None
    assert backbone_normalization("resnet18", "DEFAULT") == (
        IMAGENET_MEAN,
        IMAGENET_STD,
    )
    assert backbone_normalization("resnet18", tmp_path / "any.pth") == (
        IMAGENET_MEAN,
        IMAGENET_STD,
    )
    # Read from the weights' own preprocessing, which is not always ImageNet's.
    assert backbone_normalization("efficientnet_v2_l", "DEFAULT") == (
        (0.5, 0.5, 0.5),
        (0.5, 0.5, 0.5),
    )
    mean, std = backbone_normalization("resnet18", "IMAGENET1K_V1", in_channels=1)
    assert mean == pytest.approx((sum(IMAGENET_MEAN) / 3,))
    assert std == pytest.approx((sum(IMAGENET_STD) / 3,))
    with pytest.raises(ValueError, match="IMAGENET1K_V9"):
        backbone_normalization("resnet18", "IMAGENET1K_V9")


# -- VGG16 (138 M parameters: one state dict file for the module) ------------


@pytest.mark.slow
def test_vgg16_from_state_dict_file_trains(vgg16_file):
    kept, path = vgg16_file
    net = TorchvisionBackbone("vgg16", num_classes=2, weights=path)
    assert net.head_name == "classifier.6"
    assert net.model.classifier[6].out_features == 2
    for key, value in kept.items():
        assert torch.equal(net.model.state_dict()[key], value)
    losses = _train(net, steps=2, lr=1e-3)
    assert all(torch.isfinite(torch.tensor(losses)))
    assert not torch.equal(net.model.features[0].weight, kept["features.0.weight"])


@pytest.mark.slow
def test_vgg16_random_init_forward_and_step():
    net = TorchvisionBackbone("vgg16", num_classes=3, in_channels=1)
    head_before = net.model.classifier[6].weight.detach().clone()
    losses = _train(net, steps=1, lr=1e-3, channels=1)
    assert torch.isfinite(torch.tensor(losses[0]))
    assert not torch.equal(net.model.classifier[6].weight, head_before)
    net.eval()
    assert net(_tiny_batch(channels=1)[0]).shape == (8, 3)
