"""Vector-scaling loss: hand-computed values and its special cases."""

import math

import numpy as np
import pytest
import torch
from torch import nn

from skimbal.losses import VSLoss, ldam_loss, logit_adjusted_loss, vs_loss

COUNTS = [60.0, 25.0, 5.0]


def cross_entropy_by_hand(row, y):
    return -(row[y] - math.log(sum(math.exp(v) for v in row)))


def batch(n=30, n_classes=3, dtype=torch.float64):
    return 3 * torch.randn(n, n_classes, dtype=dtype), torch.randint(0, n_classes, (n,))


def test_hand_computed_value():
    logits = [[1.0, 0.0, -1.0], [0.5, 2.0, 0.5]]
    target = [2, 0]
    gamma, tau = 0.25, 0.5
    n_max, total = max(COUNTS), sum(COUNTS)
    expected = [
        cross_entropy_by_hand(
            [
                z * (n / n_max) ** gamma + tau * math.log(n / total)
                for z, n in zip(row, COUNTS, strict=True)
            ],
            y,
        )
        for row, y in zip(logits, target, strict=True)
    ]
    got = vs_loss(
        torch.tensor(logits, dtype=torch.float64),
        torch.tensor(target),
        COUNTS,
        gamma=gamma,
        tau=tau,
        reduction="none",
    )
    assert got.tolist() == pytest.approx(expected, rel=1e-12)
    weight = [1.0, 2.0, 3.0]
    mean = VSLoss(COUNTS, gamma=gamma, tau=tau, weight=weight)(
        torch.tensor(logits), torch.tensor(target)
    )
    weighted = (3.0 * expected[0] + 1.0 * expected[1]) / (3.0 + 1.0)
    assert mean.item() == pytest.approx(weighted, rel=1e-6)


def test_matches_the_authors_formulation():
    # Kini et al.'s code divides the logits by (1/n_c)^gamma / min_c (1/n_c)^gamma
    # and adds tau * log(pi_c): the same as multiplying by (n_c / max n)^gamma.
    logits, target = batch()
    gamma, tau = 0.3, 1.0
    counts = np.array(COUNTS)
    temp = (1.0 / counts) ** gamma
    delta = torch.tensor(temp / temp.min())
    iota = torch.tensor(tau * np.log(counts / counts.sum()))
    expected = nn.functional.cross_entropy(logits / delta + iota, target)
    torch.testing.assert_close(vs_loss(logits, target, COUNTS), expected)


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("weight", [None, [1.0, 0.5, 3.0]])
def test_gamma_and_tau_zero_is_cross_entropy(reduction, weight):
    logits, target = batch()
    tensor_weight = None if weight is None else torch.tensor(weight, dtype=logits.dtype)
    expected = nn.functional.cross_entropy(
        logits, target, weight=tensor_weight, reduction=reduction
    )
    got = vs_loss(
        logits, target, COUNTS, gamma=0.0, tau=0.0, weight=weight, reduction=reduction
    )
    torch.testing.assert_close(got, expected)


@pytest.mark.parametrize("tau", [0.5, 1.0, 2.0])
def test_gamma_zero_is_the_logit_adjusted_loss(tau):
    logits, target = batch()
    torch.testing.assert_close(
        vs_loss(logits, target, COUNTS, gamma=0.0, tau=tau, reduction="none"),
        logit_adjusted_loss(logits, target, COUNTS, tau=tau, reduction="none"),
    )


def test_tau_zero_is_the_class_dependent_temperature_loss():
    # Ye et al.'s CDT: logits divided by (max n / n_c)^gamma.
    logits, target = batch()
    temperature = (max(COUNTS) / torch.tensor(COUNTS, dtype=logits.dtype)) ** 0.4
    torch.testing.assert_close(
        vs_loss(logits, target, COUNTS, gamma=0.4, tau=0.0),
        nn.functional.cross_entropy(logits / temperature, target),
    )


def test_equals_ldam_where_the_margin_is_a_shift_of_the_other_logit():
    # Two classes, margin only on class 1 (LDAM with the class-0 margin at 0 is
    # not in the family); LDAM's rare-class loss log(1 + e^(z0 - z1 + m)) is
    # VS's with iota = (m, 0) on the rows of class 1.
    logits = torch.randn(20, 2, dtype=torch.float64)
    target = torch.ones(20, dtype=torch.long)
    counts = [1e12, 1.0]  # LDAM margins ~ (0, max_margin)
    margin = 0.7
    ldam = ldam_loss(logits, target, counts, max_margin=margin, scale=1.0)
    vs = vs_loss(logits, target, counts, scaling=[1.0, 1.0], offset=[margin, 0.0])
    torch.testing.assert_close(vs, ldam, rtol=1e-6, atol=1e-6)


def test_explicit_scaling_and_offset_replace_the_formulas():
    logits, target = batch()
    scaling = torch.tensor([1.0, 0.5, 0.2], dtype=logits.dtype)
    offset = torch.tensor([0.3, -0.1, -2.0], dtype=logits.dtype)
    expected = nn.functional.cross_entropy(logits * scaling + offset, target)
    for gamma, tau in ((0.0, 0.0), (0.7, 2.0)):
        got = vs_loss(
            logits, target, COUNTS, gamma=gamma, tau=tau, scaling=scaling, offset=offset
        )
        torch.testing.assert_close(got, expected)
    module = VSLoss(COUNTS, scaling=scaling, offset=offset).double()
    torch.testing.assert_close(module(logits, target), expected)


def test_buffers_assigned_later_are_checked_then_used():
    module = VSLoss(COUNTS, gamma=0.5, tau=1.0)
    default_scaling, default_offset = module.vs_parameters()
    counts = torch.tensor(COUNTS)
    torch.testing.assert_close(default_scaling, (counts / 60.0) ** 0.5)
    torch.testing.assert_close(default_offset, torch.log(counts / counts.sum()))
    with pytest.raises(ValueError, match=r"scaling must contain finite positive .*"):
        module.scaling = torch.tensor([1.0, 0.0, 1.0])
    with pytest.raises(ValueError, match=r"offset must contain finite values; .*"):
        module.offset = torch.tensor([0.0, float("nan"), 1.0])
    assert module.scaling is None and module.offset is None
    module.scaling = [1.0, 2.0, 3.0]
    module.offset = np.array([0.0, 1.0, -1.0])
    scaling, offset = module.vs_parameters()
    assert scaling.tolist() == [1.0, 2.0, 3.0] and offset.tolist() == [0.0, 1.0, -1.0]
    assert set(dict(module.named_buffers())) == {"class_counts", "scaling", "offset"}
    module.scaling = None
    torch.testing.assert_close(module.vs_parameters()[0], default_scaling)


def test_wrong_lengths_are_named():
    logits, target = batch()
    with pytest.raises(ValueError, match="scaling has 2 values but logits has 3"):
        vs_loss(logits, target, COUNTS, scaling=[1.0, 1.0])
    with pytest.raises(ValueError, match="offset has 4 values but logits has 3"):
        VSLoss(COUNTS, offset=[0.0] * 4)(logits.float(), target)


def test_trained_bias_is_balanced():
    # Fit only a bias with the offset of the training prior on 9:1 data: the
    # offset absorbs the prior, so the raw biases end equal (plain
    # cross-entropy would end at log 9 apart).
    target = torch.tensor([0] * 90 + [1] * 10)
    bias = torch.zeros(2, requires_grad=True)
    optimizer = torch.optim.SGD([bias], lr=0.5)
    for _ in range(500):
        optimizer.zero_grad()
        vs_loss(bias.expand(100, 2), target, [90, 10], gamma=0.0, tau=1.0).backward()
        optimizer.step()
    assert (bias[1] - bias[0]).item() == pytest.approx(0.0, abs=1e-3)
