"""Tests for skimbal.losses._resolve.resolve_criterion."""

import pytest
from torch import nn

from skimbal.losses import CRITERIA, FocalLoss
from skimbal.losses._resolve import resolve_criterion


@pytest.mark.parametrize("name", sorted(CRITERIA))
def test_every_registered_name(name):
    assert resolve_criterion(name) is CRITERIA[name]


def test_class_and_instance():
    assert resolve_criterion(FocalLoss) is FocalLoss
    assert resolve_criterion(FocalLoss(gamma=1.0)) is FocalLoss
    assert resolve_criterion(nn.CrossEntropyLoss()) is nn.CrossEntropyLoss


def test_unknown_name_suggests_the_closest():
    with pytest.raises(ValueError, match="Did you mean 'logit_adjusted'") as info:
        resolve_criterion("logit_adjust")
    assert "balanced_softmax" in str(info.value)  # lists the known names


def test_unknown_name_without_close_match():
    with pytest.raises(ValueError, match="Unknown criterion='zzzz'. Use one of"):
        resolve_criterion("zzzz")
