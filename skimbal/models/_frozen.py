"""Where a network with a frozen body splits into that body and its head.

A network whose only trainable layers sit at its end computes, for every
image, the same input to those layers in every epoch: the frozen body is a
fixed function. :func:`split_frozen_head` finds that split, from which
parameters train (``requires_grad``), for any ``nn.Module``: a
:class:`~skimbal.models.TorchvisionBackbone` with ``freeze=True`` or a
network frozen by hand. :func:`head_inputs` runs the body and yields the
head's inputs (the *features*); training the head on them gives what
training the whole network gives, as long as the body behaves the same in
training and in evaluation, which the split checks.
"""

import hashlib
import sys
from dataclasses import dataclass

import torch
from torch import nn

__all__ = [
    "HeadSplit",
    "NotCacheableError",
    "body_fingerprint",
    "head_inputs",
    "split_frozen_head",
]


class NotCacheableError(ValueError):
    """The network's head inputs turned out not to be reusable features."""


@dataclass(frozen=True)
class HeadSplit:
    """A network cut into a frozen body and the trainable head after it.

    Attributes
    ----------
    head : torch.nn.Module
        The layers that train and whose output is the network's output: the
        layer that owns the trainable parameters, preceded by the
        parameter-free layers before it in the same ``nn.Sequential`` (such
        as VGG's ReLU and dropout before its last ``Linear``), which must
        stay in the head because they act differently in training.
    head_paths : tuple of str
        Dotted paths of the head's layers in the network.
    """

    head: nn.Module
    head_paths: tuple

    @property
    def entry(self):
        """The head's first layer: its input is the feature vector.

        Returns
        -------
        layer : torch.nn.Module
            The first layer of :attr:`head`.
        """
        return self.head[0] if isinstance(self.head, nn.Sequential) else self.head

    @property
    def exit(self):
        """The head's last layer: its output is the network's output.

        Returns
        -------
        layer : torch.nn.Module
            The last layer of :attr:`head`.
        """
        return self.head[-1] if isinstance(self.head, nn.Sequential) else self.head


def _unwrap(module):
    # torch.compile's wrapper keeps the network as _orig_mod.
    return getattr(module, "_orig_mod", module)


def _common_path(paths):
    parts = [path.split(".") if path else [] for path in paths]
    common = []
    for level in zip(*parts, strict=False):
        if len(set(level)) != 1:
            break
        common.append(level[0])
    return ".".join(common)


def _has_state(module):
    return any(True for _ in module.parameters()) or any(True for _ in module.buffers())


def _stochastic_in_training(name, module):
    """Why ``module`` acts differently in training, or ``None``."""
    if not module.training:
        return None
    if isinstance(module, nn.modules.batchnorm._BatchNorm):
        return f"its BatchNorm layer {name!r} normalises by batch statistics"
    if isinstance(module, nn.modules.dropout._DropoutNd) and module.p > 0:
        return f"its dropout layer {name!r} drops features at random"
    if _is_stochastic_depth(module) and module.p > 0:
        return f"its stochastic-depth layer {name!r} drops blocks at random"
    return None


def _is_stochastic_depth(module):
    """Whether ``module`` is torchvision's stochastic depth (ConvNeXt, Swin, ...).

    Only torchvision's networks hold that layer, so torchvision is already
    imported when one does; not importing it here spares the small default
    CNN torchvision's import, about 1 s (#18).
    """
    ops = sys.modules.get("torchvision.ops")
    return ops is not None and isinstance(module, ops.StochasticDepth)


def split_frozen_head(module):
    """Split ``module`` into a frozen body and a trainable head, if it can be.

    The head is the smallest layer that holds every parameter with
    ``requires_grad=True``, extended backwards over the parameter-free
    layers before it in its ``nn.Sequential``. The split exists when that
    layer is not the whole network, ends its ``nn.Sequential`` (if in one),
    and nothing in the body acts differently in training than in evaluation
    (BatchNorm updating statistics, dropout, stochastic depth), checked in
    the module's training mode. Whether the head's output is the network's
    output is checked when features are computed (:func:`head_inputs`).

    Parameters
    ----------
    module : torch.nn.Module
        The network (a ``torch.compile`` wrapper is looked through).

    Returns
    -------
    split : HeadSplit or None
        ``None`` when there is no such split.
    reason : str or None
        Why there is none, as a phrase about the network; ``None`` with a
        split.

    Examples
    --------
    >>> from torch import nn
    >>> from skimbal.models._frozen import split_frozen_head
    >>> net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
    >>> split_frozen_head(net)[1]
    'layers outside one final head train (e.g. 0 and 2)'
    >>> _ = net[0].requires_grad_(False)
    >>> split, _ = split_frozen_head(net)
    >>> split.head_paths
    ('1', '2')
    """
    module = _unwrap(module)
    owners = [
        name.rpartition(".")[0]
        for name, parameter in module.named_parameters()
        if parameter.requires_grad
    ]
    if not owners:
        return None, "no parameter of the network trains"
    path = _common_path(owners)
    if not path:
        shown = " and ".join(list(dict.fromkeys(owners))[:2])
        return None, f"layers outside one final head train (e.g. {shown})"
    parent_path, _, name = path.rpartition(".")
    parent = module.get_submodule(parent_path) if parent_path else module
    head_paths = (path,)
    head = module.get_submodule(path)
    if isinstance(parent, nn.Sequential):
        names = list(parent._modules)
        end = names.index(name)
        if end != len(names) - 1:
            return None, (
                f"its trainable layer {path!r} is followed by {names[end + 1]!r} in "
                "its nn.Sequential"
            )
        start = end
        while start > 0 and not _has_state(parent._modules[names[start - 1]]):
            start -= 1
        prefix = parent_path + "." if parent_path else ""
        head_paths = tuple(prefix + n for n in names[start:])
        head = nn.Sequential(*(parent._modules[n] for n in names[start:]))
    state = [name for name, _ in (*module.named_parameters(), *module.named_buffers())]
    if all(any(name.startswith(p + ".") for p in head_paths) for name in state):
        shown = " and ".join(list(dict.fromkeys(owners))[:2])
        return None, f"its trainable layers (e.g. {shown}) span the whole network"
    was_training = module.training
    module.train()  # the mode the body is in while the head trains
    try:
        for layer_name, layer in module.named_modules():
            if any(
                layer_name == p or layer_name.startswith(p + ".") for p in head_paths
            ):
                continue
            reason = _stochastic_in_training(layer_name, layer)
            if reason is not None:
                return None, f"the frozen body changes in training: {reason}"
    finally:
        module.train(was_training)
    return HeadSplit(head, head_paths), None


def body_fingerprint(module, split, *extra):
    """A digest of the frozen body's weights (and of ``extra``).

    Two networks with the same fingerprint compute the same features, so
    features computed by one serve the other.

    Parameters
    ----------
    module : torch.nn.Module
        The network.
    split : HeadSplit
        Its split; the head's weights do not enter the digest.
    *extra : object
        Anything else the features depend on (input preprocessing), by
        ``repr``.

    Returns
    -------
    fingerprint : str
        Hexadecimal SHA-1 digest.
    """
    module = _unwrap(module)
    digest = hashlib.sha1(usedforsecurity=False)
    digest.update(type(module).__qualname__.encode())
    for name, tensor in module.state_dict().items():
        if any(name.startswith(path + ".") for path in split.head_paths):
            continue
        tensor = tensor.detach().cpu().contiguous()
        digest.update(f"{name}:{tensor.dtype}:{tuple(tensor.shape)}".encode())
        digest.update(tensor.reshape(-1).view(torch.uint8).numpy().tobytes())
    for item in extra:
        digest.update(repr(item).encode())
    return digest.hexdigest()


def head_inputs(module, split, batches):
    """Run the network in evaluation mode; yield its head's input per batch.

    Parameters
    ----------
    module : torch.nn.Module
        The network (set to evaluation mode meanwhile, then back).
    split : HeadSplit
        Its split.
    batches : iterable of torch.Tensor
        Input batches, on the module's device.

    Yields
    ------
    features : torch.Tensor of shape (batch_size, ...)
        What the head received, detached.

    Raises
    ------
    NotCacheableError
        When the head's output is not the network's output (layers follow it
        in ``forward``) or the head is called other than once per batch.
    """
    module = _unwrap(module)
    received, returned = [], []

    def _keep_input(layer, args):
        # A copy: an in-place first layer (VGG's ReLU) would overwrite it.
        received.append(args[0].detach().clone() if args else None)

    def _keep_output(layer, args, output):
        returned.append(output)

    hooks = [
        split.entry.register_forward_pre_hook(_keep_input),
        split.exit.register_forward_hook(_keep_output),
    ]
    was_training = module.training
    module.eval()
    try:
        with torch.no_grad():
            for batch in batches:
                received.clear()
                returned.clear()
                output = module(batch)
                if len(received) != 1 or not isinstance(received[0], torch.Tensor):
                    raise NotCacheableError(
                        f"the head {split.head_paths!r} was called {len(received)} "
                        "times, or with other than one tensor, in one forward pass; "
                        "its features cannot be cached."
                    )
                if returned[-1] is not output:
                    raise NotCacheableError(
                        f"the output of the head {split.head_paths!r} is not the "
                        "network's output (layers follow it in forward); its "
                        "features cannot be cached."
                    )
                yield received[0]
    finally:
        for hook in hooks:
            hook.remove()
        module.train(was_training)
