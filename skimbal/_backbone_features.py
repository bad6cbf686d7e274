"""BackboneFeatures: images in, a pretrained backbone's feature vectors out."""

import math
import numbers
import os

import numpy as np
import torch
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
)
from sklearn.utils.validation import check_is_fitted
from torch.utils.data import DataLoader

from ._data import infer_image_shape, to_dataset
from ._feature_cache import (
    FeatureTable,
    cached_feature_table,
    check_feature_memory,
    row_keys,
)
from ._images import as_path_column, path_image_shape
from ._input import validate_fitted_input, validate_input
from ._seeding import seeded_torch
from ._sklearn_private import Interval, validate_parameter_constraints
from .models._frozen import HeadSplit, body_fingerprint, head_inputs
from .models._resolve import default_image_size, input_normalization
from .models._torchvision import TorchvisionBackbone, _check_model_name

__all__ = ["BackboneFeatures"]


class BackboneFeatures(
    ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator
):
    """Turn images (paths or pixels) into a pretrained backbone's features.

    Each image goes through a torchvision classification model up to its
    classification layer, in evaluation mode: the output is the vector that
    layer would receive (512 values for ResNet18, 4096 for VGG16). Put it
    first in an imbalanced-learn ``Pipeline``, before the sampler, with a
    small head such as ``CNNClassifier(module="linear")``: the sampler then
    copies feature rows, and the head takes every criterion, class weight
    and strategy of the package, at the speed of a linear model.

    ``fit`` builds the backbone and learns no more than the input's shape:
    no label is used, so cross-validating the pipeline leaks nothing. Every
    fold's ``transform`` computes its images' features again, unless
    ``memory`` keeps them on disk (one entry per set of images).

    Parameters
    ----------
    module : str, default="resnet18"
        A torchvision classification model, as ``CNNClassifier``'s
        ``module`` (see :func:`~skimbal.models.classification_model_names`).
    weights : None, str or os.PathLike, default=None
        Its pretrained weights: a torchvision weights name (``"DEFAULT"``,
        ``"IMAGENET1K_V1"``) read from the torch hub cache, or a state dict
        file. ``None`` gives random weights, which warns: random features
        are rarely what you want.
    input_shape : tuple of int or None, default=None
        ``(C, H, W)`` of one image for flat pixel rows (as in
        ``CNNClassifier``); for paths, the shape images are converted to.
    image_size : int, (int, int) or None, default=None
        Height and width images read from paths are resized to; ``None`` is
        224.
    batch_size : int, default=64
        Images per forward pass.
    device : str or torch.device, default="auto"
        ``"auto"`` is CUDA when available, else CPU.
    memory : None, str, os.PathLike or joblib.Memory, default=None
        A folder (or ``joblib.Memory``) where the features of each set of
        images are stored, keyed by the backbone's weights and the images'
        contents (for paths: file, size and modification time), so that
        transforming the same images again reads them.
    random_state : int, RandomState instance or None, default=None
        Seeds the backbone's initialisation (only its random weights depend
        on it).

    Attributes
    ----------
    backbone_ : TorchvisionBackbone
        The network, in evaluation mode.
    input_kind_ : {"pixels", "paths"}
        The kind of X seen at ``fit``.
    input_shape_ : tuple of int
        ``(C, H, W)`` of one image as the backbone sees it.
    n_features_in_ : int
        Columns of X at ``fit``.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Column names, when X was a DataFrame with string column names.
    n_features_out_ : int
        Length of a feature vector.

    See Also
    --------
    skimbal.CNNClassifier : With ``module__freeze=True`` it trains a
        backbone's head on the same features, cached during ``fit``.
    skimbal.models.LinearHead : A head for these features.

    Examples
    --------
    >>> import warnings
    >>> from sklearn.datasets import load_digits
    >>> from imblearn.over_sampling import RandomOverSampler
    >>> from imblearn.pipeline import Pipeline
    >>> from skimbal import BackboneFeatures, CNNClassifier
    >>> X, y = load_digits(return_X_y=True)
    >>> X, y = X[:300], (y[:300] == 0).astype(int)
    >>> features = BackboneFeatures("resnet18", input_shape=(1, 8, 8),
    ...                             random_state=0)
    >>> with warnings.catch_warnings():  # random weights, as no file is at hand
    ...     warnings.simplefilter("ignore")
    ...     features.fit_transform(X).shape
    (300, 512)
    >>> pipe = Pipeline([("features", features),
    ...                  ("sampler", RandomOverSampler(random_state=0)),
    ...                  ("clf", CNNClassifier(module="linear", min_steps=20,
    ...                                        class_weight="balanced",
    ...                                        random_state=0))])
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     pipe.fit(X, y).predict_proba(X[:2]).shape
    (2, 2)
    """

    _parameter_constraints: dict = {
        "module": [str],
        "weights": [str, os.PathLike, None],
        "input_shape": [tuple, list, None],
        "image_size": [Interval(numbers.Integral, 1, None, closed="left"), tuple, None],
        "batch_size": [Interval(numbers.Integral, 1, None, closed="left")],
        "device": [str, torch.device],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        module="resnet18",
        *,
        weights=None,
        input_shape=None,
        image_size=None,
        batch_size=64,
        device="auto",
        memory=None,
        random_state=None,
    ):
        self.module = module
        self.weights = weights
        self.input_shape = input_shape
        self.image_size = image_size
        self.batch_size = batch_size
        self.device = device
        self.memory = memory
        self.random_state = random_state

    def fit(self, X, y=None):
        """Build the backbone and learn the input's shape (no labels used).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features), (n_samples, C, H, W) \
or (n_samples, 1)
            Pixel rows (with ``input_shape``), 4-D images, or one column of
            image file paths, as ``CNNClassifier`` takes them.
        y : None
            Ignored.

        Returns
        -------
        self : BackboneFeatures
            Fitted.
        """
        validate_parameter_constraints(
            self._parameter_constraints,
            self.get_params(deep=False),
            caller_name=type(self).__name__,
        )
        module = _check_model_name(self.module)
        check_feature_memory(self.memory)
        X, _ = validate_input(self, as_path_column(X), None, reset=True)
        self.input_kind_ = "paths" if X.dtype == object else "pixels"
        if self.input_kind_ == "paths":
            self.input_shape_ = path_image_shape(
                self.input_shape,
                self.image_size,
                in_channels=3,
                default_size=default_image_size(module),
            )
        else:
            self.input_shape_ = infer_image_shape(X, self.input_shape)
        with seeded_torch(self.random_state, "cpu"):
            backbone = TorchvisionBackbone(
                module,
                num_classes=1,
                in_channels=self.input_shape_[0],
                weights=self.weights,
                freeze=True,
            )
        self.backbone_ = backbone.to(self._device()).eval()
        # The length of a feature vector: one image through the network.
        probe = torch.zeros((1, *self.input_shape_), device=self._device())
        (features,) = head_inputs(self.backbone_, self._split(), [probe])
        self.n_features_out_ = math.prod(features.shape[1:])
        self._n_features_out = self.n_features_out_
        return self

    def transform(self, X):
        """Return the feature vector of each image.

        Parameters
        ----------
        X : array-like
            Images in the form used at ``fit``.

        Returns
        -------
        features : ndarray of shape (n_samples, n_features_out_), dtype float32
            The input of the backbone's classification layer, per image.
        """
        check_is_fitted(self, "backbone_")
        X = validate_fitted_input(self, X)
        keys = row_keys(X)
        distinct, first = np.unique(keys, return_index=True)
        split = self._split()
        fingerprint = body_fingerprint(
            self.backbone_,
            split,
            self.input_kind_,
            tuple(self.input_shape_),
            self._normalization(),
        )

        def _compute():
            return FeatureTable(fingerprint, distinct, self._features(X[first], split))

        memory = check_feature_memory(self.memory)
        if memory is None:
            table = _compute()
        else:
            table = memory.cache(cached_feature_table, ignore=["compute"])(
                fingerprint, distinct, _compute
            )
        return table.features[table.find(keys)].reshape(len(keys), -1)

    def _split(self):
        head = self.backbone_.model.get_submodule(self.backbone_.head_name)
        return HeadSplit(head, ("model." + self.backbone_.head_name,))

    def _device(self):
        if isinstance(self.device, str) and self.device == "auto":
            return "cuda" if torch.cuda.is_available() else "cpu"
        return self.device

    def _normalization(self):
        if self.input_kind_ != "paths":
            return None
        return input_normalization(
            self.module, self.weights, in_channels=self.input_shape_[0]
        )

    def _features(self, X, split):
        dataset = to_dataset(
            X,
            None,
            image_shape=self.input_shape_,
            normalization=self._normalization(),
        )
        loader = DataLoader(
            dataset, batch_size=self.batch_size, generator=torch.Generator()
        )
        sizes, features = [], []

        def batches():
            for images, _ in loader:
                sizes.append(len(images))
                yield images.to(self._device())

        for batch in head_inputs(self.backbone_, split, batches()):
            features.append(batch[: sizes[len(features)]].float().cpu())
        if not features:
            return np.zeros((0, self.n_features_out_), dtype=np.float32)
        return torch.cat(features).flatten(1).numpy()

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        tags.requires_fit = True
        return tags
