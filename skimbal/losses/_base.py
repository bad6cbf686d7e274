"""The base of the loss modules: arguments checked when set, never per batch."""

import torch
from torch import nn

from ._validation import (
    check_class_counts,
    check_n_classes,
    check_offset,
    check_real,
    check_reduction,
    check_scaling,
    check_weight,
)

__all__ = ["ClassBufferLoss", "real_at_least"]

#: Check of each per-class buffer a loss may hold.
_BUFFER_CHECKS = {
    "weight": check_weight,
    "class_counts": check_class_counts,
    "scaling": check_scaling,
    "offset": check_offset,
}


def real_at_least(name, low, *, strict=False):
    """Build the check of a real hyper-parameter ``>= low`` (``> low``).

    Parameters
    ----------
    name : str
        The hyper-parameter's name, for the error message.
    low : float
        The lower bound.
    strict : bool, default=False
        Whether the value must exceed ``low`` rather than reach it.

    Returns
    -------
    check : callable
        ``check(value)`` raises ``TypeError`` or ``ValueError`` for an
        invalid value.
    """

    def check(value):
        """Raise unless ``value`` is in range.

        Parameters
        ----------
        value : object
            The hyper-parameter's new value.
        """
        check_real(value, name, low=low, strict=strict)

    return check


class ClassBufferLoss(nn.Module):
    """Base of the loss modules: checked hyper-parameters and class buffers.

    Every assignment of a hyper-parameter listed in ``hyper_parameters``, of
    ``reduction`` or of a per-class buffer (``weight``, ``class_counts``,
    ``scaling``, ``offset``) is checked: in ``__init__``, by skorch's
    ``set_params`` and by a callback such as
    :class:`skimbal.callbacks.DeferredReweighting` alike. So
    ``forward`` need not read any tensor's values, which would cost a
    host-device sync per batch and break the graph under ``torch.compile``.

    Parameters
    ----------
    reduction : {"mean", "sum", "none"}
        As in :class:`torch.nn.CrossEntropyLoss`.

    Attributes
    ----------
    hyper_parameters : dict of str to callable
        Class attribute: the name of each hyper-parameter, in the order the
        repr shows them, and its check (which raises for an invalid value).

    See Also
    --------
    FocalLoss, LogitAdjustedLoss, BalancedSoftmaxLoss, LDAMLoss, VSLoss : The
        subclasses.

    Notes
    -----
    A buffer assigned after construction keeps the dtype of a floating-point
    tensor (so a float64 module stays exact) and becomes float32 otherwise;
    ``forward`` casts it to the logits' dtype and device, as the functional
    forms do with their arguments. ``load_state_dict`` copies into the
    existing buffers without these checks.
    """

    hyper_parameters = {}

    def __init__(self, reduction):
        super().__init__()
        self.reduction = reduction

    def register_class_buffer(self, name, value):
        """Check ``value`` and register it as the float32 buffer ``name``.

        Parameters
        ----------
        name : {"weight", "class_counts", "scaling", "offset"}
            The buffer's name.
        value : Tensor, ndarray, list or None
            One value per class (``None`` for all but ``class_counts``).
        """
        self.register_buffer(name, _BUFFER_CHECKS[name](value))

    def __setattr__(self, name, value):
        if name in _BUFFER_CHECKS and name in self.__dict__.get("_buffers", {}):
            keep = isinstance(value, torch.Tensor) and value.is_floating_point()
            dtype = value.dtype if keep else torch.float32
            value = _BUFFER_CHECKS[name](value, dtype=dtype)
        elif name == "reduction":
            check_reduction(value)
        elif name in self.hyper_parameters:
            self.hyper_parameters[name](value)
        super().__setattr__(name, value)

    def class_buffer(self, name, logits):
        """Return buffer ``name`` cast to the logits' dtype and device.

        Parameters
        ----------
        name : {"weight", "class_counts", "scaling", "offset"}
            The buffer's name.
        logits : Tensor of shape (n_samples, n_classes)
            The batch's scores.

        Returns
        -------
        buffer : Tensor of shape (n_classes,) or None
            The buffer, or ``None`` for one that is unset.

        Raises
        ------
        ValueError
            If the buffer does not have one value per column of ``logits``
            (shapes are metadata: checking them costs no sync).
        """
        buffer = getattr(self, name)
        if buffer is None:
            return None
        buffer = buffer.to(dtype=logits.dtype, device=logits.device)
        return check_n_classes(buffer, name, logits)

    def extra_repr(self):
        """Show the hyper-parameters and the reduction, as the constructor takes them.

        Returns
        -------
        text : str
            For example ``"gamma=2.0, reduction='mean'"``.
        """
        shown = [f"{name}={getattr(self, name)}" for name in self.hyper_parameters]
        return ", ".join([*shown, f"reduction={self.reduction!r}"])
