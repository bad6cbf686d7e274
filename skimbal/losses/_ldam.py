"""Label-distribution-aware margin loss (Cao et al., 2019)."""

import torch.nn.functional as F

from ._base import ClassBufferLoss, real_at_least
from ._validation import (
    check_logits_target,
    check_real,
    check_reduction,
    prepare_class_counts,
    prepare_weight,
)

__all__ = ["LDAMLoss", "ldam_loss"]


def ldam_loss(
    logits,
    target,
    class_counts,
    max_margin=0.5,
    scale=30.0,
    weight=None,
    reduction="mean",
):
    r"""Cross-entropy with a larger margin for the rarer classes.

    Each class gets the margin ``delta_c = C / n_c ** (1/4)``, with ``C``
    chosen so that the rarest class has ``max_margin``. The margin of the true
    class is subtracted from its logit, the logits are multiplied by
    ``scale`` and a (weighted) cross-entropy is taken::

        loss = CE(scale * (logits - delta_y * onehot(y)), y)

    Parameters
    ----------
    logits : Tensor of shape (n_samples, n_classes)
        Unnormalised scores; Cao et al. use the cosine similarity of
        normalised features and weights, hence the ``scale``.
    target : Tensor of shape (n_samples,)
        Integer class indices in ``[0, n_classes)``.
    class_counts : Tensor, ndarray or list of shape (n_classes,)
        Number of training samples of each class, all finite and positive, in
        the order of the logits' columns.
    max_margin : float, default=0.5
        Margin of the rarest class, ``>= 0``.
    scale : float, default=30.0
        Factor applied to the margin-adjusted logits, ``> 0``. Cao et al. use
        30 for normalised (cosine) logits; use 1 for unnormalised logits.
    weight : Tensor, ndarray or list of shape (n_classes,), default=None
        Finite, non-negative class weights, as in
        :class:`torch.nn.CrossEntropyLoss`. Cao et al. switch them on late in
        training, see :class:`skimbal.callbacks.DeferredReweighting`.
    reduction : {"mean", "sum", "none"}, default="mean"
        As in :class:`torch.nn.CrossEntropyLoss`.

    Returns
    -------
    loss : Tensor
        A scalar, or a tensor of shape (n_samples,) for ``reduction="none"``.

    See Also
    --------
    LDAMLoss : The same loss as an ``nn.Module``.

    Notes
    -----
    ``max_margin=0`` and ``scale=1`` give cross-entropy.

    References
    ----------
    .. [1] K. Cao, C. Wei, A. Gaidon, N. Arechiga, T. Ma, "Learning
       Imbalanced Datasets with Label-Distribution-Aware Margin Loss",
       NeurIPS 2019. https://arxiv.org/abs/1906.07413

    Examples
    --------
    Counts 10000:1 give margins ``[0.05, 0.5]``; the true logit of a class-1
    sample is lowered by 0.5:

    >>> import torch
    >>> from skimbal.losses import ldam_loss
    >>> logits, target = torch.tensor([[0.0, 0.5]]), torch.tensor([1])
    >>> loss = ldam_loss(logits, target, [10000, 1], max_margin=0.5, scale=1.0)
    >>> round(loss.item(), 4)
    0.6931
    """
    max_margin = check_real(max_margin, "max_margin", low=0.0)
    scale = check_real(scale, "scale", low=0.0, strict=True)
    reduction = check_reduction(reduction)
    target = check_logits_target(logits, target)
    counts = prepare_class_counts(class_counts, logits)
    weight = prepare_weight(weight, logits)
    return _ldam_loss(logits, target, counts, max_margin, scale, weight, reduction)


def _ldam_loss(logits, target, counts, max_margin, scale, weight, reduction):
    """The math of :func:`ldam_loss`, on arguments already checked and cast."""
    margins = counts.pow(-0.25)
    margins = margins * (max_margin / margins.max())
    # scale * (logits - margin * onehot): subtract the scaled margin from each
    # sample's true logit in place on the scaled copy, with no one-hot matrix.
    target_column = target.unsqueeze(1)
    adjusted = (logits * scale).scatter_add_(
        1, target_column, margins[target_column].mul_(-scale)
    )
    return F.cross_entropy(adjusted, target, weight=weight, reduction=reduction)


class LDAMLoss(ClassBufferLoss):
    r"""Label-distribution-aware margin loss as an ``nn.Module``.

    Thin wrapper around :func:`ldam_loss` (Cao et al., 2019), usable as a
    skorch ``criterion``.

    Parameters
    ----------
    class_counts : Tensor, ndarray or list of shape (n_classes,)
        Number of training samples of each class, all finite and positive.
        Stored as the float32 buffer ``class_counts``.
    max_margin : float, default=0.5
        Margin of the rarest class, ``>= 0``.
    scale : float, default=30.0
        Factor applied to the margin-adjusted logits, ``> 0``.
    weight : Tensor, ndarray or list of shape (n_classes,), default=None
        Finite, non-negative class weights, stored as the float32 buffer
        ``weight`` (``None`` included, so that
        :class:`skimbal.callbacks.DeferredReweighting` can assign it).
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
    ldam_loss : The functional form.
    skimbal.callbacks.DeferredReweighting : The reweighting schedule of the
        paper (LDAM-DRW).

    References
    ----------
    .. [1] K. Cao, C. Wei, A. Gaidon, N. Arechiga, T. Ma, "Learning
       Imbalanced Datasets with Label-Distribution-Aware Margin Loss",
       NeurIPS 2019. https://arxiv.org/abs/1906.07413

    Examples
    --------
    >>> import torch
    >>> from skimbal.losses import LDAMLoss
    >>> criterion = LDAMLoss(class_counts=[10000, 1], scale=1.0)
    >>> criterion
    LDAMLoss(max_margin=0.5, scale=1.0, reduction='mean')
    >>> round(criterion(torch.tensor([[0.0, 0.5]]), torch.tensor([1])).item(), 4)
    0.6931
    """

    hyper_parameters = {
        "max_margin": real_at_least("max_margin", 0.0),
        "scale": real_at_least("scale", 0.0, strict=True),
    }

    def __init__(
        self, class_counts, max_margin=0.5, scale=30.0, weight=None, reduction="mean"
    ):
        super().__init__(reduction)
        self.max_margin = max_margin
        self.scale = scale
        self.register_class_buffer("class_counts", class_counts)
        self.register_class_buffer("weight", weight)

    def forward(self, logits, target):
        """Compute the loss of a batch; see :func:`ldam_loss`.

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
        return _ldam_loss(
            logits,
            target,
            counts,
            float(self.max_margin),
            float(self.scale),
            weight,
            self.reduction,
        )
