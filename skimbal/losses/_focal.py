"""Multi-class softmax focal loss (Lin et al., 2017)."""

import torch
import torch.nn.functional as F

from ._base import ClassBufferLoss, real_at_least
from ._validation import (
    check_logits_target,
    check_real,
    check_reduction,
    prepare_weight,
    reduce_loss,
)

__all__ = ["FocalLoss", "focal_loss"]


def focal_loss(logits, target, gamma=2.0, weight=None, reduction="mean"):
    r"""Softmax focal loss for multi-class (and 2-logit binary) classification.

    ``FL(p_t) = -alpha_t * (1 - p_t) ** gamma * log(p_t)``, where ``p_t`` is the
    softmax probability of the true class and ``alpha_t = weight[target]``.
    The factor ``(1 - p_t) ** gamma`` shrinks the loss of well-classified
    samples so that training focuses on the hard ones.

    Parameters
    ----------
    logits : Tensor of shape (n_samples, n_classes)
        Unnormalised scores. A binary problem is the ``n_classes=2`` case.
    target : Tensor of shape (n_samples,)
        Integer class indices in ``[0, n_classes)``.
    gamma : float, default=2.0
        Focusing parameter, ``>= 0``. ``gamma=0`` is cross-entropy.
    weight : Tensor, ndarray or list of shape (n_classes,), default=None
        Finite, non-negative weight ``alpha_c`` of each class. ``None`` weighs
        every class 1.
    reduction : {"mean", "sum", "none"}, default="mean"
        ``"mean"`` divides the summed loss by ``sum(weight[target])`` when
        ``weight`` is given and by ``n_samples`` otherwise, exactly like
        :class:`torch.nn.CrossEntropyLoss`; ``"none"`` returns one loss per
        sample.

    Returns
    -------
    loss : Tensor
        A scalar, or a tensor of shape (n_samples,) for ``reduction="none"``.

    See Also
    --------
    FocalLoss : The same loss as an ``nn.Module``, for skorch's ``criterion``.
    torchvision.ops.sigmoid_focal_loss : The one-logit binary form.

    Notes
    -----
    ``log(p_t)`` is taken from :func:`torch.nn.functional.log_softmax`, never as
    the log of a softmax, so logits of magnitude ``1e4`` give finite losses.
    ``1 - p_t`` is computed as ``-expm1(log p_t)`` and clamped at the smallest
    positive float, which keeps the gradient of ``(1 - p_t) ** gamma`` finite
    when ``p_t`` rounds to 1 and ``gamma < 1``. With two classes ``p_t`` is the
    sigmoid of ``a = z_t - z_other``; ``log(p_t)`` and ``log(1 - p_t)`` are
    then both computed with ``logsigmoid``, which is exact and faster. With
    ``gamma=0`` the loss is computed by
    :func:`torch.nn.functional.cross_entropy` itself.

    See :class:`FocalLoss` for the correspondence with
    :func:`torchvision.ops.sigmoid_focal_loss`.

    References
    ----------
    .. [1] T.-Y. Lin, P. Goyal, R. Girshick, K. He, P. Dollar, "Focal Loss for
       Dense Object Detection", ICCV 2017. https://arxiv.org/abs/1708.02002

    Examples
    --------
    A sample of class 1 predicted with probability 0.8, for increasing
    ``gamma``; ``gamma=0`` is the cross-entropy ``-log(0.8)``:

    >>> import math
    >>> import torch
    >>> from skimbal.losses import focal_loss
    >>> logits = torch.tensor([[0.0, math.log(0.8 / 0.2)]])
    >>> target = torch.tensor([1])
    >>> [round(focal_loss(logits, target, gamma=g).item(), 4) for g in (0, 1, 2)]
    [0.2231, 0.0446, 0.0089]
    """
    gamma = check_real(gamma, "gamma", low=0.0)
    reduction = check_reduction(reduction)
    target = check_logits_target(logits, target)
    weight = prepare_weight(weight, logits)
    return _focal_loss(logits, target, gamma, weight, reduction)


def _focal_loss(logits, target, gamma, weight, reduction):
    """The math of :func:`focal_loss`, on arguments already checked and cast."""
    if gamma == 0:
        return F.cross_entropy(logits, target, weight=weight, reduction=reduction)
    if logits.shape[1] == 2:
        # Binary: p_t = sigmoid(a) with a = z_t - z_other, so both log p_t and
        # log(1 - p_t) = log p_t - a are exact, and exp(gamma * log(1 - p_t))
        # has a finite gradient for every gamma, even when p_t rounds to 1.
        # It is also about twice as fast as log_softmax over 2 columns.
        sign = (2 * target - 1).to(logits.dtype)
        margin = (logits[:, 1] - logits[:, 0]) * sign
        log_pt = F.logsigmoid(margin)
        modulating = torch.exp(gamma * (log_pt - margin))
    else:
        # One gather on log_softmax: no one-hot matrix and no log of a softmax.
        log_pt = F.log_softmax(logits, dim=1).gather(1, target.unsqueeze(1))
        log_pt = log_pt.squeeze(1)
        # expm1 keeps 1 - p_t accurate as p_t -> 1; the clamp keeps the
        # derivative gamma * (1 - p_t) ** (gamma - 1) finite there when gamma < 1.
        one_minus_pt = torch.clamp(
            -torch.expm1(log_pt), min=torch.finfo(logits.dtype).tiny
        )
        modulating = one_minus_pt.pow(gamma)
    loss = -log_pt * modulating
    if weight is None:
        return reduce_loss(loss, reduction)
    sample_weight = weight.gather(0, target)
    return reduce_loss(loss * sample_weight, reduction, sample_weight)


class FocalLoss(ClassBufferLoss):
    r"""Softmax focal loss as an ``nn.Module`` (Lin et al., 2017).

    Thin wrapper around :func:`focal_loss`, usable as a skorch ``criterion``
    (``criterion__gamma`` and friends are plain constructor arguments).

    Parameters
    ----------
    gamma : float, default=2.0
        Focusing parameter, ``>= 0``. ``gamma=0`` is cross-entropy.
    weight : Tensor, ndarray or list of shape (n_classes,), default=None
        Finite, non-negative weight ``alpha_c`` of each class. Stored as the
        float32 buffer ``weight`` (``None`` included), so it follows
        ``.to(device)`` and a callback may assign it later.
    reduction : {"mean", "sum", "none"}, default="mean"
        As in :class:`torch.nn.CrossEntropyLoss`: with ``weight``, ``"mean"``
        divides by the sum of the targets' weights.

    Attributes
    ----------
    weight : Tensor of shape (n_classes,) or None
        The class weights buffer. A value assigned later is checked as the
        argument is, when it is assigned.

    See Also
    --------
    focal_loss : The functional form.
    torch.nn.CrossEntropyLoss : The ``gamma=0`` case.

    Notes
    -----
    **Binary case and torchvision.** For two classes the softmax of the logits
    ``[z_0, z_1]`` is the sigmoid of ``z = z_1 - z_0``, and this loss equals
    ``torchvision.ops.sigmoid_focal_loss(z, y, alpha, gamma)`` with::

        sigmoid_focal_loss(alpha=a)   <=>  FocalLoss(weight=[1 - a, a])
        sigmoid_focal_loss(alpha=-1)  <=>  FocalLoss(weight=None)

    for ``reduction="none"`` and ``"sum"``. With ``"mean"`` torchvision divides
    by the number of samples and this loss, like cross-entropy, by the sum of
    the weights. torchvision's ``alpha`` is the weight of the *positive*
    class, so its default ``alpha=0.25`` *down-weights* the positive class:
    the opposite of what helps when the positive class is the rare one. Pass
    the weights explicitly, e.g. ``weight=[0.25, 0.75]``.

    References
    ----------
    .. [1] T.-Y. Lin, P. Goyal, R. Girshick, K. He, P. Dollar, "Focal Loss for
       Dense Object Detection", ICCV 2017. https://arxiv.org/abs/1708.02002

    Examples
    --------
    >>> import torch
    >>> from skimbal.losses import FocalLoss
    >>> criterion = FocalLoss(gamma=2.0, weight=[0.25, 0.75])
    >>> criterion
    FocalLoss(gamma=2.0, reduction='mean')
    >>> logits = torch.tensor([[2.0, -1.0], [0.5, 0.0], [-1.0, 1.5]])
    >>> target = torch.tensor([0, 1, 1])
    >>> round(criterion(logits, target).item(), 4)
    0.162
    """

    hyper_parameters = {"gamma": real_at_least("gamma", 0.0)}

    def __init__(self, gamma=2.0, weight=None, reduction="mean"):
        super().__init__(reduction)
        self.gamma = gamma
        self.register_class_buffer("weight", weight)

    def forward(self, logits, target):
        """Compute the loss of a batch; see :func:`focal_loss`.

        Parameters
        ----------
        logits : Tensor of shape (n_samples, n_classes)
            Unnormalised scores.
        target : Tensor of shape (n_samples,)
            Integer class indices in ``[0, n_classes)``.

        Returns
        -------
        loss : Tensor
            A scalar, or a tensor of shape (n_samples,) for
            ``reduction="none"``.
        """
        target = check_logits_target(logits, target)
        weight = self.class_buffer("weight", logits)
        return _focal_loss(logits, target, float(self.gamma), weight, self.reduction)
