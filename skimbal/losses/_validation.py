"""Argument checks shared by the losses of :mod:`skimbal.losses`.

The ``nn.Module`` losses check their hyper-parameters and class buffers when
they are built or assigned (see ``_base``), so that ``forward`` reads no
tensor's values: on an accelerator each read is a host-device sync, and under
``torch.compile`` a graph break. The public functional forms take arbitrary
arguments on every call and check them all. Both paths call the helpers below
so that each check and its message exist once.
"""

import math
import numbers

import numpy as np
import torch

REDUCTIONS = ("none", "mean", "sum")

# How many offending entries an error message lists before it stops.
_MAX_REPORTED = 5

# torch.compiler.is_compiling is public from torch 2.4 on; older releases
# have only torch._dynamo's.
_is_compiling = getattr(torch.compiler, "is_compiling", None) or (
    torch._dynamo.is_compiling
)


def check_reduction(reduction):
    """Return ``reduction`` if it is one of :data:`REDUCTIONS`, else raise.

    Parameters
    ----------
    reduction : object
        The value to check.

    Returns
    -------
    reduction : str
        ``reduction``, unchanged.

    Raises
    ------
    ValueError
        If ``reduction`` is not ``"none"``, ``"mean"`` or ``"sum"``.
    """
    if not isinstance(reduction, str) or reduction not in REDUCTIONS:
        raise ValueError(
            f"reduction must be one of {', '.join(map(repr, REDUCTIONS))}; "
            f"got reduction={reduction!r}."
        )
    return reduction


def check_real(value, name, *, low, strict=False):
    """Return ``value`` as a float if it is a finite real ``>= low`` (``> low``).

    Parameters
    ----------
    value : object
        The value to check.
    name : str
        The argument's name, for the error message.
    low : float
        The lower bound.
    strict : bool, default=False
        Whether ``value`` must exceed ``low`` rather than reach it.

    Returns
    -------
    value : float
        ``value`` as a Python float.

    Raises
    ------
    TypeError
        If ``value`` is not a real number (a bool is not).
    ValueError
        If ``value`` is not finite or out of range.
    """
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
    """Raise unless every value is finite and non-negative (or positive).

    ``positive=None`` asks only for finite values, of any sign.
    """
    if positive is None:
        if torch.isfinite(tensor).all().item():
            return
        index = (~torch.isfinite(tensor)).nonzero().flatten()[:_MAX_REPORTED].tolist()
        offending = ", ".join(f"{name}[{i}]={tensor[i].item()!r}" for i in index)
        raise ValueError(f"{name} must contain finite values; got {offending}.")
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

    Parameters
    ----------
    weight : Tensor, ndarray, list or None
        One weight per class.
    dtype : torch.dtype, default=torch.float32
        The dtype of the returned tensor.
    device : torch.device or None, default=None
        The device of the returned tensor; ``None`` keeps a tensor's device
        (and puts an array on the CPU).

    Returns
    -------
    weight : Tensor of shape (n_classes,) or None
        The weights, detached, as ``dtype`` on ``device``.

    Raises
    ------
    TypeError
        If ``weight`` does not hold real numbers.
    ValueError
        If ``weight`` is not a non-empty 1-D array of finite non-negative
        values.
    """
    if weight is None:
        return None
    tensor = _as_vector(weight, "weight", dtype=dtype, device=device)
    _check_values(tensor, "weight", positive=False)
    return tensor


def check_scaling(scaling, *, dtype=torch.float32, device=None):
    """Return per-class logit scalings as a validated 1-D tensor, or ``None``.

    The multiplicative factors of the vector-scaling loss must be finite and
    positive: a zero would erase a class's logit, a negative one flip it.

    Parameters
    ----------
    scaling : Tensor, ndarray, list or None
        One factor per class.
    dtype : torch.dtype, default=torch.float32
        The dtype of the returned tensor.
    device : torch.device or None, default=None
        The device of the returned tensor; ``None`` keeps a tensor's device
        (and puts an array on the CPU).

    Returns
    -------
    scaling : Tensor of shape (n_classes,) or None
        The factors, detached, as ``dtype`` on ``device``.

    Raises
    ------
    TypeError
        If ``scaling`` does not hold real numbers.
    ValueError
        If ``scaling`` is not a non-empty 1-D array of finite positive values.
    """
    if scaling is None:
        return None
    tensor = _as_vector(scaling, "scaling", dtype=dtype, device=device)
    _check_values(tensor, "scaling", positive=True)
    return tensor


def check_offset(offset, *, dtype=torch.float32, device=None):
    """Return per-class logit offsets as a validated 1-D tensor, or ``None``.

    Parameters
    ----------
    offset : Tensor, ndarray, list or None
        One finite additive offset per class, of any sign.
    dtype : torch.dtype, default=torch.float32
        The dtype of the returned tensor.
    device : torch.device or None, default=None
        The device of the returned tensor; ``None`` keeps a tensor's device
        (and puts an array on the CPU).

    Returns
    -------
    offset : Tensor of shape (n_classes,) or None
        The offsets, detached, as ``dtype`` on ``device``.

    Raises
    ------
    TypeError
        If ``offset`` does not hold real numbers.
    ValueError
        If ``offset`` is not a non-empty 1-D array of finite values.
    """
    if offset is None:
        return None
    tensor = _as_vector(offset, "offset", dtype=dtype, device=device)
    _check_values(tensor, "offset", positive=None)
    return tensor


def check_class_counts(class_counts, *, dtype=torch.float32, device=None):
    """Return ``class_counts`` as a validated 1-D tensor of positive counts.

    Zero counts are rejected: every prior-based loss takes ``log(n_c)`` or
    ``n_c ** -1/4``, which a class with no sample would make infinite.

    Parameters
    ----------
    class_counts : Tensor, ndarray or list
        The number of training samples of each class.
    dtype : torch.dtype, default=torch.float32
        The dtype of the returned tensor.
    device : torch.device or None, default=None
        The device of the returned tensor; ``None`` keeps a tensor's device
        (and puts an array on the CPU).

    Returns
    -------
    class_counts : Tensor of shape (n_classes,)
        The counts, detached, as ``dtype`` on ``device``.

    Raises
    ------
    TypeError
        If ``class_counts`` is ``None`` or does not hold real numbers.
    ValueError
        If ``class_counts`` is not a non-empty 1-D array of finite positive
        values.
    """
    if class_counts is None:
        raise TypeError(
            "class_counts is required: pass the number of training samples of "
            "each class, in the order of the network's outputs; got None."
        )
    tensor = _as_vector(class_counts, "class_counts", dtype=dtype, device=device)
    _check_values(tensor, "class_counts", positive=True)
    return tensor


def _values_are_free_to_read(tensor):
    """Whether reading ``tensor``'s values costs neither a sync nor a graph break."""
    # A CPU tensor's values are in host memory already; an accelerator's cost a
    # host-device sync, and any .item() while torch.compile traces breaks the
    # graph.
    return tensor.device.type == "cpu" and not _is_compiling()


def check_logits_target(logits, target):
    """Check a batch and return ``target`` as int64 class indices.

    Types and shapes are always checked: they are tensor metadata, free to
    read. The range of the targets is checked where their values are free to
    read too (a CPU tensor, outside ``torch.compile``); out-of-range targets
    are then reported as a ``ValueError`` naming the range rather than as an
    indexing error deep inside the loss. Elsewhere torch's own index check
    reports them.

    Parameters
    ----------
    logits : Tensor of shape (n_samples, n_classes)
        The batch's scores.
    target : Tensor of shape (n_samples,)
        The batch's class indices.

    Returns
    -------
    target : Tensor of shape (n_samples,)
        ``target`` as int64.

    Raises
    ------
    TypeError
        If ``logits`` is not a floating-point tensor or ``target`` not an
        integer tensor.
    ValueError
        If the shapes do not match, or (where checked) a target is out of
        ``[0, n_classes)``.
    """
    if not isinstance(logits, torch.Tensor) or not logits.dtype.is_floating_point:
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
    # The dtype's flags rather than Tensor.is_complex(): torch.compile of
    # torch 2.1 breaks the graph on tensor methods that return a bool.
    dtype = target.dtype
    if dtype.is_floating_point or dtype.is_complex or dtype == torch.bool:
        raise TypeError(
            f"target must hold integer class indices; got dtype {target.dtype}."
        )
    if target.ndim != 1 or target.shape[0] != logits.shape[0]:
        raise ValueError(
            "target must be 1-D with one class index per row of logits; got target "
            f"shape {tuple(target.shape)} for logits shape {tuple(logits.shape)}."
        )
    if target.numel() and _values_are_free_to_read(target):
        low, high = (value.item() for value in torch.aminmax(target))
        n_classes = logits.shape[1]
        if low < 0 or high >= n_classes:
            raise ValueError(
                f"target must hold class indices in [0, {n_classes}) for logits with "
                f"{n_classes} columns; got values from {low} to {high}."
            )
    return target.long()


def check_n_classes(tensor, name, logits):
    """Return ``tensor`` if it has one value per column of ``logits``, else raise.

    Parameters
    ----------
    tensor : Tensor of shape (n_values,)
        A per-class vector.
    name : str
        Its name, for the error message.
    logits : Tensor of shape (n_samples, n_classes)
        The batch's scores.

    Returns
    -------
    tensor : Tensor of shape (n_classes,)
        ``tensor``, unchanged.

    Raises
    ------
    ValueError
        If ``n_values != n_classes``.
    """
    n_classes = logits.shape[1]
    if tensor.shape[0] != n_classes:
        raise ValueError(
            f"{name} has {tensor.shape[0]} values but logits has {n_classes} "
            f"columns; {name} needs one value per class (per logits column)."
        )
    return tensor


def prepare_weight(weight, logits):
    """Validate ``weight`` against a batch and cast it to the logits' dtype.

    Parameters
    ----------
    weight : Tensor, ndarray, list or None
        One weight per class.
    logits : Tensor of shape (n_samples, n_classes)
        The batch's scores.

    Returns
    -------
    weight : Tensor of shape (n_classes,) or None
        The weights, as the logits' dtype on their device.
    """
    if weight is None:
        return None
    weight = check_weight(weight, dtype=logits.dtype, device=logits.device)
    return check_n_classes(weight, "weight", logits)


def prepare_class_counts(class_counts, logits):
    """Validate ``class_counts`` against a batch and cast to the logits' dtype.

    Parameters
    ----------
    class_counts : Tensor, ndarray or list
        The number of training samples of each class.
    logits : Tensor of shape (n_samples, n_classes)
        The batch's scores.

    Returns
    -------
    class_counts : Tensor of shape (n_classes,)
        The counts, as the logits' dtype on their device.
    """
    counts = check_class_counts(class_counts, dtype=logits.dtype, device=logits.device)
    return check_n_classes(counts, "class_counts", logits)


def reduce_loss(loss, reduction, sample_weight=None):
    """Reduce per-sample losses as :class:`torch.nn.CrossEntropyLoss` does.

    Parameters
    ----------
    loss : Tensor of shape (n_samples,)
        Per-sample losses, already multiplied by ``sample_weight`` if given.
    reduction : {"mean", "sum", "none"}
        How to reduce.
    sample_weight : Tensor of shape (n_samples,), default=None
        The class weight of each sample's target; ``"mean"`` then divides by
        its sum, not by the number of samples.

    Returns
    -------
    loss : Tensor
        A scalar, or ``loss`` itself for ``reduction="none"``.
    """
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    if sample_weight is None:
        return loss.mean()
    return loss.sum() / sample_weight.sum()
