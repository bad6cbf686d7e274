"""Logit-adjusted loss: hand-computed values and the cross-entropy limit."""

import math

import numpy as np
import pytest
import torch
from torch import nn

from skimbal.losses import LogitAdjustedLoss, balanced_softmax_loss, logit_adjusted_loss


def cross_entropy_by_hand(row, y):
    return -(row[y] - math.log(sum(math.exp(v) for v in row)))


def test_hand_computed_value():
    logits = [[1.0, 0.0, -1.0], [0.5, 0.5, 0.5]]
    target = [2, 0]
    counts = [6, 3, 1]
    tau = 0.5
    log_prior = [math.log(n / 10) for n in counts]
    expected = [
        cross_entropy_by_hand(
            [z + tau * lp for z, lp in zip(row, log_prior, strict=True)], y
        )
        for row, y in zip(logits, target, strict=True)
    ]
    got = logit_adjusted_loss(
        torch.tensor(logits, dtype=torch.float64),
        torch.tensor(target),
        counts,
        tau=tau,
        reduction="none",
    )
    assert got.tolist() == pytest.approx(expected, rel=1e-12)

    weight = [1.0, 2.0, 3.0]
    mean = LogitAdjustedLoss(counts, tau=tau, weight=weight)(
        torch.tensor(logits), torch.tensor(target)
    )
    weighted = (3.0 * expected[0] + 1.0 * expected[1]) / (3.0 + 1.0)
    assert mean.item() == pytest.approx(weighted, rel=1e-6)


def test_rare_class_gets_larger_loss_at_equal_logits():
    # With equal logits the adjusted loss of a sample is -log(prior of its class).
    loss = logit_adjusted_loss(
        torch.zeros(2, 2), torch.tensor([0, 1]), [900, 100], reduction="none"
    )
    assert loss.tolist() == pytest.approx([-math.log(0.9), -math.log(0.1)], rel=1e-6)


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("weight", [None, [1.0, 0.5, 3.0]])
def test_tau_zero_equals_cross_entropy(reduction, weight):
    logits = 3 * torch.randn(40, 3)
    target = torch.randint(0, 3, (40,))
    tensor_weight = None if weight is None else torch.tensor(weight)
    expected = nn.CrossEntropyLoss(weight=tensor_weight, reduction=reduction)(
        logits, target
    )
    criterion = LogitAdjustedLoss(
        np.array([500, 20, 3]), tau=0.0, weight=weight, reduction=reduction
    )
    torch.testing.assert_close(criterion(logits, target), expected)


def test_tau_one_equals_balanced_softmax_and_counts_scale_cancels():
    logits = torch.randn(30, 4, dtype=torch.float64)
    target = torch.randint(0, 4, (30,))
    counts = torch.tensor([40.0, 10.0, 5.0, 1.0])
    la = logit_adjusted_loss(logits, target, counts, tau=1.0, reduction="none")
    torch.testing.assert_close(
        la, balanced_softmax_loss(logits, target, counts, reduction="none")
    )
    torch.testing.assert_close(
        la, logit_adjusted_loss(logits, target, 7 * counts, reduction="none")
    )


@pytest.mark.parametrize("tau", [-0.1, float("nan"), float("inf")])
def test_invalid_tau(tau):
    with pytest.raises(ValueError, match=r"tau must be a finite number >= 0.0; got"):
        LogitAdjustedLoss([1, 2], tau=tau)
    with pytest.raises(ValueError, match="tau"):
        logit_adjusted_loss(torch.zeros(1, 2), torch.tensor([0]), [1, 2], tau=tau)
