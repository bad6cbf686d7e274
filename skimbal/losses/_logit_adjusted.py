"""Logit-adjusted cross-entropy (Menon et al., 2021)."""

import torch
import torch.nn.functional as F

from ._base import ClassBufferLoss, real_at_least
from ._validation import (
    check_logits_target,
    check_real,
    check_reduction,
    prepare_class_counts,
    prepare_weight,
)

__all__ = ["LogitAdjustedLoss", "logit_adjusted_loss"]


def logit_adjusted_loss(
    logits, target, class_counts, tau=1.0, weight=None, reduction="mean"
):
    r"""Cross-entropy on logits shifted by the log of the class prior.

    ``loss = CE(logits + tau * log(pi), target)`` with the training prior
    ``pi_c = n_c / sum(n)``. Adding the prior during training makes the
    network learn ``logits ~ log p(x | y)`` rather than ``log p(y | x)``, so
    the plain ``argmax(logits)`` at prediction time is a balanced-error
    classifier.

    Parameters
    ----------
    logits : Tensor of shape (n_samples, n_classes)
        Unnormalised scores.
    target : Tensor of shape (n_samples,)
        Integer class indices in ``[0, n_classes)``.
    class_counts : Tensor, ndarray or list of shape (n_classes,)
        Number of training samples of each class, all finite and positive, in
        the order of the logits' columns.
    tau : float, default=1.0
        Strength of the adjustment, ``>= 0``. ``tau=0`` is cross-entropy.
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
    LogitAdjustedLoss : The same loss as an ``nn.Module``.
    balanced_softmax_loss : The ``tau=1`` case.

    Notes
    -----
    Only the training loss is adjusted: predict with the raw logits.

    References
    ----------
    .. [1] A. K. Menon, S. Jayasumana, A. S. Rawat, H. Jain, A. Veit,
       S. Kumar, "Long-tail learning via logit adjustment", ICLR 2021.
       https://arxiv.org/abs/2007.07314

    Examples
    --------
    With counts 3:1 the prior is [0.75, 0.25]; the rare class's logit is
    lowered by ``log(0.75 / 0.25)`` relative to the frequent one:

    >>> import torch
    >>> from skimbal.losses import logit_adjusted_loss
    >>> logits, target = torch.tensor([[0.0, 0.0]]), torch.tensor([1])
    >>> round(logit_adjusted_loss(logits, target, [300, 100]).item(), 4)
    1.3863
    >>> round(logit_adjusted_loss(logits, target, [300, 100], tau=0).item(), 4)
    0.6931
    """
    tau = check_real(tau, "tau", low=0.0)
    reduction = check_reduction(reduction)
    target = check_logits_target(logits, target)
    counts = prepare_class_counts(class_counts, logits)
    weight = prepare_weight(weight, logits)
    return _logit_adjusted_loss(logits, target, counts, tau, weight, reduction)


def _logit_adjusted_loss(logits, target, counts, tau, weight, reduction):
    """The math of :func:`logit_adjusted_loss`, on checked and cast arguments."""
    log_prior = torch.log(counts) - torch.log(counts.sum())
    return F.cross_entropy(
        logits + tau * log_prior, target, weight=weight, reduction=reduction
    )


class LogitAdjustedLoss(ClassBufferLoss):
    r"""Logit-adjusted cross-entropy as an ``nn.Module`` (Menon et al., 2021).

    Thin wrapper around :func:`logit_adjusted_loss`, usable as a skorch
    ``criterion``.

    Parameters
    ----------
    class_counts : Tensor, ndarray or list of shape (n_classes,)
        Number of training samples of each class, all finite and positive.
        Stored as the float32 buffer ``class_counts``.
    tau : float, default=1.0
        Strength of the adjustment, ``>= 0``. ``tau=0`` is cross-entropy.
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
    logit_adjusted_loss : The functional form.
    BalancedSoftmaxLoss : The ``tau=1`` case.

    References
    ----------
    .. [1] A. K. Menon, S. Jayasumana, A. S. Rawat, H. Jain, A. Veit,
       S. Kumar, "Long-tail learning via logit adjustment", ICLR 2021.
       https://arxiv.org/abs/2007.07314

    Examples
    --------
    >>> import torch
    >>> from skimbal.losses import LogitAdjustedLoss
    >>> criterion = LogitAdjustedLoss(class_counts=[300, 100], tau=1.0)
    >>> criterion
    LogitAdjustedLoss(tau=1.0, reduction='mean')
    >>> round(criterion(torch.zeros(1, 2), torch.tensor([1])).item(), 4)
    1.3863
    """

    hyper_parameters = {"tau": real_at_least("tau", 0.0)}

    def __init__(self, class_counts, tau=1.0, weight=None, reduction="mean"):
        super().__init__(reduction)
        self.tau = tau
        self.register_class_buffer("class_counts", class_counts)
        self.register_class_buffer("weight", weight)

    def forward(self, logits, target):
        """Compute the loss of a batch; see :func:`logit_adjusted_loss`.

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
        return _logit_adjusted_loss(
            logits, target, counts, float(self.tau), weight, self.reduction
        )
