"""Argument checks shared by the losses of :mod:`skimbal.losses`.

Each loss checks its arguments twice: once in the ``nn.Module`` constructor, so a
bad hyper-parameter fails when the criterion is built, and again in the
functional core, because a callback may assign a new ``weight`` buffer after
construction and the functional form is public too. Both paths call the
helpers below so that each check and its message exist once.
"""

import math
import numbers

import numpy as np
import torch

REDUCTIONS = ("none", "mean", "sum")

# How many offending entries an error message lists before it stops.
_MAX_REPORTED = 5


def check_reduction(reduction):
    """Return ``reduction`` if it is one of :data:`REDUCTIONS`, else raise."""
    if not isinstance(reduction, str) or reduction not in REDUCTIONS:
        raise ValueError(
            f"reduction must be one of {', '.join(map(repr, REDUCTIONS))}; "
            f"got reduction={reduction!r}."
        )
    return reduction


def check_real(value, name, *, low, strict=False):
    """Return ``value`` as a float if it is a finite real ``>= low`` (``> low``)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(
            f"{name} must be a real number; got {name}={value!r} of type "
            f"{type(value).__name__}."
        )
    value = float(value)
    in_range = value > low if strict else value >= low
    if not (math.isfinite(value) and in_range):
        bound = f"> {low}" if strict else f">= {low}"
        raise ValueError(
            f"{name} must be a finite number {bound}; got {name}={value!r}."
        )
    return value


def _as_vector(values, name, *, dtype, device):
    """Convert a tensor, array or list to a non-empty 1-D floating tensor."""
    if isinstance(values, torch.Tensor):
        if values.is_complex() or values.dtype == torch.bool:
            raise TypeError(
                f"{name} must hold real numbers; got a tensor of dtype {values.dtype}."
            )
        tensor = values.detach().to(dtype=dtype, device=device)
    else:
        try:
            array = np.asarray(values)
        except ValueError as error:  # ragged nested lists
            raise ValueError(
                f"{name} must be a 1-D array with one value per class; got "
                f"{name}={values!r}."
            ) from error
        if array.dtype.kind not in "iuf":
            raise TypeError(
                f"{name} must be a tensor, array or list of real numbers; got "
                f"{name}={values!r}."
            )
        tensor = torch.as_tensor(array, dtype=dtype, device=device)
    if tensor.ndim != 1 or tensor.numel() == 0:
        raise ValueError(
            f"{name} must be a non-empty 1-D array with one value per class; got "
            f"shape {tuple(tensor.shape)}."
        )
    return tensor


def _check_values(tensor, name, *, positive):
    """Raise unless every value is finite and non-negative (or positive)."""
    # One reduction and no mask in the common, valid case; aminmax propagates
    # NaN, so a NaN anywhere fails both comparisons.
    low, high = (value.item() for value in torch.aminmax(tensor))
    if (low > 0 if positive else low >= 0) and high < math.inf:
        return
    invalid = ~torch.isfinite(tensor) | (tensor <= 0 if positive else tensor < 0)
    index = invalid.nonzero().flatten()[:_MAX_REPORTED].tolist()
    offending = ", ".join(f"{name}[{i}]={tensor[i].item()!r}" for i in index)
    requirement = "finite positive" if positive else "finite non-negative"
    raise ValueError(f"{name} must contain {requirement} values; got {offending}.")


def check_weight(weight, *, dtype=torch.float32, device=None):
    """Return ``weight`` as a validated 1-D tensor, or ``None``.

    Class weights must be finite and non-negative (a zero weight ignores a
    class, as in :class:`torch.nn.CrossEntropyLoss`).
    """
    if weight is None:
        return None
    tensor = _as_vector(weight, "weight", dtype=dtype, device=device)
    _check_values(tensor, "weight", positive=False)
    return tensor


def check_class_counts(class_counts, *, dtype=torch.float32, device=None):
    """Return ``class_counts`` as a validated 1-D tensor of positive counts.

    Zero counts are rejected: every prior-based loss takes ``log(n_c)`` or
    ``n_c ** -1/4``, which a class with no sample would make infinite.
    """
    if class_counts is None:
        raise TypeError(
            "class_counts is required: pass the number of training samples of "
            "each class, in the order of the network's outputs; got None."
        )
    tensor = _as_vector(class_counts, "class_counts", dtype=dtype, device=device)
    _check_values(tensor, "class_counts", positive=True)
    return tensor


def check_logits_target(logits, target):
    """Check a batch and return ``target`` as int64 class indices.

    Out-of-range targets are reported here, as a ``ValueError`` naming the
    range, rather than as an indexing error deep inside the loss.
    """
    if not isinstance(logits, torch.Tensor) or not logits.is_floating_point():
        if isinstance(logits, torch.Tensor):
            kind = f"a tensor of dtype {logits.dtype}"
        else:
            kind = type(logits).__name__
        raise TypeError(
            "logits must be a floating-point tensor of shape (n_samples, "
            f"n_classes); got {kind}."
        )
    if logits.ndim != 2:
        raise ValueError(
            "logits must be 2-D of shape (n_samples, n_classes); got shape "
            f"{tuple(logits.shape)}."
        )
    if not isinstance(target, torch.Tensor):
        raise TypeError(
            "target must be a tensor of integer class indices; got "
            f"{type(target).__name__}."
        )
    if target.is_floating_point() or target.is_complex() or target.dtype == torch.bool:
        raise TypeError(
            f"target must hold integer class indices; got dtype {target.dtype}."
        )
    if target.ndim != 1 or target.shape[0] != logits.shape[0]:
        raise ValueError(
            "target must be 1-D with one class index per row of logits; got target "
            f"shape {tuple(target.shape)} for logits shape {tuple(logits.shape)}."
        )
    if target.numel():
        low, high = (value.item() for value in torch.aminmax(target))
        n_classes = logits.shape[1]
        if low < 0 or high >= n_classes:
            raise ValueError(
                f"target must hold class indices in [0, {n_classes}) for logits with "
                f"{n_classes} columns; got values from {low} to {high}."
            )
    return target.long()


def _check_n_classes(tensor, name, logits):
    n_classes = logits.shape[1]
    if tensor.shape[0] != n_classes:
        raise ValueError(
            f"{name} has {tensor.shape[0]} values but logits has {n_classes} "
            f"columns; {name} needs one value per class (per logits column)."
        )
    return tensor


def prepare_weight(weight, logits):
    """Validate ``weight`` against a batch and cast it to the logits' dtype."""
    if weight is None:
        return None
    weight = check_weight(weight, dtype=logits.dtype, device=logits.device)
    return _check_n_classes(weight, "weight", logits)


def prepare_class_counts(class_counts, logits):
    """Validate ``class_counts`` against a batch and cast to the logits' dtype."""
    counts = check_class_counts(class_counts, dtype=logits.dtype, device=logits.device)
    return _check_n_classes(counts, "class_counts", logits)


def reduce_loss(loss, reduction, sample_weight=None):
    """Reduce per-sample losses as :class:`torch.nn.CrossEntropyLoss` does.

    With ``sample_weight`` (the class weight of each sample's target), ``loss``
    must already be multiplied by it and ``"mean"`` divides by its sum, not by
    the number of samples.
    """
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    if sample_weight is None:
        return loss.mean()
    return loss.sum() / sample_weight.sum()
