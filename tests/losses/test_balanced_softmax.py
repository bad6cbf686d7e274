"""Balanced softmax: hand-computed values, gradient and the cross-entropy limit."""

import math

import pytest
import torch
from torch import nn

from skimbal.losses import BalancedSoftmaxLoss, balanced_softmax_loss


def balanced_softmax_by_hand(row, y, counts):
    scores = [n * math.exp(z) for z, n in zip(row, counts, strict=True)]
    return [s / sum(scores) for s in scores], -math.log(scores[y] / sum(scores))


def test_hand_computed_value_and_gradient():
    row, y, counts = [0.3, -0.2, 1.1], 1, [50, 30, 20]
    probabilities, expected = balanced_softmax_by_hand(row, y, counts)
    logits = torch.tensor([row], dtype=torch.float64, requires_grad=True)
    loss = balanced_softmax_loss(logits, torch.tensor([y]), counts)
    loss.backward()
    assert loss.item() == pytest.approx(expected, rel=1e-12)
    # d loss / d z_j = q_j - [j == y], with q the balanced softmax.
    expected_grad = [q - (j == y) for j, q in enumerate(probabilities)]
    assert logits.grad[0].tolist() == pytest.approx(expected_grad, rel=1e-12)


def test_weighted_mean_by_hand():
    logits = [[0.0, 0.0], [1.0, -1.0], [2.0, 0.5]]
    target = [0, 1, 1]
    counts, weight = [4, 1], [0.5, 2.0]
    losses = [
        balanced_softmax_by_hand(row, y, counts)[1]
        for row, y in zip(logits, target, strict=True)
    ]
    weighted_sum = sum(weight[y] * v for y, v in zip(target, losses, strict=True))
    expected = weighted_sum / (0.5 + 2.0 + 2.0)
    got = BalancedSoftmaxLoss(counts, weight=weight)(
        torch.tensor(logits), torch.tensor(target)
    )
    assert got.item() == pytest.approx(expected, rel=1e-6)


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("weight", [None, [2.0, 1.0, 0.5]])
def test_equal_counts_equal_cross_entropy(reduction, weight):
    logits = 3 * torch.randn(40, 3)
    target = torch.randint(0, 3, (40,))
    tensor_weight = None if weight is None else torch.tensor(weight)
    expected = nn.CrossEntropyLoss(weight=tensor_weight, reduction=reduction)(
        logits, target
    )
    criterion = BalancedSoftmaxLoss([25, 25, 25], weight=weight, reduction=reduction)
    torch.testing.assert_close(criterion(logits, target), expected)
