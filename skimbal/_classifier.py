"""CNNClassifier: a skorch network that is a complete scikit-learn classifier.

The class holds the scikit-learn contract and skorch's hooks. What it does to
its input lives in functions of one idea each: validation in
:mod:`skimbal._input` (paths: :mod:`skimbal._images`), datasets in
:mod:`skimbal._data`, label encoding in :mod:`skimbal._labels`, and what the
``module`` and ``criterion`` parameters name in :mod:`skimbal.models._resolve`
and :mod:`skimbal.losses._resolve`.
"""

import contextlib
import inspect
import math
import numbers
import warnings

import numpy as np
import torch
from sklearn.base import ClassifierMixin
from skorch import NeuralNet
from skorch.callbacks import EarlyStopping
from skorch.dataset import Dataset as SkorchDataset
from skorch.utils import to_tensor
from torch.utils.data import DataLoader

from ._class_weight import class_weight_from_counts
from ._data import (
    PreparedDataset,
    as_prepared,
    class_balanced_sampler,
    infer_image_shape,
    split_keeping_copies_together,
    to_dataset,
)
from ._feature_cache import (
    FeatureRows,
    FeatureTable,
    active_feature_tables,
    cached_feature_table,
    row_keys,
)
from ._images import as_path_column, path_image_shape
from ._input import (
    check_input_shape,
    validate_fitted_input,
    validate_input,
    warn_if_rows_look_like_images,
)
from ._labels import check_classes, classes_for_partial_fit, encode_labels, learn_labels
from ._seeding import seeded_torch
from ._sklearn_private import (
    Interval,
    Options,
    StrOptions,
    validate_parameter_constraints,
)
from .losses._resolve import resolve_criterion
from .models._frozen import (
    NotCacheableError,
    body_fingerprint,
    head_inputs,
    split_frozen_head,
)
from .models._resolve import default_image_size, input_normalization, resolve_module

__all__ = ["CNNClassifier"]

# skorch >= 1.4 routes metadata (scikit-learn's enable_metadata_routing) by
# the public method that was called, and NeuralNet.fit tells its partial_fit
# so with this keyword; older skorch, which does not route, does not take it.
_ROUTE_AS_FIT = (
    {"_routing_method": "fit"}
    if "_routing_method" in inspect.signature(NeuralNet.fit_loop).parameters
    else {}
)


def _is_true(value):
    return isinstance(value, bool | np.bool_) and bool(value)


def _pad_rows(X_batch, n_rows):
    """``X_batch`` with zero rows appended up to ``n_rows`` rows."""
    if len(X_batch) >= n_rows:
        return X_batch
    padding = X_batch.new_zeros((n_rows - len(X_batch), *X_batch.shape[1:]))
    return torch.cat([X_batch, padding])


def _table_for(fingerprint):
    """The innermost shared feature table for ``fingerprint``, or ``None``."""
    for table in reversed(active_feature_tables()):
        if table.fingerprint == fingerprint:
            return table
    return None


def _softmax(logits):
    # float64 so that probability rows sum to 1 to ~1e-15, not float32's 1e-7.
    return torch.softmax(logits.double(), dim=1)


class CNNClassifier(ClassifierMixin, NeuralNet):
    """Convolutional network classifier with scikit-learn's full contract.

    A :class:`skorch.NeuralNet` that behaves like any scikit-learn
    classifier inside ``Pipeline``, ``GridSearchCV`` and ``cross_val_score``:
    it encodes labels itself (ints, strings, any order), validates its input
    and parameters before training, turns flat pixel rows into images, computes
    class weights from the labels it is fitted on, and is reproducible with
    ``random_state``.

    Parameters
    ----------
    module : str, nn.Module subclass or instance, default="simple_cnn"
        The network. ``"simple_cnn"`` is :class:`~skimbal.models.SimpleCNN`;
        ``"linear"`` and ``"mlp"`` are heads for rows of feature vectors
        (:class:`~skimbal.models.LinearHead`, :class:`~skimbal.models.MLPHead`,
        e.g. after :class:`~skimbal.BackboneFeatures`); the
        name of any torchvision classification model (``"resnet18"``,
        ``"vgg16"``, ...) builds that backbone with a new head. A class gets
        ``in_channels``, ``num_classes`` and ``in_features`` (``C*H*W``) from
        the data when its ``__init__`` takes them; set other arguments as
        ``module__<name>``. The network must return logits of shape
        ``(n_samples, n_classes)``.
    input_shape : tuple of int or None, default=None
        ``(C, H, W)`` of one image when X holds flattened pixel rows of width
        ``C*H*W``. ``None`` treats a row of ``D`` features as a ``1 x 1 x D``
        image (so any tabular X works), and takes 4-D X ``(n, C, H, W)`` as is;
        ``fit`` then warns when ``D`` is ``s * s`` or ``3 * s * s`` with
        ``s >= 4``, likely a flattened image (silence it with
        ``input_shape=(1, 1, D)``).
        With image paths it is the shape images are converted to.
    image_size : int, (int, int) or None, default=None
        Height and width that images read from paths are resized to. ``None``
        means 224 for torchvision backbones and 64 for ``"simple_cnn"``
        (unless ``input_shape`` says otherwise). Such images get 3 channels
        (RGB) unless ``input_shape`` or ``module__in_channels`` asks for 1.
    classes : array-like of shape (n_classes,) or None, default=None
        All class labels, when known before ``fit``. ``fit`` then takes
        ``classes_`` from it rather than from y (y's labels must be among
        them; a class without samples is treated as in ``partial_fit``).
        With ``input_shape`` it also lets :meth:`initialize` build the
        network without data, to load weights saved with ``save_params``
        (see Notes).
    augment : bool or callable, default=False
        Random changes of the training images, drawn anew every epoch (never
        at predict, nor on validation data). ``True``
        gives, for images read from paths, random resized crops (80-100 % of
        the area) and horizontal flips; for pixel arrays, a mild random
        affine map (up to 10 degrees, 10 % shift, 10 % zoom; no mirroring, as
        pixel arrays are often digits or letters). A callable, such as a
        ``torchvision.transforms.v2`` transform, is applied to each float32
        ``(C, H, W)`` training tensor instead (for paths: before a
        backbone's normalisation).
    criterion : str, nn.Module subclass or instance, default="cross_entropy"
        Loss on logits. Aliases: ``"cross_entropy"``, ``"focal"``,
        ``"logit_adjusted"``, ``"balanced_softmax"``, ``"ldam"`` (see
        :mod:`skimbal.losses`). Set its arguments as ``criterion__<name>``
        (e.g. ``criterion__gamma=2.0``). At ``fit`` it receives
        ``weight=class_weight_`` and, when its ``__init__`` takes it,
        ``class_counts=class_counts_``, in which a class without samples
        (see ``partial_fit``) counts as 1 so that its log-prior stays finite.
    class_weight : {"balanced", "effective_number"}, dict or None, default=None
        Per-class loss weights, computed at ``fit`` from the labels ``fit``
        receives (inside an imbalanced-learn pipeline: after its sampler, per
        fold). ``"balanced"`` is ``n_samples / (n_classes * n_c)`` (scikit-
        learn's :func:`~sklearn.utils.class_weight.compute_class_weight`);
        ``"effective_number"`` is Cui et al.'s ``(1 - beta) / (1 - beta**n_c)``
        with ``beta=class_weight_beta``; a dict maps labels to weights. With
        either formula a class without samples (see ``partial_fit``) gets the
        largest weight of the others.
    class_weight_beta : float, default=0.999
        ``beta`` of ``class_weight="effective_number"``, in ``[0, 1)``.
    optimizer : torch optimizer class, default=torch.optim.Adam
        Set its arguments as ``optimizer__<name>``.
    lr : float, default=0.001
        Learning rate.
    max_epochs : int, default=10
        Number of passes over the training data, unless that gives fewer
        than ``min_steps`` optimisation steps.
    min_steps : int, default=200
        Fewest optimisation steps (mini-batches) that ``fit`` trains for: it
        runs ``max(max_epochs, ceil(min_steps / batches_per_epoch))`` epochs
        (recorded in ``n_epochs_``). Ten epochs over 100 images in batches
        of 64 are only 20 steps, after which a network still predicts the
        majority class everywhere although it may already rank the rare
        class well; on 5,000 images ten epochs are 790 steps and nothing
        changes. ``0`` trains exactly ``max_epochs`` epochs.
        ``partial_fit`` always trains ``max_epochs`` epochs.
    batch_size : int, default=64
        Mini-batch size for training and prediction (``-1``: all samples).
    balanced_batches : bool, default=False
        Draw training batches with a class-balanced sampler (with
        replacement): every epoch sees each class equally often, with fresh
        minority repeats, and X is never copied.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the training data and stop when
        the validation loss has not improved for ``n_iter_no_change`` epochs,
        restoring the best weights. Identical rows (e.g. a sampler's copies of
        one minority sample) always land on the same side of the split.
    validation_fraction : float, default=0.1
        Share of training samples held out for early stopping, or for a
        callback that learns on validation data
        (:class:`~skimbal.callbacks.AutoBalance`), in (0, 0.5]; split as for
        early stopping.
    n_iter_no_change : int, default=5
        Patience of early stopping, in epochs.
    iterator_train, iterator_valid : DataLoader class, default=DataLoader
        Training batches are shuffled unless ``iterator_train__shuffle=False``;
        ``iterator_train__num_workers`` loads batches in parallel.
    dataset : torch Dataset class, default=skorch.dataset.Dataset
        Only used when a custom ``train_split`` creates validation data.
    train_split : callable or None, default=None
        skorch's internal validation split. Off by default: inside a pipeline
        it would be taken after the sampler, so oversampled copies of training
        rows would land in the validation set. It is called with the encoded
        labels as ``y``, so ``ValidSplit(5, stratified=True)`` works; the
        validation part is never augmented.
    callbacks : list of (name, callback) or None, default=None
        Extra skorch callbacks.
    warm_start : bool, default=False
        Whether ``fit`` continues from the current weights.
    verbose : int, default=0
        ``1`` prints skorch's table of epoch losses.
    device : str, torch.device or None, default="auto"
        ``"auto"`` picks CUDA when available, else CPU, at ``fit`` time on the
        machine that trains.
    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, shuffling and dropout, so the same value
        gives the same predictions on CPU. The global torch random state is
        left as it was.
    compile : bool, default=False
        Whether to ``torch.compile`` the module.
    mixed_precision : bool, default=False
        Run the network's forward passes (training and prediction) under
        ``torch.autocast`` with ``bfloat16``, the usual way to speed up
        training on recent GPUs. The logits are cast back to float32 before
        the loss and the softmax, and the weights stay float32, so no
        gradient scaling is needed. Works on CPU too, where it is rarely
        faster.
    feature_cache : bool or "auto", default="auto"
        Whether a network whose only trainable layers form a final head
        (a frozen body: ``module="resnet18", module__freeze=True``, or any
        network frozen by hand) trains that head on the body's outputs,
        computed once per distinct training image, rather than running the
        whole network on every image in every epoch. The result is the
        same, to float precision: the frozen body is a fixed function of
        the image as long as nothing in it acts differently in training
        (BatchNorm statistics, which ``freeze`` keeps fixed; dropout;
        stochastic depth), which is checked. ``"auto"`` does it whenever
        it can; with ``augment`` on it cannot (the images change every
        epoch) and warns, naming the path taken. ``True`` raises instead
        of falling back; ``False`` never caches (and never warns).
        Prediction always runs the whole network, except inside
        :func:`~skimbal.model_selection.compare_strategies`, which computes
        the features of its data set once and shares them with every fit
        (see ``features_cached_``).
    use_caching : bool or "auto", default="auto"
        skorch's caching of validation predictions for scoring callbacks.
    torch_load_kwargs : dict or None, default=None
        Passed to ``torch.load`` when unpickling (``weights_only=True`` by
        default).
    **kwargs
        skorch-style nested parameters: ``module__*``, ``criterion__*``,
        ``optimizer__*``, ``iterator_train__*``, ``iterator_valid__*``,
        ``callbacks__*``.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The labels seen at ``fit`` (or given as ``classes``), sorted;
        ``predict`` returns these.
    class_counts_ : ndarray of shape (n_classes,) or None
        Number of training samples per class in the y ``fit`` received
        (0 for a class named only in ``classes``); ``None`` after
        :meth:`initialize` without data, until ``partial_fit`` sees labels.
    class_weight_ : ndarray of shape (n_classes,) or None
        The weights handed to the criterion (without data: computed as if
        the classes were equally frequent).
    n_features_in_ : int
        Number of features (flattened pixels) per sample.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Column names, when X is a DataFrame with string column names.
    input_shape_ : tuple of int
        ``(C, H, W)`` of one image as the network sees it.
    features_cached_ : bool
        Whether the last ``fit`` trained the head on cached features of a
        frozen body (see ``feature_cache``) rather than the whole network.
    n_epochs_ : int
        Epochs the last ``fit`` was planned to train (see ``min_steps``);
        early stopping may end it sooner (see ``history_``).
    module_, criterion_, optimizer_ : torch objects
        The initialised network, loss and optimizer.
    history_ : skorch.History
        Per-epoch and per-batch training records.

    See Also
    --------
    skimbal.losses.FocalLoss : Focal loss for hard, rare examples.
    skimbal.models.SimpleCNN : The default network.

    Notes
    -----
    ``predict_proba`` is always the softmax of the network's logits, whatever
    the criterion (skorch would return raw logits for any loss other than
    ``CrossEntropyLoss``).

    A fitted classifier pickles whole (``pickle``, ``joblib``). skorch's
    route saves the weights alone: ``clf.save_params(f_params=path)``, then a
    new classifier with the same parameters builds its network with
    :meth:`initialize` and reads them with ``load_params(f_params=path)``.
    Without data, :meth:`initialize` needs the ``classes`` and the
    ``input_shape`` that ``fit`` would learn, and expects pixel input of that
    shape (``n_features_in_ = C*H*W``).

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skimbal import CNNClassifier
    >>> X, y = load_digits(return_X_y=True)
    >>> y = (y == 3).astype(int)            # rare positive class: the digit 3
    >>> clf = CNNClassifier(input_shape=(1, 8, 8), class_weight="balanced",
    ...                     max_epochs=3, random_state=0).fit(X[:400], y[:400])
    >>> clf.classes_
    array([0, 1])
    >>> clf.class_counts_
    array([358,  42])
    >>> clf.class_weight_
    array([0.5586..., 4.7619...])
    >>> clf.predict_proba(X[400:403]).sum(axis=1)
    array([1., 1., 1.])

    Save the weights, and load them into a new classifier:

    >>> import os, tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = os.path.join(tmp, "weights.pt")
    ...     clf.save_params(f_params=path)
    ...     new = CNNClassifier(input_shape=(1, 8, 8), class_weight="balanced",
    ...                         classes=[0, 1]).initialize()
    ...     new.load_params(f_params=path)
    >>> bool((new.predict_proba(X[400:]) == clf.predict_proba(X[400:])).all())
    True
    """

    _parameter_constraints: dict = {
        "module": [str, type, torch.nn.Module],
        "input_shape": [tuple, list, None],
        "image_size": [Interval(numbers.Integral, 1, None, closed="left"), tuple, None],
        "classes": ["array-like", None],
        "augment": ["boolean", callable],
        "criterion": [str, type, torch.nn.Module],
        "class_weight": [StrOptions({"balanced", "effective_number"}), dict, None],
        "class_weight_beta": [Interval(numbers.Real, 0, 1, closed="left")],
        "optimizer": [type, callable],
        "lr": [Interval(numbers.Real, 0, None, closed="neither")],
        "max_epochs": [Interval(numbers.Integral, 0, None, closed="left")],
        "min_steps": [Interval(numbers.Integral, 0, None, closed="left")],
        "batch_size": [
            Interval(numbers.Integral, 1, None, closed="left"),
            Options(numbers.Integral, {-1}),
        ],
        "balanced_batches": ["boolean"],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(numbers.Real, 0, 0.5, closed="right")],
        "n_iter_no_change": [Interval(numbers.Integral, 1, None, closed="left")],
        "iterator_train": [callable],
        "iterator_valid": [callable],
        "dataset": [callable],
        "train_split": [callable, None],
        "callbacks": [list, StrOptions({"disable"}), None],
        "warm_start": ["boolean"],
        "verbose": ["verbose"],
        "device": [str, torch.device, None],
        "random_state": ["random_state"],
        "compile": ["boolean"],
        "mixed_precision": ["boolean"],
        "feature_cache": ["boolean", StrOptions({"auto"})],
        "use_caching": ["boolean", StrOptions({"auto"})],
        "torch_load_kwargs": [dict, None],
    }

    def __init__(
        self,
        module="simple_cnn",
        *,
        input_shape=None,
        image_size=None,
        classes=None,
        augment=False,
        criterion="cross_entropy",
        class_weight=None,
        class_weight_beta=0.999,
        optimizer=torch.optim.Adam,
        lr=0.001,
        max_epochs=10,
        min_steps=200,
        batch_size=64,
        balanced_batches=False,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=5,
        iterator_train=DataLoader,
        iterator_valid=DataLoader,
        dataset=SkorchDataset,
        train_split=None,
        callbacks=None,
        warm_start=False,
        verbose=0,
        device="auto",
        random_state=None,
        compile=False,
        mixed_precision=False,
        feature_cache="auto",
        use_caching="auto",
        torch_load_kwargs=None,
        **kwargs,
    ):
        super().__init__(
            module,
            criterion=criterion,
            optimizer=optimizer,
            lr=lr,
            max_epochs=max_epochs,
            batch_size=batch_size,
            iterator_train=iterator_train,
            iterator_valid=iterator_valid,
            dataset=dataset,
            train_split=train_split,
            callbacks=callbacks,
            # Fixed by design, so not a parameter (see _get_param_names):
            # softmax is the only link from logits to probabilities.
            predict_nonlinearity=_softmax,
            warm_start=warm_start,
            verbose=verbose,
            device=device,
            compile=compile,
            use_caching=use_caching,
            torch_load_kwargs=torch_load_kwargs,
            **kwargs,
        )
        self.classes = classes
        self.input_shape = input_shape
        self.image_size = image_size
        self.augment = augment
        self.class_weight = class_weight
        self.class_weight_beta = class_weight_beta
        self.min_steps = min_steps
        self.balanced_batches = balanced_batches
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.random_state = random_state
        self.mixed_precision = mixed_precision
        self.feature_cache = feature_cache

    # -- skorch state kept out of the instance __dict__ -----------------------
    # scikit-learn requires __init__ to set nothing but parameters; skorch sets
    # history_, initialized_ and virtual_params_ there. These properties keep
    # them as private entries while skorch reads and writes them as usual.

    @property
    def history_(self):
        return self.__dict__.get("_history")

    @history_.setter
    def history_(self, value):
        self.__dict__["_history"] = value

    @property
    def initialized_(self):
        # Missing until skorch's __init__ sets it, as on a plain skorch net:
        # skorch's __setattr__ lets __init__ store torch modules (a criterion
        # or module instance) only while hasattr(net, "initialized_") is False.
        try:
            return self.__dict__["_initialized"]
        except KeyError:
            raise AttributeError("initialized_") from None

    @initialized_.setter
    def initialized_(self, value):
        self.__dict__["_initialized"] = value

    @property
    def virtual_params_(self):
        return self.__dict__.setdefault("_virtual_params", {})

    @virtual_params_.setter
    def virtual_params_(self, value):
        self.__dict__["_virtual_params"] = value

    # "auto" must stay "auto" in get_params (a clone sent to another machine
    # resolves it there), while skorch's internals need a real device.
    @property
    def device(self):
        device = self.__dict__.get("_device", "auto")
        if isinstance(device, str) and device == "auto":
            return "cuda" if torch.cuda.is_available() else "cpu"
        return device

    @device.setter
    def device(self, value):
        self.__dict__["_device"] = value

    def __setattr__(self, name, value):
        # A torchvision v2 transform is an nn.Module, which skorch would take
        # for a network component and refuse outside initialize_*. augment is
        # a plain parameter: the datasets apply it, the net never trains it.
        if name == "augment":
            object.__setattr__(self, name, value)
            return
        super().__setattr__(name, value)

    def _get_param_names(self):
        signature = inspect.signature(type(self).__init__)
        explicit = [
            name
            for name, p in signature.parameters.items()
            if name != "self" and p.kind is not p.VAR_KEYWORD
        ]
        # Plus what came in through **kwargs (module__*, criterion__*, ...),
        # which skorch keeps in __dict__. Not predict_nonlinearity: skorch's
        # setting, which __init__ fixes to softmax.
        extra = [
            key
            for key in self.__dict__
            if not key.startswith("_")
            and not key.endswith("_")
            and key not in explicit
            and key != "predict_nonlinearity"
        ]
        return sorted(explicit + extra)

    def get_params(self, deep=True, **kwargs):
        params = super().get_params(deep=deep, **kwargs)
        params["device"] = self.__dict__.get("_device", "auto")
        return params

    def __getstate__(self):
        state = super().__getstate__()
        state["device"] = self.device  # skorch maps tensors with it on load
        return state

    def __setstate__(self, state):
        # Pickles from before CNNClassifier was based on NeuralNet (wave 2)
        # kept classes_ in _classes and no predict_nonlinearity.
        if "_classes" in state:
            state.setdefault("classes_", state.pop("_classes"))
        state.setdefault("predict_nonlinearity", _softmax)
        super().__setstate__(state)
        # skorch moved "device" into __dict__ (falling back to CPU when CUDA is
        # gone); the parameter itself lives in _device.
        loaded_on = self.__dict__.pop("device")
        if not (isinstance(self._device, str) and self._device == "auto"):
            self._device = loaded_on

    def set_params(self, **params):
        # skorch rebuilds callbacks_ from a new `callbacks` list at once; like
        # any scikit-learn parameter it is only stored here and checked at fit.
        if "callbacks" in params:
            self.callbacks = params.pop("callbacks")
            if self.initialized_:
                self._initialize_callbacks()
        return super().set_params(**params)

    @property
    def _default_callbacks(self):
        # NeuralNet's: epoch timer, train and validation loss, print log.
        # (skorch's NeuralNetClassifier adds accuracy, which is not what
        # imbalanced problems should watch.) skorch runs PrintLog last.
        callbacks = super()._default_callbacks
        if self._early_stopping_on():
            stopper = EarlyStopping(
                monitor="valid_loss", patience=self.n_iter_no_change, load_best=True
            )
            callbacks.append(("early_stopping", stopper))
        return callbacks

    def _early_stopping_on(self):
        # Only a real boolean counts (np.True_ included): parameters are
        # validated at fit, and get_params builds the callbacks before that.
        early_stopping = self.early_stopping
        return isinstance(early_stopping, bool | np.bool_) and bool(early_stopping)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        tags.non_deterministic = False
        return tags

    # -- the scikit-learn API --------------------------------------------------

    def fit(self, X, y, **fit_params):
        """Validate X and y, then initialise and train the network.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features), (n_samples, C, H, W) \
or (n_samples, 1)
            Flattened pixel rows (reshaped with ``input_shape``; ``uint8`` is
            scaled to [0, 1]), any numeric rows, 4-D images, or one column of
            image file paths (a DataFrame or object array; a list, Series or
            1-D array of paths is taken as that column), decoded lazily per
            batch. A single path is one sample: wrap it in a list.
        y : array-like of shape (n_samples,)
            Class labels of any type scikit-learn accepts.
        **fit_params : dict
            Passed to skorch's ``fit`` (and on to the module's ``forward``).

        Returns
        -------
        self : CNNClassifier
            The fitted classifier.
        """
        dataset = self._prepare_fit_data(X, y, self.classes)
        self.n_epochs_ = self._planned_epochs(len(dataset))
        fit_params.setdefault("epochs", self.n_epochs_)
        with seeded_torch(self.random_state, self.device):
            # What NeuralNet.fit does, except that it would hand the prepared
            # dataset to self.partial_fit, which takes raw X and validates it.
            if not self.warm_start or not self.initialized_:
                self.initialize()
            return super().partial_fit(dataset, None, **_ROUTE_AS_FIT, **fit_params)

    def partial_fit(self, X, y=None, classes=None, **fit_params):
        """Train for ``max_epochs`` more epochs without re-initialising.

        The first call sets the classes (from ``classes``, the argument or
        the parameter, when given, else from ``y``), the class statistics and
        the input shape; later calls must use the same features and labels
        among ``classes_``. After :meth:`initialize` without data, the first
        call only computes the class statistics from its ``y``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features), (n_samples, C, H, W) \
or (n_samples, 1)
            Training input, in the same form as at the first call.
        y : array-like of shape (n_samples,)
            Class labels.
        classes : array-like of shape (n_classes,), default=None
            All labels that will ever appear; needed on the first call when
            ``y`` does not contain every class. A class absent from that
            first ``y`` gets, with ``class_weight="balanced"`` or
            ``"effective_number"``, the largest weight of the other classes
            (it is the rarest so far, and ``n_c = 0`` would give an infinite
            weight), and counts as 1 sample for criteria that take
            ``class_counts`` (logit-adjusted, balanced softmax, LDAM), so
            that the loss stays finite. ``class_counts_`` keeps the 0.
        **fit_params : dict
            Passed to skorch's ``partial_fit``.

        Returns
        -------
        self : CNNClassifier
            The updated classifier.
        """
        first_call = not (self.initialized_ and "classes_" in self.__dict__)
        self.n_epochs_ = self.max_epochs
        if first_call:
            classes = classes_for_partial_fit(classes, self.classes)
            dataset = self._prepare_fit_data(X, y, classes)
        else:
            dataset = self._prepare_next_partial_fit(X, y)
        with seeded_torch(self.random_state, self.device):
            return super().partial_fit(dataset, None, **fit_params)

    def predict_proba(self, X):
        """Class probabilities: the softmax of the network's logits.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features), (n_samples, C, H, W) \
or (n_samples, 1)
            Input of the kind used at ``fit`` (pixels or paths; paths may
            come as a column, a list, a Series or a 1-D array).

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Rows sum to 1; columns follow ``classes_``.
        """
        X = validate_fitted_input(self, X)
        dataset = self._to_dataset(X, None, training=False)
        shared = self._shared_features(dataset)
        if shared is None:
            return super().predict_proba(dataset)
        features, split = shared
        with self._head_only(split):
            return super().predict_proba(features)

    def predict(self, X):
        """Most probable class label for each sample.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features), (n_samples, C, H, W) \
or (n_samples, 1)
            Input of the kind used at ``fit`` (pixels or paths; paths may
            come as a column, a list, a Series or a 1-D array).

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            Labels from ``classes_``.
        """
        proba = self.predict_proba(X)
        return self.classes_[proba.argmax(axis=1)]

    # -- what fit learns from the data -----------------------------------------

    def _check_params(self):
        """Validate constructor parameters before any training starts."""
        validate_parameter_constraints(
            self._parameter_constraints,
            self.get_params(deep=False),
            caller_name=type(self).__name__,
        )
        check_input_shape(self.input_shape)
        device = self.__dict__.get("_device", "auto")
        if (
            device is not None
            and str(device).startswith("cuda")
            and not torch.cuda.is_available()
        ):
            raise ValueError(
                f"device={device!r} but no CUDA GPU is available "
                "(torch.cuda.is_available() is False); use device='auto' or 'cpu'."
            )
        # Unknown names fail here, with suggestions, rather than in initialize.
        resolve_criterion(self.criterion)
        resolve_module(self.module)

    def _prepare_fit_data(self, X, y, classes=None):
        """Validate X and y, learn classes and input shape; return the data."""
        self._check_params()
        X, y = validate_input(self, as_path_column(X), y, reset=True)
        self.classes_, y_encoded = learn_labels(
            y, classes, estimator_name=type(self).__name__
        )
        self._set_class_statistics(np.bincount(y_encoded, minlength=len(self.classes_)))
        self._learn_input_shape(X)
        if (
            self.input_kind_ == "pixels"
            and X.ndim == 2
            and self.input_shape is None
            and not getattr(
                resolve_module(self.module)[0], "takes_feature_vectors", False
            )
        ):
            # 3: shown at the line of the user's code that called fit.
            warn_if_rows_look_like_images(X.shape[1], stacklevel=3)
        return self._to_dataset(X, y_encoded, training=True)

    def _learn_input_shape(self, X):
        """Set ``input_kind_`` and ``input_shape_`` from validated X."""
        self.input_kind_ = "paths" if X.dtype == object else "pixels"
        if self.input_kind_ == "paths":
            self.input_shape_ = path_image_shape(
                self.input_shape,
                self.image_size,
                in_channels=self.get_params_for("module").get("in_channels", 3),
                default_size=default_image_size(self.module),
            )
        else:
            self.input_shape_ = infer_image_shape(X, self.input_shape)

    def _prepare_next_partial_fit(self, X, y):
        """Validate a later ``partial_fit``'s X and y; return the data."""
        X = validate_fitted_input(self, X)
        y = np.asarray(y)
        if y.shape != (len(X),):
            raise ValueError(
                f"y must have shape ({len(X)},) to match X; got {y.shape}."
            )
        y_encoded = encode_labels(y, self.classes_)
        if self.class_counts_ is None:
            # Initialised without data: the first labels give the statistics.
            self._set_class_statistics(
                np.bincount(y_encoded, minlength=len(self.classes_))
            )
            self._initialize_criterion()
        return self._to_dataset(X, y_encoded, training=True)

    def _set_class_statistics(self, class_counts):
        """Set ``class_counts_`` and ``class_weight_``; ``None`` counts: unknown."""
        self.class_counts_ = class_counts
        if class_counts is None:  # weights as if the classes were equally frequent
            class_counts = np.ones(len(self.classes_), dtype=np.int64)
        self.class_weight_ = class_weight_from_counts(
            self.class_weight,
            self.classes_,
            class_counts,
            beta=self.class_weight_beta,
        )

    def _to_dataset(self, X, y_encoded, *, training):
        """Validated X as a dataset, augmented only for training."""
        return to_dataset(
            X,
            y_encoded,
            image_shape=self.input_shape_,
            augment=self.augment if training else False,
            normalization=self._normalization(),
        )

    def _normalization(self):
        """Per-channel ``(mean, std)`` of images read from paths, or ``None``."""
        if self.input_kind_ != "paths":
            return None
        # Pretrained backbones expect their training data's statistics.
        weights = self.get_params_for("module").get("weights")
        return input_normalization(
            self.module, weights, in_channels=self.input_shape_[0]
        )

    def _planned_epochs(self, n_samples):
        """``max_epochs``, raised so that training takes ``min_steps`` steps."""
        n_train = n_samples
        if self._holds_out_validation():
            n_train = n_samples - math.ceil(self.validation_fraction * n_samples)
        batch_size = n_train if self.batch_size == -1 else self.batch_size
        batches_per_epoch = max(1, math.ceil(n_train / max(1, batch_size)))
        return max(self.max_epochs, math.ceil(self.min_steps / batches_per_epoch))

    # -- skorch hooks ----------------------------------------------------------

    def initialize(self):
        """Initialise the network, loss and optimizer.

        ``fit`` calls this with what it learned from X and y. Called by hand,
        e.g. before ``load_params``, it keeps what an earlier ``fit``
        learned; without one, it takes ``classes_`` from the ``classes``
        parameter and the input from ``input_shape`` (pixel rows of
        ``C*H*W`` features or ``(n, C, H, W)`` arrays), and the class
        statistics are unknown (``class_counts_`` is ``None``) until
        ``partial_fit`` sees labels.

        Returns
        -------
        self : CNNClassifier
            The initialised classifier.

        Raises
        ------
        ValueError
            If there is no earlier fit and ``classes`` or ``input_shape`` is
            ``None``.
        """
        if "classes_" in self.__dict__:  # set by fit (or an earlier call)
            return super().initialize()
        self._learn_from_parameters()
        with seeded_torch(self.random_state, self.device):
            return super().initialize()

    def _learn_from_parameters(self):
        """Set what ``fit`` would learn from data from the parameters instead."""
        self._check_params()
        missing = [
            name for name in ("classes", "input_shape") if getattr(self, name) is None
        ]
        if missing:
            raise ValueError(
                f"{type(self).__name__}.initialize() without a fit needs "
                f"{' and '.join(missing)} to build the network (the labels and the "
                "(C, H, W) shape of one image that fit would learn from y and X); "
                f"got classes={self.classes!r}, input_shape={self.input_shape!r}. "
                "Pass them, or call fit."
            )
        self.classes_ = check_classes(self.classes)
        self._set_class_statistics(None)
        self.input_kind_ = "pixels"
        self.input_shape_ = tuple(int(s) for s in self.input_shape)
        self.n_features_in_ = int(np.prod(self.input_shape_))

    def initialize_module(self):
        module_cls, kwargs = resolve_module(self.module)
        if isinstance(self.module, torch.nn.Module):
            self.module_ = self.initialized_instance(
                self.module, self.get_params_for("module")
            )
            return self
        accepted = inspect.signature(module_cls).parameters
        if "in_channels" in accepted:
            kwargs["in_channels"] = self.input_shape_[0]
        if "num_classes" in accepted:
            kwargs["num_classes"] = len(self.classes_)
        if "in_features" in accepted:
            kwargs["in_features"] = math.prod(self.input_shape_)
        kwargs.update(self.get_params_for("module"))
        self.module_ = module_cls(**kwargs)
        return self

    def initialize_criterion(self):
        criterion_cls = resolve_criterion(self.criterion)
        kwargs = self.get_params_for("criterion")
        if isinstance(self.criterion, torch.nn.Module):
            if self.class_weight_ is not None:
                raise ValueError(
                    "class_weight cannot be applied to a criterion instance; pass "
                    f"its class ({type(self.criterion).__name__}) instead."
                )
            self.criterion_ = self.initialized_instance(self.criterion, kwargs)
            return self
        accepted = inspect.signature(criterion_cls).parameters
        if self.class_weight_ is not None and "weight" not in kwargs:
            if "weight" not in accepted:
                raise ValueError(
                    f"criterion {criterion_cls.__name__} takes no 'weight' argument, "
                    f"so class_weight={self.class_weight!r} cannot be applied; use "
                    "class_weight=None or a criterion with a weight argument."
                )
            kwargs["weight"] = torch.as_tensor(self.class_weight_, dtype=torch.float32)
        if "class_counts" in accepted and "class_counts" not in kwargs:
            # A class without samples (partial_fit's classes) counts as 1: the
            # smallest count that keeps log-priors and margins finite.
            counts = self.class_counts_
            counts = np.ones(len(self.classes_)) if counts is None else counts
            kwargs["class_counts"] = torch.as_tensor(
                np.maximum(counts, 1), dtype=torch.float32
            )
        self.criterion_ = criterion_cls(**kwargs)
        return self

    def get_iterator(self, dataset, training=False):
        prefix = "iterator_train" if training else "iterator_valid"
        kwargs = self.get_params_for(prefix)
        kwargs.setdefault("batch_size", self.batch_size)
        if kwargs["batch_size"] == -1:
            kwargs["batch_size"] = len(dataset)
        if training and self.balanced_batches:
            if kwargs.get("shuffle") or "sampler" in kwargs:
                raise ValueError(
                    "balanced_batches=True draws its own batches; remove "
                    "iterator_train__shuffle / iterator_train__sampler."
                )
            kwargs["sampler"] = class_balanced_sampler(dataset.labels)
        elif training:
            # Shuffle by default (skorch does not): SGD on sorted or
            # oversampled data otherwise sees long runs of one class.
            kwargs.setdefault("shuffle", True)
        else:
            # A DataLoader draws a seed for its workers from the generator it
            # is given, else from torch's global one: prediction must not
            # disturb the user's (or a concurrently seeded fit's) random state.
            kwargs.setdefault("generator", torch.Generator())
        iterator = self.iterator_train if training else self.iterator_valid
        return iterator(dataset, **kwargs)

    def _holds_out_validation(self):
        """Whether ``fit`` holds out ``validation_fraction`` of its rows itself.

        For early stopping, and for callbacks that learn on validation data
        (those with ``needs_validation_data = True``, such as
        :class:`~skimbal.callbacks.AutoBalance`). A custom ``train_split``
        makes its own split instead.
        """
        if self.train_split is not None:
            return False
        callbacks = self.callbacks if isinstance(self.callbacks, list) else []
        asking = any(
            getattr(
                entry[1] if isinstance(entry, tuple) else entry,
                "needs_validation_data",
                False,
            )
            for entry in callbacks
        )
        return self._early_stopping_on() or asking

    def get_split_datasets(self, X, y=None, **fit_params):
        # X is the PreparedDataset that fit or partial_fit built.
        if self._holds_out_validation():
            seed = int(torch.randint(2**31 - 1, ()).item())  # seeded by fit
            return split_keeping_copies_together(X, self.validation_fraction, seed)
        if y is None:
            # fit passes its dataset with y=None; a stratified train_split
            # (ValidSplit(stratified=True)) needs the labels.
            y = X.labels
        train, valid = super().get_split_datasets(X, y, **fit_params)
        return as_prepared(train), as_prepared(valid, validation=True)

    def train_step(self, batch, **fit_params):
        step = super().train_step(batch, **fit_params)
        if not torch.isfinite(step["loss"]):
            epoch = len(self.history)
            raise FloatingPointError(
                f"The training loss became {step['loss'].item()} in epoch {epoch}; "
                "the weights are no longer usable. Lower the learning rate (lr="
                f"{self.lr}), check X for extreme values, or clip gradients."
            )
        return step

    def evaluation_step(self, batch, training=False):
        # Pad short batches to batch_size rows: BLAS picks other kernels for
        # small matrices, and the last bits of a sample's logits would then
        # depend on how many samples it was predicted with.
        X_batch, y_batch = batch
        n_rows = len(X_batch)
        if training or self.batch_size <= n_rows:
            return super().evaluation_step(batch, training=training)
        padded = (_pad_rows(X_batch, self.batch_size), y_batch)
        return super().evaluation_step(padded, training=training)[:n_rows]

    def infer(self, x, **fit_params):
        # While the head trains (or predicts) on cached features, x holds
        # them and only the head runs.
        head = self.__dict__.get("_head")
        with self._autocast():
            if head is None:
                logits = super().infer(x, **fit_params)
            else:
                logits = head(to_tensor(x, device=self.device))
        # The losses and the softmax of predict_proba work in float32.
        return logits.float() if self.mixed_precision else logits

    def _set_training(self, training=True):
        head = self.__dict__.get("_head")
        if head is None:
            return super()._set_training(training)
        # Only the head runs on cached features; setting the mode of every
        # layer of a frozen backbone at each step would cost more than the
        # step itself.
        for name in self._modules + self._criteria:
            module = head if name == "module" else getattr(self, name + "_")
            if isinstance(module, torch.nn.Module):
                module.train(training)
        return None

    def _autocast(self):
        """``mixed_precision``'s autocast, or a context that does nothing."""
        if not self.mixed_precision:
            return contextlib.nullcontext()
        device_type = torch.device(self.device).type
        return torch.autocast(device_type=device_type, dtype=torch.bfloat16)

    def fit_loop(self, X, y=None, epochs=None, **fit_params):
        # X is the PreparedDataset that fit or partial_fit built, and the
        # network exists: the one place both pass through before training.
        self.features_cached_ = False
        split = self._frozen_head_split(training=True)
        features = None
        if split is not None:
            try:
                features = self._training_features(X, split)
            except NotCacheableError as error:
                if _is_true(self.feature_cache):
                    raise ValueError(
                        f"feature_cache=True, but {error} Use feature_cache='auto' "
                        "or False."
                    ) from error
        if features is None:
            return super().fit_loop(X, y, epochs, **fit_params)
        self.features_cached_ = True
        with self._head_only(split):
            return super().fit_loop(features, y, epochs, **fit_params)

    # -- frozen bodies: the head trains on features computed once ------------

    def _frozen_head_split(self, *, training, warn=True):
        """The network's frozen body and trainable head, when features may
        be cached (see ``feature_cache``); else ``None``."""
        if self.feature_cache is False or self.feature_cache is np.False_:
            return None
        required = _is_true(self.feature_cache)
        split, reason = split_frozen_head(self.module_)
        if split is None:
            if required:
                raise ValueError(
                    "feature_cache=True needs a network whose only trainable "
                    "layers form a final head after a frozen body (e.g. "
                    f"module__freeze=True), but {reason}. Use "
                    "feature_cache='auto' or False."
                )
            return None
        if training and not (self.augment is False or self.augment is np.False_):
            message = (
                f"augment={self.augment!r} changes the training images every "
                "epoch, so the frozen body runs on every image in every epoch "
                "(the whole network trains as without a frozen body, only "
                "slower than on cached features). For features computed once "
                "per image, use augment=False; feature_cache=False silences "
                "this warning."
            )
            if required:
                raise ValueError(f"feature_cache=True, but {message}")
            if warn:
                warnings.warn(message, UserWarning, stacklevel=5)
            return None
        return split

    def _features_fingerprint(self, split):
        """What the frozen body's features depend on: weights and input."""
        return body_fingerprint(
            self.module_,
            split,
            self.input_kind_,
            tuple(self.input_shape_),
            self._normalization(),
            bool(self.mixed_precision),
        )

    def _training_features(self, dataset, split):
        """``dataset`` as features: shared ones, the rest computed once each."""
        keys = row_keys(dataset.rows)
        fingerprint = self._features_fingerprint(split)
        table = _table_for(fingerprint)
        index = table.find(keys) if table is not None else np.full(len(keys), -1)
        missing = index < 0
        if missing.any():
            new_keys, first = np.unique(keys[missing], return_index=True)
            rows = np.flatnonzero(missing)[first]
            computed = self._compute_features(dataset.subset(rows), split)
            new = FeatureTable(fingerprint, new_keys, computed)
            offset = 0 if table is None else len(table)
            index[missing] = offset + new.find(keys[missing])
            stored = (
                computed
                if table is None
                else np.concatenate([table.features, computed])
            )
        else:
            stored = table.features
        # Only the rows this fit uses, as a copy: a shared table may be a
        # read-only memory map.
        used, index = np.unique(index, return_inverse=True)
        features = torch.from_numpy(np.ascontiguousarray(stored[used]))
        return PreparedDataset(
            FeatureRows(features, index, dataset.labels), dataset.labels, dataset.rows
        )

    def _compute_features(self, dataset, split):
        """The frozen body's output for each sample of ``dataset``."""
        sizes, features = [], []

        def batches():
            for X_batch, _ in self.get_iterator(dataset, training=False):
                X_batch = to_tensor(X_batch, device=self.device)
                sizes.append(len(X_batch))
                # Padded as in prediction, so that features equal the
                # body's output inside a predict_proba call bit for bit.
                yield _pad_rows(X_batch, self.batch_size)

        with self._autocast():
            for batch in head_inputs(self.module_, split, batches()):
                features.append(batch[: sizes[len(features)]].float().cpu())
        return torch.cat(features).numpy()

    def _shared_features(self, dataset):
        """``(features, split)`` when a shared table holds every row of
        ``dataset`` for this network's frozen body; else ``None``."""
        if not active_feature_tables():
            return None
        split = self._frozen_head_split(training=False)
        if split is None:
            return None
        table = _table_for(self._features_fingerprint(split))
        if table is None:
            return None
        index = table.find(row_keys(dataset.rows))
        if (index < 0).any():
            return None
        used, index = np.unique(index, return_inverse=True)
        features = torch.from_numpy(np.ascontiguousarray(table.features[used]))
        rows = FeatureRows(features, index, dataset.labels)
        return PreparedDataset(rows, dataset.labels, dataset.rows), split

    @contextlib.contextmanager
    def _head_only(self, split):
        """Inside the block, the network's input is features for its head."""
        self.__dict__["_head"] = split.head
        try:
            yield
        finally:
            self.__dict__.pop("_head", None)

    def _feature_table(self, X, classes, memory=None):
        """Frozen-body features of every distinct row of X, or ``None``.

        The body is built as ``fit`` builds it (same seed, so the same
        weights); no label is used: ``classes`` only sizes the head. With a
        ``joblib.Memory``, a table of the same body and rows is read from
        its folder instead of computed.
        """
        self._check_params()
        X, _ = validate_input(self, as_path_column(X), None, reset=True)
        self.classes_ = check_classes(classes)
        self._set_class_statistics(None)
        self._learn_input_shape(X)
        with seeded_torch(self.random_state, self.device):
            # The network only, built as initialize() builds it (callbacks,
            # then module: same seed, same weights). Not the optimizer: the
            # first PyTorch optimizer imports torch._dynamo, a second before
            # any fit of a comparison could start (#18).
            self._initialize_virtual_params()
            self._initialize_callbacks()
            self._initialize_module()
        split = self._frozen_head_split(training=True, warn=False)
        if split is None:
            return None
        dataset = self._to_dataset(X, None, training=False)
        keys = row_keys(dataset.rows)
        distinct, first = np.unique(keys, return_index=True)
        fingerprint = self._features_fingerprint(split)

        def compute():
            features = self._compute_features(dataset.subset(first), split)
            return FeatureTable(fingerprint, distinct, features)

        try:
            if memory is None:
                return compute()
            return memory.cache(cached_feature_table, ignore=["compute"])(
                fingerprint, distinct, compute
            )
        except NotCacheableError:
            return None
