"""Losses for imbalanced classification, as functions and ``nn.Module``\\ s.

Every loss takes ``(logits[N, C], target[N])`` and follows the conventions of
:class:`torch.nn.CrossEntropyLoss` (``weight``, ``reduction``). The modules
can be passed to skorch as ``criterion``; :data:`CRITERIA` maps the string
names accepted by skimbal's classifier to them.
"""

from torch import nn

from ._balanced_softmax import BalancedSoftmaxLoss, balanced_softmax_loss
from ._focal import FocalLoss, focal_loss
from ._ldam import LDAMLoss, ldam_loss
from ._logit_adjusted import LogitAdjustedLoss, logit_adjusted_loss
from ._vs import VSLoss, vs_loss

#: String names of the criteria, as accepted by ``criterion="..."``.
CRITERIA = {
    "cross_entropy": nn.CrossEntropyLoss,
    "focal": FocalLoss,
    "logit_adjusted": LogitAdjustedLoss,
    "balanced_softmax": BalancedSoftmaxLoss,
    "ldam": LDAMLoss,
    "vs": VSLoss,
}

__all__ = [
    "CRITERIA",
    "BalancedSoftmaxLoss",
    "FocalLoss",
    "LDAMLoss",
    "LogitAdjustedLoss",
    "VSLoss",
    "balanced_softmax_loss",
    "focal_loss",
    "ldam_loss",
    "logit_adjusted_loss",
    "vs_loss",
]
