"""Vector-scaling loss (Kini et al., 2021)."""

import torch
import torch.nn.functional as F

from ._base import ClassBufferLoss, real_at_least
from ._validation import (
    check_logits_target,
    check_n_classes,
    check_offset,
    check_real,
    check_reduction,
    check_scaling,
    prepare_class_counts,
    prepare_weight,
)

__all__ = ["VSLoss", "vs_loss"]


def vs_loss(
    logits,
    target,
    class_counts,
    gamma=0.3,
    tau=1.0,
    weight=None,
    scaling=None,
    offset=None,
    reduction="mean",
):
    r"""Cross-entropy on logits scaled and shifted per class.

    Each column ``c`` of the logits is multiplied by ``Delta_c`` and shifted
    by ``iota_c`` before a (weighted) cross-entropy::

        loss = CE(Delta * logits + iota, y, weight)

    By default ``Delta_c = (n_c / max(n)) ** gamma`` and
    ``iota_c = tau * log(pi_c)`` with the training prior ``pi_c = n_c /
    sum(n)``, as Kini et al. propose; ``scaling`` and ``offset`` give the
    per-class values directly instead (as
    :class:`skimbal.callbacks.AutoBalance` learns them).

    Parameters
    ----------
    logits : Tensor of shape (n_samples, n_classes)
        Unnormalised scores.
    target : Tensor of shape (n_samples,)
        Integer class indices in ``[0, n_classes)``.
    class_counts : Tensor, ndarray or list of shape (n_classes,)
        Number of training samples of each class, all finite and positive, in
        the order of the logits' columns.
    gamma : float, default=0.3
        Exponent of the multiplicative scaling, ``>= 0``; ``0`` scales no
        logit. Ignored when ``scaling`` is given.
    tau : float, default=1.0
        Strength of the additive offset, ``>= 0``; ``0`` shifts no logit.
        Ignored when ``offset`` is given.
    weight : Tensor, ndarray or list of shape (n_classes,), default=None
        Finite, non-negative class weights, as in
        :class:`torch.nn.CrossEntropyLoss`.
    scaling : Tensor, ndarray or list of shape (n_classes,), default=None
        Finite positive ``Delta_c`` of each class, replacing the ``gamma``
        formula.
    offset : Tensor, ndarray or list of shape (n_classes,), default=None
        Finite ``iota_c`` of each class, replacing the ``tau`` formula.
    reduction : {"mean", "sum", "none"}, default="mean"
        As in :class:`torch.nn.CrossEntropyLoss`.

    Returns
    -------
    loss : Tensor
        A scalar, or a tensor of shape (n_samples,) for ``reduction="none"``.

    See Also
    --------
    VSLoss : The same loss as an ``nn.Module``.
    logit_adjusted_loss : The ``gamma=0`` case.
    skimbal.callbacks.AutoBalance : Learns ``scaling``, ``offset`` and
        ``weight`` on validation data.

    Notes
    -----
    Special cases: ``gamma=0, tau=0`` is cross-entropy, ``gamma=0`` the
    logit-adjusted loss with the same ``tau``, ``tau=0`` the class-dependent
    temperature loss of Ye et al. (2020), whose multiplicative factor makes
    the margins that LDAM (Cao et al., 2019) adds to the true logit; LDAM
    itself is not a special case, its margin moves only the true class's
    logit. Only the training loss is changed: predict with the raw logits.

    References
    ----------
    .. [1] G. R. Kini, O. Paraskevas, S. Oymak, C. Thrampoulidis,
       "Label-Imbalanced and Group-Sensitive Classification under
       Overparameterization", NeurIPS 2021. https://arxiv.org/abs/2103.01550

    Examples
    --------
    Counts 3:1 with ``gamma=0.5`` scale the rare class's logit by
    ``sqrt(1/3)`` and shift both by the log-prior:

    >>> import torch
    >>> from skimbal.losses import vs_loss
    >>> logits, target = torch.tensor([[0.0, 3.0]]), torch.tensor([1])
    >>> round(vs_loss(logits, target, [300, 100], gamma=0.5).item(), 4)
    0.4258
    >>> round(vs_loss(logits, target, [300, 100], gamma=0.0, tau=0.0).item(), 4)
    0.0486
    """
    gamma = check_real(gamma, "gamma", low=0.0)
    tau = check_real(tau, "tau", low=0.0)
    reduction = check_reduction(reduction)
    target = check_logits_target(logits, target)
    counts = prepare_class_counts(class_counts, logits)
    weight = prepare_weight(weight, logits)
    if scaling is not None:
        scaling = check_scaling(scaling, dtype=logits.dtype, device=logits.device)
        scaling = check_n_classes(scaling, "scaling", logits)
    if offset is not None:
        offset = check_offset(offset, dtype=logits.dtype, device=logits.device)
        offset = check_n_classes(offset, "offset", logits)
    scaling, offset = vs_parameters(counts, gamma, tau, scaling, offset)
    return _vs_loss(logits, target, scaling, offset, weight, reduction)


def vs_parameters(counts, gamma, tau, scaling=None, offset=None):
    """Kini et al.'s ``Delta`` and ``iota``, unless given explicitly.

    Parameters
    ----------
    counts : Tensor of shape (n_classes,)
        Checked class counts.
    gamma, tau : float
        Checked exponent of the scaling and strength of the offset.
    scaling, offset : Tensor of shape (n_classes,) or None
        Checked explicit values, returned as they are.

    Returns
    -------
    scaling, offset : Tensor of shape (n_classes,)
        ``(n_c / max(n)) ** gamma`` and ``tau * log(n_c / sum(n))`` where not
        given.
    """
    if scaling is None:
        scaling = (counts / counts.max()).pow(gamma)
    if offset is None:
        offset = tau * (torch.log(counts) - torch.log(counts.sum()))
    return scaling, offset


def _vs_loss(logits, target, scaling, offset, weight, reduction):
    """The math of :func:`vs_loss`, on checked and cast per-class vectors."""
    return F.cross_entropy(
        logits * scaling + offset, target, weight=weight, reduction=reduction
    )


class VSLoss(ClassBufferLoss):
    r"""Vector-scaling loss as an ``nn.Module`` (Kini et al., 2021).

    Thin wrapper around :func:`vs_loss`, usable as a skorch ``criterion``
    (``criterion="vs"`` in :class:`~skimbal.CNNClassifier`).

    Parameters
    ----------
    class_counts : Tensor, ndarray or list of shape (n_classes,)
        Number of training samples of each class, all finite and positive.
        Stored as the float32 buffer ``class_counts``.
    gamma : float, default=0.3
        Exponent of the multiplicative scaling ``(n_c / max(n)) ** gamma``,
        ``>= 0``. Ignored while ``scaling`` is set.
    tau : float, default=1.0
        Strength of the additive offset ``tau * log(pi_c)``, ``>= 0``.
        Ignored while ``offset`` is set.
    weight : Tensor, ndarray or list of shape (n_classes,), default=None
        Finite, non-negative class weights, stored as the float32 buffer
        ``weight`` (``None`` included, so a callback may assign it later).
    scaling : Tensor, ndarray or list of shape (n_classes,), default=None
        Finite positive per-class factors replacing the ``gamma`` formula,
        stored as the buffer ``scaling``.
    offset : Tensor, ndarray or list of shape (n_classes,), default=None
        Finite per-class offsets replacing the ``tau`` formula, stored as the
        buffer ``offset``.
    reduction : {"mean", "sum", "none"}, default="mean"
        As in :class:`torch.nn.CrossEntropyLoss`.

    Attributes
    ----------
    class_counts : Tensor of shape (n_classes,)
        The class counts buffer.
    weight, scaling, offset : Tensor of shape (n_classes,) or None
        The per-class buffers. A value assigned later (as
        :class:`skimbal.callbacks.AutoBalance` does) is checked as the
        argument is, when it is assigned.

    See Also
    --------
    vs_loss : The functional form, with the formulas.
    skimbal.callbacks.AutoBalance : Learns ``scaling``, ``offset`` and
        ``weight`` on validation data during ``fit``.

    References
    ----------
    .. [1] G. R. Kini, O. Paraskevas, S. Oymak, C. Thrampoulidis,
       "Label-Imbalanced and Group-Sensitive Classification under
       Overparameterization", NeurIPS 2021. https://arxiv.org/abs/2103.01550

    Examples
    --------
    >>> import torch
    >>> from skimbal.losses import VSLoss
    >>> criterion = VSLoss(class_counts=[300, 100], gamma=0.5)
    >>> criterion
    VSLoss(gamma=0.5, tau=1.0, reduction='mean')
    >>> round(criterion(torch.tensor([[0.0, 3.0]]), torch.tensor([1])).item(), 4)
    0.4258

    Per-class values, e.g. learned ones, replace the formulas:

    >>> criterion.scaling = [1.0, 1.0]
    >>> criterion.offset = [0.0, 0.0]
    >>> round(criterion(torch.tensor([[0.0, 3.0]]), torch.tensor([1])).item(), 4)
    0.0486
    """

    hyper_parameters = {
        "gamma": real_at_least("gamma", 0.0),
        "tau": real_at_least("tau", 0.0),
    }

    def __init__(
        self,
        class_counts,
        gamma=0.3,
        tau=1.0,
        weight=None,
        scaling=None,
        offset=None,
        reduction="mean",
    ):
        super().__init__(reduction)
        self.gamma = gamma
        self.tau = tau
        self.register_class_buffer("class_counts", class_counts)
        self.register_class_buffer("weight", weight)
        self.register_class_buffer("scaling", scaling)
        self.register_class_buffer("offset", offset)

    def vs_parameters(self, logits=None):
        """Return the per-class ``Delta`` and ``iota`` this loss applies.

        Parameters
        ----------
        logits : Tensor of shape (n_samples, n_classes), default=None
            A batch whose dtype and device to return them in; ``None``
            keeps the buffers' own.

        Returns
        -------
        scaling, offset : Tensor of shape (n_classes,)
            The ``scaling`` and ``offset`` buffers where set, else the values
            of the ``gamma`` and ``tau`` formulas.
        """
        if logits is None:
            counts = self.class_counts
            logits = counts.new_empty(0, len(counts))
        counts = self.class_buffer("class_counts", logits)
        return vs_parameters(
            counts,
            float(self.gamma),
            float(self.tau),
            self.class_buffer("scaling", logits),
            self.class_buffer("offset", logits),
        )

    def forward(self, logits, target):
        """Compute the loss of a batch; see :func:`vs_loss`.

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
        scaling, offset = self.vs_parameters(logits)
        weight = self.class_buffer("weight", logits)
        return _vs_loss(logits, target, scaling, offset, weight, self.reduction)
