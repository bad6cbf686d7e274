"""Splitting a network into a frozen body and a trainable head."""

import pytest
import torch
from torch import nn

from skimbal.models import TorchvisionBackbone
from skimbal.models._frozen import (
    NotCacheableError,
    body_fingerprint,
    head_inputs,
    split_frozen_head,
)


def frozen_sequential(*layers, trainable=-1):
    net = nn.Sequential(*layers)
    net.requires_grad_(False)
    net[trainable].requires_grad_(True)
    return net


def test_frozen_resnet_splits_at_its_fc_and_features_feed_it():
    with pytest.warns(UserWarning, match="random weights"):
        net = TorchvisionBackbone("resnet18", num_classes=2, freeze=True)
    split, reason = split_frozen_head(net)
    assert reason is None and split.head_paths == ("model.fc",)
    x = torch.rand(3, 3, 32, 32)
    (features,) = list(head_inputs(net, split, [x]))
    assert features.shape == (3, 512)
    net.eval()
    torch.testing.assert_close(split.head(features), net(x))


def test_parameter_free_layers_before_the_head_join_it():
    net = frozen_sequential(
        nn.Linear(4, 8), nn.ReLU(inplace=True), nn.Dropout(0.3), nn.Linear(8, 2)
    )
    split, _ = split_frozen_head(net)
    assert split.head_paths == ("1", "2", "3")
    # The in-place ReLU does not overwrite the features handed out.
    x = torch.randn(5, 4)
    (features,) = list(head_inputs(net, split, [x]))
    torch.testing.assert_close(features, net[0](x))
    assert (features < 0).any()


@pytest.mark.parametrize(
    ("layers", "trainable", "reason"),
    [
        (
            (nn.Linear(4, 4), nn.Dropout(0.5), nn.Linear(4, 4), nn.Linear(4, 2)),
            -1,
            "dropout layer '1'",
        ),
        (
            (nn.Linear(4, 4), nn.BatchNorm1d(4), nn.Linear(4, 2)),
            -1,
            "BatchNorm layer '1'",
        ),
        ((nn.Linear(4, 4), nn.Linear(4, 2), nn.ReLU()), 1, "followed by '2'"),
        ((nn.Linear(4, 2),), 0, "span the whole network"),
    ],
)
def test_bodies_that_change_in_training_are_not_split(layers, trainable, reason):
    net = frozen_sequential(*layers, trainable=trainable)
    split, why = split_frozen_head(net)
    assert split is None and reason in why


def test_nothing_trainable_is_no_split():
    net = nn.Linear(2, 2).requires_grad_(False)
    assert split_frozen_head(net) == (None, "no parameter of the network trains")


def test_a_head_whose_output_is_transformed_is_refused():
    class Scaled(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = nn.Linear(3, 3).requires_grad_(False)
            self.head = nn.Linear(3, 2)

        def forward(self, x):
            return 2 * self.head(self.body(x))

    net = Scaled()
    split, _ = split_frozen_head(net)
    with pytest.raises(NotCacheableError, match="not the network's output"):
        list(head_inputs(net, split, [torch.zeros(1, 3)]))


def test_fingerprint_follows_the_body_not_the_head():
    net = frozen_sequential(nn.Linear(3, 3), nn.Linear(3, 2))
    split, _ = split_frozen_head(net)
    before = body_fingerprint(net, split, "pixels")
    with torch.no_grad():
        net[1].weight.add_(1)
    assert body_fingerprint(net, split, "pixels") == before
    assert body_fingerprint(net, split, "paths") != before
    with torch.no_grad():
        net[0].weight.add_(1)
    assert body_fingerprint(net, split, "pixels") != before
