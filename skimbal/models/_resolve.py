"""What a classifier's ``module`` parameter implies for its network and input."""

import difflib

from torch import nn

from ._torchvision import (
    TorchvisionBackbone,
    backbone_normalization,
    classification_model_names,
)

__all__ = ["default_image_size", "input_normalization", "resolve_module"]

#: Names of the heads for feature vectors (skimbal.models._heads).
_HEADS = {"linear": "LinearHead", "mlp": "MLPHead"}


def resolve_module(module):
    """Return the network class for ``module`` and its default arguments.

    Parameters
    ----------
    module : str, nn.Module subclass or nn.Module instance
        ``"simple_cnn"`` for :class:`~skimbal.models.SimpleCNN`; ``"linear"``
        or ``"mlp"`` for :class:`~skimbal.models.LinearHead` or
        :class:`~skimbal.models.MLPHead` (feature vectors); the name of
        a torchvision classification model (``"resnet18"``, ``"vgg16"``,
        ..., case-insensitive) for :class:`TorchvisionBackbone`; or a
        module class or instance, returned as is (an instance as its class).

    Returns
    -------
    module_class : type
        A subclass of :class:`torch.nn.Module`.
    default_kwargs : dict
        Arguments to construct it with, before the classifier adds
        ``num_classes``, ``in_channels`` and the user's ``module__*``
        parameters: ``{"name": <model name>}`` for a torchvision model,
        ``{}`` otherwise.

    Raises
    ------
    ValueError
        For an unknown name, suggesting the closest known ones.
    TypeError
        For anything that is neither a str nor a module.

    See Also
    --------
    skimbal.models._torchvision.classification_model_names : Accepted
        torchvision names.

    Examples
    --------
    >>> from skimbal.models._resolve import resolve_module
    >>> resolve_module("resnet18")
    (<class 'skimbal.models._torchvision.TorchvisionBackbone'>, {'name': 'resnet18'})
    >>> resolve_module("resnet_18")
    Traceback (most recent call last):
    ...
    ValueError: module='resnet_18' is not a known network. Did you mean ...
    """
    if isinstance(module, str):
        key = module.lower()
        if key == "simple_cnn":
            # Imported on use so that this module does not depend on the
            # import order of the package.
            from ._simple_cnn import SimpleCNN

            return SimpleCNN, {}
        if key in _HEADS:
            from . import _heads

            return getattr(_heads, _HEADS[key]), {}
        names = classification_model_names()
        if key in names:
            return TorchvisionBackbone, {"name": key}
        close = difflib.get_close_matches(key, ("simple_cnn", *_HEADS, *names), n=5)
        hint = f" Did you mean {', '.join(map(repr, close))}?" if close else ""
        raise ValueError(
            f"module={module!r} is not a known network.{hint} Use 'simple_cnn', "
            "'linear' or 'mlp' (heads for feature vectors), a torchvision "
            "classification model name (list them with "
            "skimbal.models.classification_model_names()), or an nn.Module "
            "subclass."
        )
    if isinstance(module, type) and issubclass(module, nn.Module):
        return module, {}
    if isinstance(module, nn.Module):
        return type(module), {}
    raise TypeError(
        "module must be 'simple_cnn', a torchvision classification model name, "
        f"or an nn.Module subclass or instance; got module={module!r} of type "
        f"{type(module).__name__}."
    )


def _names_torchvision_model(module):
    # Any other name than ours is meant as a torchvision model;
    # resolve_module rejects the unknown ones.
    return isinstance(module, str) and module.lower() not in ("simple_cnn", *_HEADS)


def default_image_size(module):
    """Height and width that images read from paths get by default.

    Parameters
    ----------
    module : str, nn.Module subclass or nn.Module instance
        A classifier's ``module`` parameter.

    Returns
    -------
    size : tuple of (int, int)
        ``(224, 224)``, the size torchvision's backbones were trained at,
        for a torchvision model name; ``(64, 64)`` for ``"simple_cnn"`` and
        any module class or instance.

    Examples
    --------
    >>> from skimbal.models._resolve import default_image_size
    >>> default_image_size("resnet18"), default_image_size("simple_cnn")
    ((224, 224), (64, 64))
    """
    return (224, 224) if _names_torchvision_model(module) else (64, 64)


def input_normalization(module, weights, *, in_channels):
    """Per-channel ``(mean, std)`` that the network's input must be scaled by.

    Pretrained backbones expect the statistics of the data they were
    trained on; every other network takes pixels in ``[0, 1]`` as they are.

    Parameters
    ----------
    module : str, nn.Module subclass or nn.Module instance
        A classifier's ``module`` parameter.
    weights : None, str or os.PathLike
        Its ``module__weights`` parameter (for torchvision models only).
    in_channels : int
        Number of channels of the images.

    Returns
    -------
    stats : tuple of (tuple of float, tuple of float) or None
        ``None`` for anything but a pretrained torchvision model, else as
        :func:`~skimbal.models.backbone_normalization`.

    Examples
    --------
    >>> from skimbal.models._resolve import input_normalization
    >>> input_normalization("resnet18", "DEFAULT", in_channels=3)
    ((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))
    >>> input_normalization("resnet18", None, in_channels=3) is None
    True
    >>> input_normalization("simple_cnn", None, in_channels=1) is None
    True
    """
    if not _names_torchvision_model(module):
        return None
    return backbone_normalization(module, weights, in_channels=in_channels)
