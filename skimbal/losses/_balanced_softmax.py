"""Balanced softmax cross-entropy (Ren et al., 2020)."""

import torch
import torch.nn.functional as F

from ._base import ClassBufferLoss
from ._validation import (
    check_logits_target,
    check_reduction,
    prepare_class_counts,
    prepare_weight,
)

__all__ = ["BalancedSoftmaxLoss", "balanced_softmax_loss"]


def balanced_softmax_loss(logits, target, class_counts, weight=None, reduction="mean"):
    r"""Cross-entropy of the softmax reweighted by the class counts.

    ``loss = CE(logits + log(n), target)``, i.e. the softmax
    ``n_j exp(z_j) / sum_k n_k exp(z_k)``. It compensates the label shift
    between an imbalanced training set and a balanced test set, so predict
    with the raw logits.

    Parameters
    ----------
    logits : Tensor of shape (n_samples, n_classes)
        Unnormalised scores.
    target : Tensor of shape (n_samples,)
        Integer class indices in ``[0, n_classes)``.
    class_counts : Tensor, ndarray or list of shape (n_classes,)
        Number of training samples of each class, all finite and positive, in
        the order of the logits' columns.
    weight : Tensor, ndarray or list of shape (n_classes,), default=None
        Finite, non-negative class weights, as in
        :class:`torch.nn.CrossEntropyLoss`.
    reduction : {"mean", "sum", "none"}, default="mean"
        As in :class:`torch.nn.CrossEntropyLoss`.

    Returns
    -------
    loss : Tensor
        A scalar, or a tensor of shape (n_samples,) for ``reduction="none"``.

    See Also
    --------
    BalancedSoftmaxLoss : The same loss as an ``nn.Module``.
    logit_adjusted_loss : The same idea with a tunable strength ``tau``; it
        equals this loss at ``tau=1``.

    Notes
    -----
    Only the total scale of ``class_counts`` cancels: counts ``[3, 1]`` and
    ``[300, 100]`` give the same loss, and equal counts give cross-entropy.

    References
    ----------
    .. [1] J. Ren, C. Yu, S. Sheng, X. Ma, H. Zhao, S. Yi, H. Li, "Balanced
       Meta-Softmax for Long-Tailed Visual Recognition", NeurIPS 2020.
       https://arxiv.org/abs/2007.10740

    Examples
    --------
    >>> import torch
    >>> from skimbal.losses import balanced_softmax_loss
    >>> logits, target = torch.tensor([[0.0, 0.0]]), torch.tensor([1])
    >>> round(balanced_softmax_loss(logits, target, [300, 100]).item(), 4)
    1.3863
    """
    reduction = check_reduction(reduction)
    target = check_logits_target(logits, target)
    counts = prepare_class_counts(class_counts, logits)
    weight = prepare_weight(weight, logits)
    return _balanced_softmax_loss(logits, target, counts, weight, reduction)


def _balanced_softmax_loss(logits, target, counts, weight, reduction):
    """The math of :func:`balanced_softmax_loss`, on checked and cast arguments."""
    return F.cross_entropy(
        logits + torch.log(counts), target, weight=weight, reduction=reduction
    )


class BalancedSoftmaxLoss(ClassBufferLoss):
    r"""Balanced softmax cross-entropy as an ``nn.Module`` (Ren et al., 2020).

    Thin wrapper around :func:`balanced_softmax_loss`, usable as a skorch
    ``criterion``.

    Parameters
    ----------
    class_counts : Tensor, ndarray or list of shape (n_classes,)
        Number of training samples of each class, all finite and positive.
        Stored as the float32 buffer ``class_counts``.
    weight : Tensor, ndarray or list of shape (n_classes,), default=None
        Finite, non-negative class weights, stored as the float32 buffer
        ``weight`` (``None`` included, so a callback may assign it later).
    reduction : {"mean", "sum", "none"}, default="mean"
        As in :class:`torch.nn.CrossEntropyLoss`.

    Attributes
    ----------
    class_counts : Tensor of shape (n_classes,)
        The class counts buffer.
    weight : Tensor of shape (n_classes,) or None
        The class weights buffer. A value assigned later is checked as the
        argument is, when it is assigned.

    See Also
    --------
    balanced_softmax_loss : The functional form.
    LogitAdjustedLoss : The same idea with a tunable strength ``tau``.

    References
    ----------
    .. [1] J. Ren, C. Yu, S. Sheng, X. Ma, H. Zhao, S. Yi, H. Li, "Balanced
       Meta-Softmax for Long-Tailed Visual Recognition", NeurIPS 2020.
       https://arxiv.org/abs/2007.10740

    Examples
    --------
    >>> import torch
    >>> from skimbal.losses import BalancedSoftmaxLoss
    >>> criterion = BalancedSoftmaxLoss(class_counts=[300, 100])
    >>> criterion
    BalancedSoftmaxLoss(reduction='mean')
    >>> round(criterion(torch.zeros(1, 2), torch.tensor([1])).item(), 4)
    1.3863
    """

    def __init__(self, class_counts, weight=None, reduction="mean"):
        super().__init__(reduction)
        self.register_class_buffer("class_counts", class_counts)
        self.register_class_buffer("weight", weight)

    def forward(self, logits, target):
        """Compute the loss of a batch; see :func:`balanced_softmax_loss`.

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
        counts = self.class_buffer("class_counts", logits)
        weight = self.class_buffer("weight", logits)
        return _balanced_softmax_loss(logits, target, counts, weight, self.reduction)
