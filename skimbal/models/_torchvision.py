"""Any torchvision classification model as a backbone with a fresh head."""

import difflib
import functools
import numbers
import os
import re
import warnings
from collections.abc import Mapping
from urllib.parse import urlparse

import torch
from torch import nn

__all__ = [
    "IMAGENET_MEAN",
    "IMAGENET_STD",
    "TorchvisionBackbone",
    "backbone_normalization",
    "classification_model_names",
]


def _torchvision_models():
    """``torchvision.models``, imported when a backbone is first needed.

    Importing torchvision pulls in ``torch._dynamo`` (about 1 s on 2 cores),
    which the small default CNN never needs: ``skimbal compare`` on pixel
    arrays and its worker processes start that much sooner (#18).
    """
    import torchvision.models

    return torchvision.models


#: Per-channel statistics of ImageNet, used by (almost) every torchvision
#: checkpoint; assumed for state dict files given by path.
IMAGENET_MEAN = (0.485, 0.456, 0.406)
#: Per-channel standard deviations of ImageNet, paired with IMAGENET_MEAN.
IMAGENET_STD = (0.229, 0.224, 0.225)

# Extensions that make a string that is not a weights name read as a file.
_STATE_DICT_EXTENSIONS = (".pt", ".pth", ".bin", ".ckpt", ".tar", ".pkl")

# Auxiliary classifiers used only in training by GoogLeNet / Inception v3.
_AUXILIARY_HEADS = ("AuxLogits", "aux1", "aux2")

# torchvision's DenseNet checkpoints predate a renaming of layer keys
# ("norm.1" -> "norm1"); torchvision's own loader applies this same rewrite.
_DENSENET_OLD_KEY = re.compile(
    r"^(.*denselayer\d+\.(?:norm|relu|conv))\.((?:[12])\.(?:weight|bias|"
    r"running_mean|running_var|num_batches_tracked))$"
)


@functools.lru_cache(maxsize=1)
def classification_model_names():
    """List the names of torchvision's image classification models.

    Returns
    -------
    names : tuple of str
        Sorted names accepted by :class:`TorchvisionBackbone` (and as the
        ``module`` of a skimbal classifier), from
        ``torchvision.models.list_models(module=torchvision.models)``.

    See Also
    --------
    TorchvisionBackbone : Builds one of these models.

    Examples
    --------
    >>> from skimbal.models._torchvision import classification_model_names
    >>> "resnet18" in classification_model_names()
    True
    """
    models = _torchvision_models()
    return tuple(sorted(models.list_models(module=models)))


def _check_model_name(name):
    if not isinstance(name, str):
        raise TypeError(
            "name must be the str name of a torchvision classification model, "
            f"such as 'resnet18'; got name={name!r}."
        )
    names = classification_model_names()
    if name.lower() in names:
        return name.lower()
    close = difflib.get_close_matches(name.lower(), names, n=5)
    hint = f" Did you mean {', '.join(map(repr, close))}?" if close else ""
    raise ValueError(
        f"name={name!r} is not a torchvision classification model.{hint} List "
        "them with skimbal.models.classification_model_names() or "
        "torchvision.models.list_models(module=torchvision.models)."
    )


def _looks_like_path(text):
    return (
        os.path.exists(text)
        or os.sep in text
        or (os.altsep is not None and os.altsep in text)
        or os.path.splitext(text)[1].lower() in _STATE_DICT_EXTENSIONS
    )


def _resolve_weights(name, weights):
    """Classify ``weights`` as ``(None, None)``, ``("torchvision", enum)`` or
    ``("file", path)``."""
    if weights is None:
        return None, None
    if isinstance(weights, os.PathLike):
        return "file", os.fspath(weights)
    models = _torchvision_models()
    if not isinstance(weights, str | models.WeightsEnum):
        raise TypeError(
            "weights must be None, a torchvision weights name (such as 'DEFAULT') "
            f"or a path to a state dict file; got weights={weights!r}."
        )
    enum = models.get_model_weights(name)
    if isinstance(weights, models.WeightsEnum):
        if isinstance(weights, enum):
            return "torchvision", weights
        raise ValueError(
            f"weights={weights!r} belong to another model than name={name!r}; "
            f"use one of {_weight_names(enum)!r}."
        )
    try:
        return "torchvision", enum.verify(weights)
    except KeyError:
        pass
    if _looks_like_path(weights):
        return "file", weights
    try:
        other = models.get_weight(weights)
    except (ValueError, KeyError, AttributeError):
        other = None
    if other is not None:
        raise ValueError(
            f"weights={weights!r} belong to another model than name={name!r}; "
            f"use one of {_weight_names(enum)!r}."
        )
    raise ValueError(
        f"weights={weights!r} is neither a weights name of {name!r} (one of "
        f"{_weight_names(enum)!r}, optionally prefixed by '{enum.__name__}.') nor "
        "an existing state dict file; use None for random initialisation."
    )


def _weight_names(enum):
    return ["DEFAULT", *(member.name for member in enum)]


def _cache_path(weights):
    """Where ``torch.hub.load_state_dict_from_url`` stores ``weights.url``."""
    filename = os.path.basename(urlparse(weights.url).path)
    return os.path.join(torch.hub.get_dir(), "checkpoints", filename)


def _load_state_dict(path):
    if not os.path.isfile(path):
        raise FileNotFoundError(f"weights file {path!r} does not exist.")
    try:
        with warnings.catch_warnings():
            # On a file that is not a checkpoint, torch's unpickler may warn
            # about the bytes it misreads ("Detected pickle protocol ...").
            warnings.simplefilter("ignore")
            loaded = torch.load(path, map_location="cpu", weights_only=True)
    except Exception:
        # Not torch's message: it advises weights_only=False, which would
        # run any code a malicious file holds.
        raise ValueError(
            f"weights file {path!r} is not a valid PyTorch state-dict file: "
            "torch.load(weights_only=True) cannot read it. Save the weights "
            "with torch.save(model.state_dict(), path); a pickled model object "
            "or a file in another format cannot be loaded safely."
        ) from None
    if isinstance(loaded, Mapping) and not all(
        isinstance(value, torch.Tensor) for value in loaded.values()
    ):
        # Training checkpoints often wrap the weights: {"state_dict": ...}.
        for key in ("state_dict", "model_state_dict", "model"):
            if isinstance(loaded.get(key), Mapping):
                loaded = loaded[key]
                break
    if (
        not isinstance(loaded, Mapping)
        or not loaded
        or not all(isinstance(value, torch.Tensor) for value in loaded.values())
    ):
        raise ValueError(
            f"weights file {path!r} does not hold a state dict (a mapping of "
            f"parameter names to tensors); it holds a {type(loaded).__name__}."
        )
    state_dict = dict(loaded)
    # A skimbal backbone's own state dict ("model." prefix, what skorch's
    # save_params writes) or a DataParallel one ("module.").
    for prefix in ("model.", "module."):
        if all(key.startswith(prefix) for key in state_dict):
            state_dict = {key[len(prefix) :]: v for key, v in state_dict.items()}
            break
    return state_dict


def _key_problems(model, state_dict):
    """Keys of ``state_dict`` that keep it from loading into ``model``."""
    expected = model.state_dict()
    # Old checkpoints lack BatchNorm's counter; load_state_dict fills it in.
    missing = [
        key
        for key in expected
        if key not in state_dict and not key.endswith("num_batches_tracked")
    ]
    unexpected = [key for key in state_dict if key not in expected]
    mismatched = [
        f"{key} (file {tuple(state_dict[key].shape)}, model "
        f"{tuple(expected[key].shape)})"
        for key in expected
        if key in state_dict and state_dict[key].shape != expected[key].shape
    ]
    return (
        [f"missing {key}" for key in missing]
        + [f"unexpected {key}" for key in unexpected]
        + [f"shape of {key}" for key in mismatched]
    )


def _drop_auxiliary_heads(model):
    """Disable GoogLeNet / Inception auxiliary classifiers, as torchvision does
    for pretrained models, so ``forward`` returns a plain tensor."""
    dropped = []
    if getattr(model, "aux_logits", False):
        model.aux_logits = False
        for attribute in _AUXILIARY_HEADS:
            if getattr(model, attribute, None) is not None:
                setattr(model, attribute, None)
                dropped.append(attribute + ".")
    return tuple(dropped)


def _set_submodule(model, path, module):
    parent_path, _, attribute = path.rpartition(".")
    parent = model.get_submodule(parent_path) if parent_path else model
    setattr(parent, attribute, module)


def _replace_head(model, name, num_classes):
    """Replace the classification layer by a fresh one; return its path.

    The head is the last ``nn.Linear`` of the module tree (``fc``,
    ``classifier.6``, ``heads.head``, ...), or, for models without one
    (SqueezeNet), the last 1x1 ``nn.Conv2d``.
    """
    linears = [
        (path, module)
        for path, module in model.named_modules()
        if isinstance(module, nn.Linear)
    ]
    if linears:
        path, old = linears[-1]
        _set_submodule(model, path, nn.Linear(old.in_features, num_classes))
        return path
    convs = [
        (path, module)
        for path, module in model.named_modules()
        if isinstance(module, nn.Conv2d) and module.kernel_size == (1, 1)
    ]
    if convs:
        path, old = convs[-1]
        new = nn.Conv2d(old.in_channels, num_classes, kernel_size=1)
        _set_submodule(model, path, new)
        return path
    raise ValueError(
        f"cannot find the classification layer of torchvision model {name!r}: "
        "it has no nn.Linear and no 1x1 nn.Conv2d."
    )


def _adapt_first_conv(model, name, in_channels, pretrained):
    """Give the first convolution ``in_channels`` inputs; return its path."""
    convs = (
        (path, module)
        for path, module in model.named_modules()
        if isinstance(module, nn.Conv2d)
    )
    path, old = next(convs, (None, None))
    if old is None:
        raise ValueError(
            f"torchvision model {name!r} has no nn.Conv2d whose input channels "
            f"could be changed to in_channels={in_channels}."
        )
    if old.in_channels == in_channels:
        return path
    if old.groups != 1:
        raise ValueError(
            f"the first convolution {path!r} of {name!r} is grouped; cannot "
            f"change its input channels to in_channels={in_channels}."
        )
    new = nn.Conv2d(
        in_channels,
        old.out_channels,
        kernel_size=old.kernel_size,
        stride=old.stride,
        padding=old.padding,
        dilation=old.dilation,
        bias=old.bias is not None,
        padding_mode=old.padding_mode,
    )
    if pretrained:
        # Every new channel gets the RGB mean, scaled by 3 / in_channels so
        # that an image whose channels are all alike produces the activations
        # the RGB filters gave (for one channel: the sum over RGB).
        with torch.no_grad():
            mean = old.weight.mean(dim=1, keepdim=True)
            new.weight.copy_(mean.repeat(1, in_channels, 1, 1) * (3 / in_channels))
            if old.bias is not None:
                new.bias.copy_(old.bias)
    _set_submodule(model, path, new)
    return path


def _check_positive_int(name, value):
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{name} must be a positive int; got {name}={value!r}.")
    return int(value)


class TorchvisionBackbone(nn.Module):
    """A torchvision classification model with a new head for ``num_classes``.

    The model is built by :func:`torchvision.models.get_model`, optionally
    initialised from pretrained weights, then adapted: its classification
    layer is replaced by a fresh ``nn.Linear(in_features, num_classes)`` and,
    when ``in_channels != 3``, its first convolution by one with
    ``in_channels`` inputs. Pretrained weights are read only from local
    files: nothing is ever downloaded.

    Parameters
    ----------
    name : str, default="resnet18"
        A torchvision classification model (case-insensitive), one of
        :func:`classification_model_names`.
    num_classes : int, default=2
        Number of outputs (logits).
    in_channels : int, default=3
        Number of input channels (1 for grayscale images).
    weights : None, str or os.PathLike, default=None
        ``None`` for random initialisation; a torchvision weights name of
        the model (``"DEFAULT"``, ``"IMAGENET1K_V1"`` or the full
        ``"ResNet18_Weights.IMAGENET1K_V1"``), read from the torch hub
        cache; or the path of a state dict file (``torch.save`` of a
        ``state_dict()``), either of the original torchvision model
        (1000-class head) or of a model whose head already has
        ``num_classes`` outputs, such as a saved ``TorchvisionBackbone``.
    freeze : bool, default=False
        Train only the new head: every other parameter gets
        ``requires_grad=False`` and the BatchNorm layers keep their running
        statistics (they stay in eval mode). A first convolution newly made
        for ``in_channels != 3`` without pretrained weights has nothing to
        preserve and stays trainable. Without ``weights`` the frozen layers
        keep random values, which warns (``UserWarning``).

    Attributes
    ----------
    model : torch.nn.Module
        The adapted torchvision model; ``forward`` calls it.
    head_name : str
        Dotted path, in ``model``, of the new classification layer.
    first_conv_name : str
        Dotted path, in ``model``, of the first convolution.
    pretrained : bool
        Whether weights were loaded.

    Raises
    ------
    FileNotFoundError
        If a weights name is not in the torch hub cache (the message gives
        the URL to download and the file path to store it under), or if a
        weights file does not exist.
    ValueError
        For an unknown model or weights name, a weights file that is not a
        PyTorch state-dict file, or a state dict whose keys or shapes do not
        fit the model.

    See Also
    --------
    backbone_normalization : The ``(mean, std)`` to normalise inputs with.
    classification_model_names : The accepted ``name`` values.

    Notes
    -----
    A pretrained RGB first convolution adapted to ``in_channels`` channels
    gets, in every channel, the mean of its RGB filters times
    ``3 / in_channels``. For grayscale input this is the sum over RGB: a gray
    image then gives exactly the activations its RGB replication gave, which
    matters because the BatchNorm statistics (or, in VGG, the biases) that
    follow were learned for that scale.

    A weights name is looked up in the torch hub cache, at
    ``torch.hub.get_dir()/checkpoints/<file name of the URL>`` (by default
    ``$TORCH_HOME/hub/checkpoints``, with ``$TORCH_HOME`` defaulting to
    ``~/.cache/torch``): a missing file is an error rather than a download,
    so that fitting behaves the same online and offline.

    Examples
    --------
    >>> import torch
    >>> from skimbal.models._torchvision import TorchvisionBackbone
    >>> net = TorchvisionBackbone("resnet18", num_classes=3, in_channels=1)
    >>> net(torch.zeros(2, 1, 32, 32)).shape
    torch.Size([2, 3])
    >>> net.head_name, net.first_conv_name
    ('fc', 'conv1')
    """

    def __init__(
        self, name="resnet18", num_classes=2, in_channels=3, weights=None, freeze=False
    ):
        super().__init__()
        self.name = _check_model_name(name)
        self.num_classes = _check_positive_int("num_classes", num_classes)
        self.in_channels = _check_positive_int("in_channels", in_channels)
        if not isinstance(freeze, bool):
            raise TypeError(f"freeze must be a bool; got freeze={freeze!r}.")
        self.weights = weights
        self.freeze = freeze

        kind, source = _resolve_weights(self.name, weights)
        model = _torchvision_models().get_model(
            self.name, weights=None, **_builder_kwargs(self.name, kind, source)
        )
        dropped = _drop_auxiliary_heads(model)
        state_dict, origin = None, None
        if kind == "torchvision":
            origin = _cache_path(source)
            if not os.path.isfile(origin):
                raise FileNotFoundError(
                    f"weights={weights!r} of {self.name!r} are not in the torch hub "
                    f"cache: expected the file {origin!r}. skimbal never downloads; "
                    f"download {source.url} and save it under that path (the cache "
                    "folder is $TORCH_HOME/hub/checkpoints, $TORCH_HOME defaulting "
                    "to ~/.cache/torch), or pass the path of a state dict file as "
                    "weights."
                )
        elif kind == "file":
            origin = source
        if origin is not None:
            state_dict = _load_state_dict(origin)
            if self.name.startswith("densenet"):
                state_dict = _rename_densenet_keys(state_dict)
            state_dict = {
                key: value
                for key, value in state_dict.items()
                if not key.startswith(dropped)
            }

        # A full torchvision state dict loads before the head is replaced;
        # one saved from an adapted model loads after.
        problems_before = None
        loaded = False
        if state_dict is not None:
            problems_before = _key_problems(model, state_dict)
            if not problems_before:
                model.load_state_dict(state_dict, strict=False)
                loaded = True
        self.head_name = _replace_head(model, self.name, self.num_classes)
        self.first_conv_name = _adapt_first_conv(
            model, self.name, self.in_channels, pretrained=loaded
        )
        new_first_conv = not loaded
        if state_dict is not None and not loaded:
            problems_after = _key_problems(model, state_dict)
            if problems_after:
                problems = min(problems_before, problems_after, key=len)
                raise ValueError(
                    f"the state dict in weights file {origin!r} does not fit "
                    f"{self.name!r}, neither with its original 1000-class head nor "
                    f"with num_classes={self.num_classes}, "
                    f"in_channels={self.in_channels}: {len(problems)} problem(s), "
                    f"such as {'; '.join(problems[:5])}."
                )
            model.load_state_dict(state_dict, strict=False)
            loaded = True
            new_first_conv = False
        self.pretrained = loaded
        if freeze and not loaded:
            warnings.warn(
                f"freeze=True without pretrained weights: the frozen backbone of "
                f"{self.name!r} keeps its random weights, so only the new head "
                "trains, on random features. Pass pretrained weights (weights=, "
                "or module__weights= in CNNClassifier: a weights name such as "
                "'DEFAULT' from the torch hub cache, or a state dict file), or "
                "use freeze=False.",
                UserWarning,
                stacklevel=2,
            )
        if hasattr(model, "transform_input"):
            # Pretrained GoogLeNet / Inception expect their own input scaling
            # and convert ImageNet-normalised input to it (torchvision's
            # builders set the same flag); it only makes sense for RGB.
            model.transform_input = loaded and self.in_channels == 3
        self.model = model
        if freeze:
            trainable = (self.head_name + ".",)
            if self.in_channels != 3 and new_first_conv:
                trainable += (self.first_conv_name + ".",)
            for path, parameter in model.named_parameters():
                parameter.requires_grad = path.startswith(trainable)

    def forward(self, x):
        """Return the logits for a batch of images.

        Parameters
        ----------
        x : torch.Tensor of shape (batch_size, in_channels, height, width)
            Normalised images.

        Returns
        -------
        logits : torch.Tensor of shape (batch_size, num_classes)
            Unnormalised class scores.
        """
        return self.model(x)

    def train(self, mode=True):
        """Set training mode, keeping frozen BatchNorm layers in eval mode.

        Parameters
        ----------
        mode : bool, default=True
            Training (True) or evaluation (False) mode.

        Returns
        -------
        self : TorchvisionBackbone
            This module.
        """
        super().train(mode)
        if self.freeze:
            for module in self.model.modules():
                if isinstance(module, nn.modules.batchnorm._BatchNorm) and not any(
                    p.requires_grad for p in module.parameters(recurse=False)
                ):
                    module.eval()
        return self


def _builder_kwargs(name, kind, source):
    """Architecture arguments that torchvision's builders derive from weights."""
    if name in ("googlenet", "inception_v3"):
        # PyTorch's default init, which torchvision announces as the future
        # default: its scipy-style truncated normal takes seconds, and leaving
        # the flag unset warns.
        return {"init_weights": False}
    if kind != "torchvision":
        return {}
    min_size = source.meta.get("min_size")
    if name.startswith("vit_"):
        return {"image_size": min_size[0]}
    if name.startswith("maxvit"):
        return {"input_size": min_size}
    return {}


def _rename_densenet_keys(state_dict):
    renamed = {}
    for key, value in state_dict.items():
        match = _DENSENET_OLD_KEY.match(key)
        renamed[match.group(1) + match.group(2) if match else key] = value
    return renamed


def backbone_normalization(name, weights, *, in_channels=3):
    """Return the per-channel ``(mean, std)`` to normalise a backbone's input.

    Parameters
    ----------
    name : str
        A torchvision classification model name.
    weights : None, str or os.PathLike
        As for :class:`TorchvisionBackbone`.
    in_channels : int, default=3
        Number of input channels. For anything but 3, the RGB statistics
        are averaged and repeated, matching how :class:`TorchvisionBackbone`
        adapts a pretrained first convolution.

    Returns
    -------
    stats : tuple of (tuple of float, tuple of float) or None
        ``None`` for ``weights=None`` (random initialisation: nothing to
        match); the statistics of the weights' own preprocessing
        (``weights.transforms()``) for a torchvision weights name; ImageNet's
        statistics for a state dict file.

    See Also
    --------
    TorchvisionBackbone : The backbone these statistics are for.
    skimbal._images.make_image_transform : Takes ``mean`` and ``std``.

    Examples
    --------
    >>> from skimbal.models._torchvision import backbone_normalization
    >>> backbone_normalization("resnet18", "DEFAULT")
    ((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))
    >>> backbone_normalization("resnet18", "IMAGENET1K_V1", in_channels=1)
    ((0.449,), (0.226,))
    >>> backbone_normalization("resnet18", None) is None
    True
    """
    name = _check_model_name(name)
    in_channels = _check_positive_int("in_channels", in_channels)
    kind, source = _resolve_weights(name, weights)
    if kind is None:
        return None
    if kind == "torchvision":
        preprocessing = source.transforms()
        mean = tuple(float(v) for v in preprocessing.mean)
        std = tuple(float(v) for v in preprocessing.std)
    else:
        mean, std = IMAGENET_MEAN, IMAGENET_STD
    if in_channels != 3:
        mean = (sum(mean) / len(mean),) * in_channels
        std = (sum(std) / len(std),) * in_channels
    return mean, std
