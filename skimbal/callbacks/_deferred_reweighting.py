"""Deferred re-weighting (DRW) of the loss, as in LDAM-DRW (Cao et al., 2019)."""

import numbers

import numpy as np
import torch
from skorch.callbacks import Callback
from skorch.utils import to_numpy

from skimbal._class_weight import class_weight_from_counts

__all__ = ["DeferredReweighting"]

_CLASS_WEIGHT_NAMES = ("balanced", "effective_number")


class DeferredReweighting(Callback):
    """Switch on class weights in the criterion late in training.

    Cao et al. (2019) train with an unweighted loss first, so that the network
    learns features from all samples, and only from a late epoch on weigh the
    loss by class (deferred re-weighting, "DRW"). Before the start epoch this
    callback sets ``net.criterion_.weight`` to ``None``; from the start epoch
    on it sets it to the weights computed from the class counts by
    :func:`skimbal._class_weight.class_weight_from_counts`, as a float32
    tensor on the criterion's device.

    Parameters
    ----------
    start_epoch : int or float, default=0.8
        First re-weighted epoch. An int ``>= 1`` is an epoch number, 1-based
        as in ``net.history`` (``start_epoch=161`` trains 160 epochs without
        weights). A float in ``(0, 1)`` is the fraction of the fit's epochs
        (``net.n_epochs_`` when the net has it, as
        :class:`~skimbal.CNNClassifier` does, else ``net.max_epochs``)
        trained without weights: re-weighting starts at epoch
        ``round(start_epoch * epochs) + 1``, so the default 0.8 with
        ``max_epochs=200`` is the schedule of the paper (weights from the 161st
        epoch on).
    class_weight : {"effective_number", "balanced"} or dict, \
            default="effective_number"
        How to turn the class counts into weights: class-balanced weights by
        effective number of samples (Cui et al., 2019), scikit-learn's
        ``n_samples / (n_classes * n_c)``, or a dict from output index to
        weight (missing indices get 1).
    beta : float, default=0.9999
        Parameter in ``[0, 1)`` of ``"effective_number"``; 0.9999 is the value
        Cao et al. use for DRW.

    Attributes
    ----------
    start_epoch_ : int
        The first re-weighted epoch (1-based), resolved at the start of
        training.
    class_weight_ : ndarray of shape (n_classes,)
        The weights assigned to the criterion from ``start_epoch_`` on.

    See Also
    --------
    skimbal.losses.LDAMLoss : The loss Cao et al. combine with DRW.

    Notes
    -----
    The class counts are read from ``net.class_counts_`` (set by skimbal's
    classifier at fit, aligned with the network's outputs). For a plain skorch
    net without that attribute they are counted from the integer-encoded
    ``y`` passed to ``fit``. The criterion must have a ``weight`` attribute,
    as :class:`torch.nn.CrossEntropyLoss` and every loss in
    :mod:`skimbal.losses` do; any ``weight`` it was built with is replaced.

    Epochs are counted with ``len(net.history)``, so with ``warm_start`` or
    ``partial_fit`` they run on from the previous calls; a fractional
    ``start_epoch`` is taken of the planned epochs (``net.n_epochs_`` or
    ``net.max_epochs``), not of an ``epochs`` argument passed to
    ``partial_fit``.

    References
    ----------
    .. [1] K. Cao, C. Wei, A. Gaidon, N. Arechiga, T. Ma, "Learning
       Imbalanced Datasets with Label-Distribution-Aware Margin Loss",
       NeurIPS 2019. https://arxiv.org/abs/1906.07413
    .. [2] Y. Cui, M. Jia, T.-Y. Lin, Y. Song, S. Belongie, "Class-Balanced
       Loss Based on Effective Number of Samples", CVPR 2019.

    Examples
    --------
    >>> import numpy as np
    >>> import torch
    >>> from skorch import NeuralNetClassifier
    >>> from skimbal.callbacks import DeferredReweighting
    >>> from skimbal.losses import LDAMLoss
    >>> X = np.random.default_rng(0).normal(size=(40, 2)).astype("float32")
    >>> y = np.array([0] * 30 + [1] * 10)
    >>> net = NeuralNetClassifier(
    ...     torch.nn.Linear(2, 2),
    ...     criterion=LDAMLoss,
    ...     criterion__class_counts=[30, 10],
    ...     max_epochs=4,
    ...     train_split=None,
    ...     verbose=0,
    ...     callbacks=[DeferredReweighting(start_epoch=0.5, class_weight="balanced")],
    ... )
    >>> net = net.fit(X, y)
    >>> net.criterion_.weight
    tensor([0.6667, 2.0000])
    """

    def __init__(self, start_epoch=0.8, class_weight="effective_number", beta=0.9999):
        self.start_epoch = start_epoch
        self.class_weight = class_weight
        self.beta = beta

    def initialize(self):
        """Check the parameters and reset the state of the callback.

        Returns
        -------
        self : DeferredReweighting
            The callback.
        """
        self._check_params()
        self.start_epoch_ = None
        self.class_weight_ = None
        return self

    def _check_params(self):
        start = self.start_epoch
        is_int = isinstance(start, numbers.Integral) and not isinstance(start, bool)
        is_fraction = (
            isinstance(start, numbers.Real)
            and not isinstance(start, numbers.Integral)
            and 0 < start < 1
        )
        if not ((is_int and start >= 1) or is_fraction):
            raise ValueError(
                "start_epoch must be an int >= 1 (the first re-weighted epoch) or a "
                "float in (0, 1) (the fraction of max_epochs trained without "
                f"weights); got start_epoch={start!r}."
            )
        weight = self.class_weight
        is_name = isinstance(weight, str) and weight in _CLASS_WEIGHT_NAMES
        if not (is_name or isinstance(weight, dict)):
            names = ", ".join(map(repr, _CLASS_WEIGHT_NAMES))
            raise ValueError(
                f"class_weight must be one of {names} or a dict from output index to "
                f"weight; got class_weight={weight!r}."
            )
        beta = self.beta
        if (
            isinstance(beta, bool)
            or not isinstance(beta, numbers.Real)
            or not 0 <= beta < 1
        ):
            raise ValueError(f"beta must be a float in [0, 1); got beta={beta!r}.")

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        """Resolve the start epoch and compute the class weights.

        Parameters
        ----------
        net : skorch.NeuralNet
            The net being trained; its ``class_counts_`` are used if set.
        X : array-like, default=None
            The training data (unused).
        y : array-like, default=None
            The training labels, counted when ``net`` has no ``class_counts_``.
        **kwargs
            Other arguments of skorch's hook (unused).
        """
        if not hasattr(net.criterion_, "weight"):
            raise TypeError(
                "DeferredReweighting needs a criterion with a weight attribute, such "
                "as torch.nn.CrossEntropyLoss or the losses of skimbal.losses; got "
                f"{type(net.criterion_).__name__}."
            )
        if isinstance(self.start_epoch, numbers.Integral):
            self.start_epoch_ = int(self.start_epoch)
        else:
            # The epochs this fit actually plans (CNNClassifier may raise
            # max_epochs to reach its min_steps).
            epochs = getattr(net, "n_epochs_", net.max_epochs)
            self.start_epoch_ = round(self.start_epoch * epochs) + 1
        counts = self._class_counts(net, y)
        self.class_weight_ = class_weight_from_counts(
            self.class_weight,
            classes=np.arange(len(counts)),
            class_counts=counts,
            beta=self.beta,
        )

    @staticmethod
    def _class_counts(net, y):
        counts = getattr(net, "class_counts_", None)
        if counts is not None:
            return np.asarray(counts)
        if y is None:
            raise ValueError(
                "DeferredReweighting needs the class counts: either "
                "net.class_counts_ (set by skimbal's classifier) or the labels y "
                "passed to fit; got neither."
            )
        if isinstance(y, torch.Tensor):
            y = to_numpy(y)
        return np.bincount(np.asarray(y).astype(np.int64).ravel())

    def on_epoch_begin(self, net, dataset_train=None, dataset_valid=None, **kwargs):
        """Set the criterion's weight to None or to the class weights.

        Parameters
        ----------
        net : skorch.NeuralNet
            The net being trained.
        dataset_train : Dataset, default=None
            The training data (unused).
        dataset_valid : Dataset, default=None
            The validation data (unused).
        **kwargs
            Other arguments of skorch's hook (unused).
        """
        criterion = net.criterion_
        # The net appends the current epoch to its history before the callbacks
        # run, so this is the 1-based number of the epoch about to start.
        epoch = len(net.history)
        if epoch < self.start_epoch_:
            criterion.weight = None
            return
        buffer = next(criterion.buffers(), None)
        if buffer is not None:
            device = buffer.device
        else:
            device = torch.device(net.device if net.device is not None else "cpu")
        criterion.weight = torch.as_tensor(
            self.class_weight_, dtype=torch.float32, device=device
        )
