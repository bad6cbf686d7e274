"""LDAM loss: margins by hand and the cross-entropy limit."""

import math

import pytest
import torch
from torch import nn

from skimbal.losses import LDAMLoss, ldam_loss


def cross_entropy_by_hand(row, y):
    return -(row[y] - math.log(sum(math.exp(v) for v in row)))


def test_hand_computed_margins_and_value():
    # n ** -1/4 for counts [16, 81, 1] is [1/2, 1/3, 1]; the rarest class gets
    # max_margin, so the margins are [0.2, 0.4 / 3, 0.4].
    counts, max_margin, scale = [16, 81, 1], 0.4, 2.0
    margins = [0.2, 0.4 / 3, 0.4]
    logits = [[1.0, 2.0, 0.5], [0.2, -0.3, 0.9], [0.0, 0.0, 0.0]]
    target = [0, 2, 1]
    expected = []
    for row, y in zip(logits, target, strict=True):
        shifted = [z - (margins[y] if j == y else 0.0) for j, z in enumerate(row)]
        expected.append(cross_entropy_by_hand([scale * z for z in shifted], y))
    got = ldam_loss(
        torch.tensor(logits, dtype=torch.float64),
        torch.tensor(target),
        counts,
        max_margin=max_margin,
        scale=scale,
        reduction="none",
    )
    assert got.tolist() == pytest.approx(expected, rel=1e-12)

    weight = [1.0, 3.0, 0.5]
    mean = LDAMLoss(counts, max_margin=max_margin, scale=scale, weight=weight)(
        torch.tensor(logits), torch.tensor(target)
    )
    weighted = (1.0 * expected[0] + 0.5 * expected[1] + 3.0 * expected[2]) / 4.5
    assert mean.item() == pytest.approx(weighted, rel=1e-6)


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("weight", [None, [0.3, 1.0, 2.0]])
def test_zero_margin_unit_scale_equals_cross_entropy(reduction, weight):
    logits = 3 * torch.randn(40, 3)
    target = torch.randint(0, 3, (40,))
    tensor_weight = None if weight is None else torch.tensor(weight)
    expected = nn.CrossEntropyLoss(weight=tensor_weight, reduction=reduction)(
        logits, target
    )
    criterion = LDAMLoss(
        [100, 10, 1], max_margin=0.0, scale=1.0, weight=weight, reduction=reduction
    )
    torch.testing.assert_close(criterion(logits, target), expected)


def test_margin_only_moves_the_true_logit():
    # Counts 10000:1 give margins [0.05, 0.5]; each row is shifted only at the
    # sample's own class, by that class's margin.
    logits = torch.zeros(2, 2)
    loss = ldam_loss(
        logits, torch.tensor([0, 1]), [10000, 1], scale=1.0, reduction="none"
    )
    expected = [
        cross_entropy_by_hand([-0.05, 0.0], 0),
        cross_entropy_by_hand([0.0, -0.5], 1),
    ]
    assert loss.tolist() == pytest.approx(expected, rel=1e-6)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"max_margin": -0.1}, r"max_margin must be a finite number >= 0.0"),
        ({"max_margin": float("nan")}, "max_margin=nan"),
        ({"scale": 0.0}, r"scale must be a finite number > 0.0; got scale=0.0"),
        ({"scale": -30.0}, "scale=-30.0"),
        ({"scale": float("inf")}, "scale=inf"),
    ],
)
def test_invalid_margin_and_scale(kwargs, match):
    with pytest.raises(ValueError, match=match):
        LDAMLoss([10, 1], **kwargs)
    with pytest.raises(ValueError, match=match):
        ldam_loss(torch.zeros(1, 2), torch.tensor([0]), [10, 1], **kwargs)
