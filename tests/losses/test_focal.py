"""Focal loss: the lecture's table, torchvision and cross-entropy equivalences."""

import math

import pytest
import torch
from torch import nn
from torchvision.ops import sigmoid_focal_loss

from skimbal.losses import FocalLoss, focal_loss

GAMMAS = (0, 1, 2, 3, 4)


def binary_logits(probabilities):
    """2-logit inputs whose softmax gives P(class 1) = p."""
    z = torch.tensor(
        [math.log(p / (1 - p)) for p in probabilities], dtype=torch.float64
    )
    return torch.stack([torch.zeros_like(z), z], dim=1)


@pytest.mark.parametrize(
    "p, y, expected",
    [
        (0.7, 0, [1.204, 0.842, 0.589, 0.412, 0.289]),
        (0.8, 1, [0.223, 0.044, 0.008, 0.001, 0.0003]),
    ],
)
def test_lecture_table_rows(p, y, expected):
    logits = binary_logits([p])
    target = torch.tensor([y])
    losses = [
        focal_loss(logits, target, gamma=g, reduction="sum").item() for g in GAMMAS
    ]
    assert losses == pytest.approx(expected, abs=1e-3)


def test_lecture_table_summed_positive_rows():
    outputs = [0.8, 0.7, 0.8, 0.8, 0.8, 0.9, 0.9, 0.8, 0.7]
    logits = binary_logits(outputs)
    target = torch.ones(len(outputs), dtype=torch.long)
    sums = [focal_loss(logits, target, gamma=g, reduction="sum").item() for g in GAMMAS]
    assert sums == pytest.approx([2.039, 0.458, 0.111, 0.028, 0.007], abs=1e-3)
    per_row = focal_loss(logits, target, gamma=2, reduction="none")
    assert per_row.sum().item() == pytest.approx(sums[2], abs=1e-12)


def test_hand_computed_three_classes():
    logits = [[2.0, 0.5, -1.0], [0.0, 1.0, 3.0]]
    target = [0, 1]
    weight = [0.2, 0.3, 0.5]
    gamma = 1.5
    expected = []
    for row, y in zip(logits, target, strict=True):
        p_t = math.exp(row[y]) / sum(math.exp(v) for v in row)
        expected.append(-weight[y] * (1 - p_t) ** gamma * math.log(p_t))
    got = focal_loss(
        torch.tensor(logits, dtype=torch.float64),
        torch.tensor(target),
        gamma=gamma,
        weight=torch.tensor(weight, dtype=torch.float64),
        reduction="none",
    )
    assert got.tolist() == pytest.approx(expected, rel=1e-12)
    mean = FocalLoss(gamma=gamma, weight=weight)(
        torch.tensor(logits), torch.tensor(target)
    )
    assert mean.item() == pytest.approx(sum(expected) / (0.2 + 0.3), rel=1e-6)


@pytest.mark.parametrize("gamma", [0.0, 0.5, 2.0])
@pytest.mark.parametrize("alpha", [-1, 0.25, 0.9])
@pytest.mark.parametrize("reduction", ["none", "sum"])
def test_binary_equals_torchvision_sigmoid_focal_loss(gamma, alpha, reduction):
    logits = 3 * torch.randn(64, 2)
    target = torch.randint(0, 2, (64,))
    # softmax over [z0, z1] is sigmoid(z1 - z0) for class 1.
    z = logits[:, 1] - logits[:, 0]
    expected = sigmoid_focal_loss(
        z, target.float(), alpha=alpha, gamma=gamma, reduction=reduction
    )
    weight = None if alpha == -1 else [1 - alpha, alpha]
    got = FocalLoss(gamma=gamma, weight=weight, reduction=reduction)(logits, target)
    torch.testing.assert_close(got, expected, atol=1e-6, rtol=1e-6)


def test_binary_mean_differs_from_torchvision_by_weight_sum():
    # The documented difference: torchvision's "mean" divides by n_samples,
    # ours (like CrossEntropyLoss) by the sum of the targets' weights.
    logits = torch.randn(32, 2, dtype=torch.float64)
    target = torch.randint(0, 2, (32,))
    z = logits[:, 1] - logits[:, 0]
    tv_sum = sigmoid_focal_loss(z, target.double(), alpha=0.25, reduction="sum")
    ours = focal_loss(logits, target, weight=[0.75, 0.25])
    weight_sum = (0.25 * target + 0.75 * (1 - target)).sum()
    torch.testing.assert_close(ours * weight_sum, tv_sum)


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("weight", [None, [0.5, 2.0, 0.0, 1.5]])
def test_gamma_zero_equals_cross_entropy(reduction, weight):
    logits = 4 * torch.randn(50, 4)
    target = torch.randint(0, 4, (50,))
    tensor_weight = None if weight is None else torch.tensor(weight)
    expected = nn.CrossEntropyLoss(weight=tensor_weight, reduction=reduction)(
        logits, target
    )
    got = FocalLoss(gamma=0, weight=weight, reduction=reduction)(logits, target)
    torch.testing.assert_close(got, expected, atol=1e-6, rtol=1e-6)


@pytest.mark.parametrize("gamma", [0.0, 0.25, 0.5, 1.0, 2.0])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("n_classes", [2, 3])
def test_gradient_finite_when_p_t_rounds_to_one(gamma, dtype, n_classes):
    # p_t == 1 exactly: d/dp (1 - p) ** gamma is infinite there for gamma < 1.
    logits = torch.zeros(3, n_classes, dtype=dtype)
    logits[:, 1] = torch.tensor([200.0, 1e4, 20.0], dtype=dtype)
    logits.requires_grad_(True)
    loss = focal_loss(logits, torch.tensor([1, 1, 1]), gamma=gamma, reduction="sum")
    loss.backward()
    assert torch.isfinite(loss)
    assert torch.isfinite(logits.grad).all()
    assert loss.item() == pytest.approx(0.0, abs=1e-8)


@pytest.mark.parametrize("gamma", [0.5, 2.0, 3.7])
@pytest.mark.parametrize("weight", [None, [0.3, 1.7]])
def test_binary_path_matches_softmax_path(gamma, weight):
    # Two classes take a logsigmoid shortcut; a third class with probability 0
    # sends the same problem through the general log_softmax path.
    logits = 5 * torch.randn(100, 2, dtype=torch.float64)
    target = torch.randint(0, 2, (100,))
    padded = torch.cat([logits, torch.full((100, 1), -torch.inf)], dim=1)
    padded_weight = None if weight is None else [*weight, 1.0]
    for reduction in ("none", "mean"):
        torch.testing.assert_close(
            focal_loss(logits, target, gamma, weight, reduction),
            focal_loss(padded, target, gamma, padded_weight, reduction),
        )


@pytest.mark.parametrize("gamma", [0.5, 2.0])
@pytest.mark.parametrize("weight", [None, [0.3, 1.7]])
def test_gradcheck_binary(gamma, weight):
    logits = torch.randn(6, 2, dtype=torch.float64, requires_grad=True)
    target = torch.tensor([0, 1, 1, 0, 1, 0])
    weight = None if weight is None else torch.tensor(weight, dtype=torch.float64)
    assert torch.autograd.gradcheck(
        lambda x: focal_loss(x, target, gamma=gamma, weight=weight), (logits,)
    )


def test_focusing_lowers_easy_samples_more_than_hard_ones():
    logits = binary_logits([0.95, 0.3])
    target = torch.tensor([1, 1])
    ratio = focal_loss(logits, target, gamma=2, reduction="none") / focal_loss(
        logits, target, gamma=0, reduction="none"
    )
    assert ratio.tolist() == pytest.approx([0.05**2, 0.7**2])


@pytest.mark.parametrize(
    "gamma, error, match",
    [
        (-0.5, ValueError, r"gamma must be a finite number >= 0.0; got gamma=-0.5"),
        (float("nan"), ValueError, "gamma=nan"),
        (float("inf"), ValueError, "gamma=inf"),
        ("2", TypeError, "gamma must be a real number; got gamma='2'"),
    ],
)
def test_invalid_gamma(gamma, error, match):
    with pytest.raises(error, match=match):
        FocalLoss(gamma=gamma)
    with pytest.raises(error, match=match):
        focal_loss(torch.zeros(2, 2), torch.tensor([0, 1]), gamma=gamma)
