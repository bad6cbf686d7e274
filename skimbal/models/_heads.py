"""Small heads for feature vectors: what trains on a frozen backbone's output."""

import numbers

from torch import nn

from ._torchvision import _check_positive_int

__all__ = ["LinearHead", "MLPHead"]


class LinearHead(nn.Module):
    """One linear layer from a feature vector to the class logits.

    The head a frozen backbone's features need most (a linear probe): with
    :class:`~skimbal.CNNClassifier` (``module="linear"``) it takes every
    criterion, ``class_weight`` and sampler of the package. Input of any
    shape is flattened per sample.

    Parameters
    ----------
    in_features : int, default=512
        Length of a feature vector; :class:`~skimbal.CNNClassifier` sets it
        from the data.
    num_classes : int, default=2
        Number of outputs (logits).

    Attributes
    ----------
    linear : torch.nn.Linear
        The layer.

    See Also
    --------
    MLPHead : With hidden layers.
    skimbal.BackboneFeatures : Turns images into feature vectors.

    Examples
    --------
    >>> import torch
    >>> from skimbal.models import LinearHead
    >>> LinearHead(in_features=4, num_classes=3)(torch.zeros(2, 4)).shape
    torch.Size([2, 3])
    """

    #: Takes rows of features, not images: CNNClassifier does not warn that
    #: square-numbered rows look like flattened images.
    takes_feature_vectors = True

    def __init__(self, in_features=512, num_classes=2):
        super().__init__()
        in_features = _check_positive_int("in_features", in_features)
        num_classes = _check_positive_int("num_classes", num_classes)
        self.linear = nn.Linear(in_features, num_classes)

    def forward(self, x):
        """Return the logits of a batch of feature vectors.

        Parameters
        ----------
        x : torch.Tensor of shape (batch_size, ...)
            Features, flattened per sample to ``in_features`` values.

        Returns
        -------
        logits : torch.Tensor of shape (batch_size, num_classes)
            Unnormalised class scores.
        """
        return self.linear(x.flatten(1))


class MLPHead(nn.Module):
    """A small multi-layer perceptron from a feature vector to the logits.

    Each hidden layer is Linear -> ReLU -> Dropout; a Linear layer to
    ``num_classes`` logits ends it. Input of any shape is flattened per
    sample.

    Parameters
    ----------
    in_features : int, default=512
        Length of a feature vector; :class:`~skimbal.CNNClassifier` sets it
        from the data.
    num_classes : int, default=2
        Number of outputs (logits).
    hidden_units : tuple of int, default=(256,)
        Width of each hidden layer.
    dropout : float, default=0.2
        Dropout probability after each hidden layer, in [0, 1).

    Attributes
    ----------
    layers : torch.nn.Sequential
        The layers, in order.

    See Also
    --------
    LinearHead : Without hidden layers.

    Examples
    --------
    >>> import torch
    >>> from skimbal.models import MLPHead
    >>> head = MLPHead(in_features=8, num_classes=2, hidden_units=(4,))
    >>> head(torch.zeros(5, 8)).shape
    torch.Size([5, 2])
    """

    takes_feature_vectors = True

    def __init__(
        self, in_features=512, num_classes=2, hidden_units=(256,), dropout=0.2
    ):
        super().__init__()
        width = _check_positive_int("in_features", in_features)
        num_classes = _check_positive_int("num_classes", num_classes)
        if isinstance(hidden_units, numbers.Integral):
            hidden_units = (hidden_units,)
        if not isinstance(dropout, numbers.Real) or not 0 <= dropout < 1:
            raise ValueError(f"dropout must be in [0, 1); got dropout={dropout!r}.")
        layers = []
        for units in hidden_units:
            units = _check_positive_int("hidden_units", units)
            layers += [nn.Linear(width, units), nn.ReLU(), nn.Dropout(dropout)]
            width = units
        layers.append(nn.Linear(width, num_classes))
        self.layers = nn.Sequential(*layers)

    def forward(self, x):
        """Return the logits of a batch of feature vectors.

        Parameters
        ----------
        x : torch.Tensor of shape (batch_size, ...)
            Features, flattened per sample to ``in_features`` values.

        Returns
        -------
        logits : torch.Tensor of shape (batch_size, num_classes)
            Unnormalised class scores.
        """
        return self.layers(x.flatten(1))
