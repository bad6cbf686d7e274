"""AutoBalance: VS-loss parameters learned on validation data (Li et al., 2021)."""

import inspect
import numbers

import numpy as np
import torch
import torch.nn.functional as F
from skorch.callbacks import Callback
from skorch.utils import to_device
from torch.utils.data import DataLoader

from ..losses._vs import _vs_loss
from ._hypergradient import neumann_hypergradient

__all__ = ["AutoBalance"]

_LEARNABLE = ("scaling", "offset", "weight")


class AutoBalance(Callback):
    """Learn the per-class parameters of the VS loss on held-out data.

    AutoBalance (Li et al., 2021) trains the network on the training split
    with the vector-scaling loss ``CE(Delta * logits + iota, y, weight)``
    (:class:`~skimbal.losses.VSLoss`) and, every ``interval`` steps after a
    warm-up, moves the per-class ``Delta`` (``"scaling"``), ``iota``
    (``"offset"``) and ``weight`` down the gradient of a *balanced*
    validation loss: cross-entropy on the raw logits of validation rows,
    each class weighted by the inverse of its validation count, as the
    authors' code does. That gradient goes through the network's weights,
    which depend on the loss parameters only through training; it is the
    authors' implicit-function approximation (see Notes).

    The callback needs validation data the network does not train on. In
    :class:`~skimbal.CNNClassifier` it asks for it: ``fit`` then holds out
    ``validation_fraction`` of the rows it receives, stratified, with
    identical rows (a sampler's copies of one sample) on one side only, as
    for early stopping. A plain skorch net needs a ``train_split``.

    Parameters
    ----------
    learn : tuple of {"scaling", "offset", "weight"}, \
            default=("scaling", "offset", "weight")
        Which per-class parameters to learn; the others keep the
        criterion's values.
    hyper_lr : float, default=0.05
        Learning rate of the loss parameters (Adam), ``>= 0``. ``0`` learns
        nothing: training is then exactly training with the VS loss on the
        training split.
    start_epoch : int or float, default=0.4
        First epoch with updates of the loss parameters. An int ``>= 1`` is
        an epoch number (1-based); a float in ``(0, 1)`` is the fraction of
        the planned epochs trained first with the initial loss, as the
        authors warm up for 120 of 300 epochs (0.4).
    interval : int, default=10
        Training steps between two updates of the loss parameters, ``>= 1``
        (the authors' code: 30).
    valid_batches : int, default=4
        Validation mini-batches (of the net's ``batch_size``) averaged in
        each update, ``>= 1`` (the authors' code: 10). They are cheap: the
        Hessian-vector products run on the training batch only.
    neumann_terms : int, default=5
        Terms of the Neumann series for the inverse Hessian, ``>= 0`` (the
        authors' code: 5).
    neumann_step : float or "auto", default="auto"
        Step ``alpha`` of that series, ``> 0``. ``"auto"`` is ``1 /
        lambda_max`` of the training loss's Hessian, estimated at each update
        by 10 steps of power iteration, so that the series converges; the
        authors' code uses 1, with which the series diverged on skimbal's
        default network (see Notes).

    Attributes
    ----------
    start_epoch_ : int
        The first epoch with updates, resolved at the start of training.
    scaling_, offset_, weight_ : ndarray of shape (n_classes,)
        The loss parameters at the end of training, also left in the
        criterion's ``scaling``, ``offset`` and ``weight`` buffers and set
        on the net as ``net.learned_loss_params_`` (a dict of the three).
    n_updates_ : int
        Updates of the loss parameters made.

    See Also
    --------
    skimbal.losses.VSLoss : The loss whose parameters are learned.
    skimbal.callbacks.DeferredReweighting : A fixed schedule instead.

    Notes
    -----
    The hypergradient is the implicit-function-theorem one of Lorraine et
    al. (2020) that the authors use:
    ``-(d2 L_train / dlam dw) H^-1 dL_valid/dw``, with the inverse Hessian
    ``H^-1`` of the training loss approximated by ``neumann_terms`` terms of
    its Neumann series (step ``neumann_step``), computed with
    Hessian-vector products on the training batch just used and on
    ``valid_batches`` validation batches. The series converges only for
    ``alpha < 2 / lambda_max``: with the authors' ``alpha = 1`` the
    hypergradient norms on the long-tailed MNIST study reached 1e6 to 1e9
    and the updates raised the validation loss they should lower; hence
    ``neumann_step="auto"``. ``Delta`` is learned as
    ``exp(d)`` and the weights as ``exp(v)`` (positive, and starting
    exactly at the criterion's values; the authors' code uses
    ``sigmoid(d)``, which cannot start at ``Delta = 1``). The weights are
    normalised away by the weighted mean of the loss, so only their ratios
    matter.

    What differs from the paper, to fit a ``fit`` call: the network is not
    retrained on all rows with the final parameters (the paper's second
    phase; do it by passing ``scaling_``, ``offset_`` and ``weight_`` as
    ``criterion__scaling`` etc. of a new fit), updates use Adam rather
    than SGD with momentum, and each update averages fewer batches. The
    extra forward passes run with the random state and the normalisation
    statistics of the network restored afterwards, so the validation rows
    never change the network but through the loss parameters.

    References
    ----------
    .. [1] M. Li, X. Zhang, C. Thrampoulidis, J. Chen, S. Oymak,
       "AutoBalance: Optimized Loss Functions for Imbalanced Data", NeurIPS
       2021. https://arxiv.org/abs/2201.01212
    .. [2] J. Lorraine, P. Vicol, D. Duvenaud, "Optimizing Millions of
       Hyperparameters by Implicit Differentiation", AISTATS 2020.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skimbal import CNNClassifier
    >>> from skimbal.callbacks import AutoBalance
    >>> X, y = load_digits(return_X_y=True)
    >>> y = (y == 3).astype(int)
    >>> clf = CNNClassifier(
    ...     input_shape=(1, 8, 8), criterion="vs", validation_fraction=0.2,
    ...     callbacks=[("autobalance", AutoBalance(interval=5))],
    ...     max_epochs=2, min_steps=20, random_state=0,
    ... ).fit(X[:300], y[:300])
    >>> sorted(clf.learned_loss_params_)
    ['offset', 'scaling', 'weight']
    >>> clf.learned_loss_params_["offset"].shape
    (2,)
    """

    #: Tells :class:`~skimbal.CNNClassifier` to hold out validation rows.
    needs_validation_data = True

    def __init__(
        self,
        learn=("scaling", "offset", "weight"),
        hyper_lr=0.05,
        start_epoch=0.4,
        interval=10,
        valid_batches=4,
        neumann_terms=5,
        neumann_step="auto",
    ):
        self.learn = learn
        self.hyper_lr = hyper_lr
        self.start_epoch = start_epoch
        self.interval = interval
        self.valid_batches = valid_batches
        self.neumann_terms = neumann_terms
        self.neumann_step = neumann_step

    # -- set-up ----------------------------------------------------------------

    def _get_param_names(self):
        # skorch takes every attribute without a trailing underscore for a
        # parameter; the private training state (``_hyper``, ...) is none.
        return [name for name in inspect.signature(type(self).__init__).parameters][1:]

    def initialize(self):
        """Check the parameters and reset the state of the callback.

        Returns
        -------
        self : AutoBalance
            The callback.
        """
        self._check_params()
        self.start_epoch_ = None
        self.n_updates_ = 0
        self._clear_training_state()
        return self

    def _check_params(self):
        learn = self.learn
        if isinstance(learn, str):
            learn = (learn,)
        if not (
            isinstance(learn, tuple | list)
            and all(isinstance(name, str) and name in _LEARNABLE for name in learn)
        ):
            raise ValueError(
                f"learn must be a tuple of names from {_LEARNABLE}; got "
                f"learn={self.learn!r}."
            )
        _check_number(self.hyper_lr, "hyper_lr", low=0.0)
        if not (isinstance(self.neumann_step, str) and self.neumann_step == "auto"):
            _check_number(self.neumann_step, "neumann_step", low=0.0, strict=True)
        for name, low in (("interval", 1), ("valid_batches", 1), ("neumann_terms", 0)):
            value = getattr(self, name)
            if not _is_int(value) or value < low:
                raise ValueError(
                    f"{name} must be an int >= {low}; got {name}={value!r}."
                )
        start = self.start_epoch
        is_fraction = (
            isinstance(start, numbers.Real) and not _is_int(start) and 0 < start < 1
        )
        if not ((_is_int(start) and start >= 1) or is_fraction):
            raise ValueError(
                "start_epoch must be an int >= 1 (the first epoch with updates) or a "
                "float in (0, 1) (the fraction of the epochs trained first); got "
                f"start_epoch={start!r}."
            )

    def _clear_training_state(self):
        # Tensors, optimizer, generator and loader iterator live only during
        # fit, so that a fitted net pickles (and clones) without them.
        self._hyper = None
        self._optimizer = None
        self._generator = None
        self._valid_loader = None
        self._valid_iter = None
        self._valid_weight = None
        self._steps = 0

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        """Read the initial loss parameters from the criterion; set up the updates.

        Parameters
        ----------
        net : skorch.NeuralNet
            The net being trained; its criterion must be a
            :class:`~skimbal.losses.VSLoss`.
        X, y : array-like, default=None
            The training data (unused).
        **kwargs
            Other arguments of skorch's hook (unused).
        """
        criterion = net.criterion_
        if not hasattr(criterion, "vs_parameters"):
            raise TypeError(
                "AutoBalance learns the per-class parameters of the VS loss; use "
                f"criterion='vs' (skimbal.losses.VSLoss), not "
                f"{type(criterion).__name__}."
            )
        if _is_int(self.start_epoch):
            self.start_epoch_ = int(self.start_epoch)
        else:
            epochs = getattr(net, "n_epochs_", net.max_epochs)
            self.start_epoch_ = round(self.start_epoch * epochs) + 1
        scaling, offset = criterion.vs_parameters()
        weight = criterion.weight
        if weight is None:
            weight = torch.ones_like(scaling)
        learn = (self.learn,) if isinstance(self.learn, str) else tuple(self.learn)
        device = scaling.device
        self._hyper = {
            "scaling": scaling.detach().float().log(),
            "offset": offset.detach().float().clone(),
            # A zero weight stays zero: exp(-inf), and no gradient moves it.
            "weight": weight.detach().float().to(device).log(),
        }
        for name, tensor in self._hyper.items():
            tensor.requires_grad_(name in learn)
        learned = [t for t in self._hyper.values() if t.requires_grad]
        self._optimizer = (
            torch.optim.Adam(learned, lr=self.hyper_lr) if learned else None
        )
        # Its own generator, seeded from torch's (seeded by the classifier's
        # random_state): the updates draw nothing from the training's stream.
        seed = int(torch.randint(2**31 - 1, ()).item())
        self._generator = torch.Generator().manual_seed(seed)
        self._steps = 0
        self.n_updates_ = 0

    def on_epoch_begin(self, net, dataset_train=None, dataset_valid=None, **kwargs):
        """Take the validation data of the fit, on its first epoch.

        Parameters
        ----------
        net : skorch.NeuralNet
            The net being trained.
        dataset_train : Dataset, default=None
            The training data (unused).
        dataset_valid : Dataset, default=None
            The held-out data the loss parameters are learned on.
        **kwargs
            Other arguments of skorch's hook (unused).
        """
        if self._valid_loader is not None:
            return
        if dataset_valid is None or len(dataset_valid) == 0:
            raise ValueError(
                "AutoBalance needs validation data the network does not train on. "
                "skimbal's CNNClassifier holds out validation_fraction of the rows "
                "by itself; a plain skorch net needs a train_split."
            )
        n_classes = len(self._hyper["offset"])
        counts = np.bincount(_labels_of(dataset_valid), minlength=n_classes)
        # The balanced validation loss: each class by the inverse of its
        # validation count (a class without validation rows cannot be scored).
        weight = np.divide(1.0, counts, out=np.zeros(n_classes), where=counts > 0)
        self._valid_weight = torch.as_tensor(weight, dtype=torch.float32)
        batch_size = net.batch_size if net.batch_size != -1 else len(dataset_valid)
        self._valid_loader = DataLoader(
            dataset_valid,
            batch_size=min(batch_size, len(dataset_valid)),
            shuffle=True,
            generator=self._generator,
        )

    # -- the updates -----------------------------------------------------------

    def on_batch_end(self, net, batch=None, training=None, **kwargs):
        """Every ``interval`` training steps after the warm-up, update the loss.

        Parameters
        ----------
        net : skorch.NeuralNet
            The net being trained.
        batch : tuple, default=None
            The training batch just used.
        training : bool, default=None
            Whether the batch was a training one.
        **kwargs
            Other arguments of skorch's hook (unused).
        """
        if not training or self._optimizer is None:
            return
        self._steps += 1
        if len(net.history) < self.start_epoch_ or self._steps % self.interval:
            return
        gradients, valid_loss = self._hypergradient(net, batch)
        # What each update saw: the objective it follows, and how hard it pushed.
        net.history.record_batch("autobalance_valid_loss", valid_loss)
        norm = float(torch.cat([g.flatten() for g in gradients]).norm())
        net.history.record_batch("autobalance_hypergradient_norm", norm)
        self._optimizer.zero_grad()
        learned = [t for t in self._hyper.values() if t.requires_grad]
        for tensor, gradient in zip(learned, gradients, strict=True):
            tensor.grad = gradient
        self._optimizer.step()
        self.n_updates_ += 1
        self._assign_to_criterion(net.criterion_)

    def _loss_parameters(self):
        hyper = self._hyper
        return hyper["scaling"].exp(), hyper["offset"], hyper["weight"].exp()

    def _hypergradient(self, net, batch):
        module = net.module_
        saved = {name: b.detach().clone() for name, b in module.named_buffers()}
        was_training = module.training
        module.train()
        device = torch.device(net.device)
        devices = [device.index or 0] if device.type == "cuda" else []
        try:
            with torch.random.fork_rng(devices=devices):
                seed = torch.randint(2**31 - 1, (), generator=self._generator)
                torch.manual_seed(int(seed))
                return self._hypergradient_on(net, batch, device)
        finally:
            # The extra forward passes must not move batch-norm statistics:
            # validation rows reach the network only through the loss.
            with torch.no_grad():
                for name, buffer in module.named_buffers():
                    buffer.copy_(saved[name])
            module.train(was_training)

    def _hypergradient_on(self, net, batch, device):
        hyper = {n: t.to(device) for n, t in self._hyper.items()}
        scaling, offset, weight = (
            hyper["scaling"].exp(),
            hyper["offset"],
            hyper["weight"].exp(),
        )
        X, y = to_device(batch, device)
        logits = net.infer(X)
        y = y.long()
        # The weighted mean of cross_entropy, written out: torch's takes no
        # gradient in its weight argument.
        per_sample = _vs_loss(logits, y, scaling, offset, None, "none")
        train_loss = (per_sample * weight[y]).sum() / weight[y].sum()
        valid_weight = self._valid_weight.to(device)
        valid_loss = 0.0
        for _ in range(self.valid_batches):
            X_valid, y_valid = to_device(self._next_valid_batch(), device)
            valid_loss = valid_loss + F.cross_entropy(
                net.infer(X_valid), y_valid.long(), weight=valid_weight
            )
        valid_loss = valid_loss / self.valid_batches
        params = [p for p in net.module_.parameters() if p.requires_grad]
        learned = [t for t in self._hyper.values() if t.requires_grad]
        gradients = neumann_hypergradient(
            train_loss,
            valid_loss,
            params,
            [hyper[n] for n, t in self._hyper.items() if t.requires_grad],
            n_terms=self.neumann_terms,
            step=self.neumann_step,
        )
        gradients = [g.to(t.device) for g, t in zip(gradients, learned, strict=True)]
        return gradients, float(valid_loss.detach())

    def _next_valid_batch(self):
        if self._valid_iter is not None:
            batch = next(self._valid_iter, None)
            if batch is not None:
                return batch
        self._valid_iter = iter(self._valid_loader)
        return next(self._valid_iter)

    def _assign_to_criterion(self, criterion):
        # Assigned buffers are checked once here, never per batch.
        scaling, offset, weight = (t.detach() for t in self._loss_parameters())
        device = next(criterion.buffers()).device
        criterion.scaling = scaling.to(device)
        criterion.offset = offset.to(device)
        if self._hyper["weight"].requires_grad or criterion.weight is not None:
            criterion.weight = weight.to(device)

    # -- results ---------------------------------------------------------------

    def on_epoch_end(self, net, **kwargs):
        """Record the current loss parameters in the net's history.

        Parameters
        ----------
        net : skorch.NeuralNet
            The net being trained.
        **kwargs
            Other arguments of skorch's hook (unused).
        """
        for name, values in zip(_LEARNABLE, self._loss_parameters(), strict=True):
            net.history.record(f"autobalance_{name}", values.detach().cpu().tolist())

    def on_train_end(self, net, X=None, y=None, **kwargs):
        """Keep the learned parameters; drop what only training needs.

        Parameters
        ----------
        net : skorch.NeuralNet
            The trained net; gets ``learned_loss_params_``.
        X, y : array-like, default=None
            The training data (unused).
        **kwargs
            Other arguments of skorch's hook (unused).
        """
        values = [t.detach().cpu().numpy().copy() for t in self._loss_parameters()]
        self.scaling_, self.offset_, self.weight_ = values
        net.learned_loss_params_ = dict(zip(_LEARNABLE, values, strict=True))
        self._clear_training_state()


def _is_int(value):
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _check_number(value, name, *, low, strict=False):
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool)
    if ok:
        ok = np.isfinite(value) and (value > low if strict else value >= low)
    if not ok:
        bound = f"> {low}" if strict else f">= {low}"
        raise ValueError(
            f"{name} must be a finite number {bound}; got {name}={value!r}."
        )


def _labels_of(dataset):
    """Integer labels of a dataset, without decoding its inputs where possible."""
    labels = getattr(dataset, "labels", None)  # skimbal's PreparedDataset
    if labels is None:
        labels = getattr(dataset, "y", None)  # skorch's Dataset
    if labels is None:
        loader = DataLoader(dataset, batch_size=256)
        labels = [int(value) for _, batch_y in loader for value in batch_y]
    labels = labels.cpu().numpy() if isinstance(labels, torch.Tensor) else labels
    return np.asarray(labels).astype(np.int64).ravel()
