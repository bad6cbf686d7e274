"""skorch callbacks for training on imbalanced data."""

from ._deferred_reweighting import DeferredReweighting

__all__ = ["DeferredReweighting"]
