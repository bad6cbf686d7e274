"""Turn a classifier's ``module`` parameter into a network class."""

import difflib

from torch import nn

from ._torchvision import TorchvisionBackbone, classification_model_names

__all__ = ["resolve_module"]


def resolve_module(module):
    """Return the network class for ``module`` and its default arguments.

    Parameters
    ----------
    module : str, nn.Module subclass or nn.Module instance
        ``"simple_cnn"`` for :class:`~skimbal.models.SimpleCNN`; the name of
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
        names = classification_model_names()
        if key in names:
            return TorchvisionBackbone, {"name": key}
        close = difflib.get_close_matches(key, ("simple_cnn", *names), n=5)
        hint = f" Did you mean {', '.join(map(repr, close))}?" if close else ""
        raise ValueError(
            f"module={module!r} is not a known network.{hint} Use 'simple_cnn', "
            "a torchvision classification model name (list them with "
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
