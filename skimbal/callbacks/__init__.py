"""skorch callbacks for training on imbalanced data."""

from ._autobalance import AutoBalance
from ._deferred_reweighting import DeferredReweighting

__all__ = ["AutoBalance", "DeferredReweighting"]
