"""Turn validated X (flat pixel rows or 4-D arrays) into what the network eats.

imbalanced-learn samplers only accept 2-D X, so pixels travel through a
pipeline as flat rows and become ``(C, H, W)`` images only here, right before
training or prediction.
"""

import math

import numpy as np
import torch
from torch.utils.data import Dataset, TensorDataset

__all__ = ["PreparedDataset", "infer_image_shape", "pixels_to_dataset"]


class PreparedDataset(Dataset):
    """Marks data that :class:`~skimbal.CNNClassifier` has already validated.

    skorch's ``fit`` calls ``partial_fit`` internally; this wrapper lets
    ``partial_fit`` tell that internal call from a user's call with raw X.
    """

    def __init__(self, dataset):
        self.dataset = dataset

    def __len__(self):
        return len(self.dataset)

    def __getitem__(self, index):
        return self.dataset[index]


def infer_image_shape(X, input_shape):
    """Return the ``(C, H, W)`` shape of one sample of validated X.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features) or (n_samples, C, H, W)
        Validated numeric input.
    input_shape : tuple of int or None
        The classifier's ``input_shape`` parameter.

    Returns
    -------
    shape : tuple of int
        ``input_shape`` when given and consistent with X; ``X.shape[1:]`` for
        4-D X; ``(1, 1, n_features)`` for rows without ``input_shape``.

    Examples
    --------
    >>> import numpy as np
    >>> from skimbal._data import infer_image_shape
    >>> infer_image_shape(np.zeros((5, 784)), (1, 28, 28))
    (1, 28, 28)
    >>> infer_image_shape(np.zeros((5, 10)), None)
    (1, 1, 10)
    """
    if X.ndim == 4:
        shape = tuple(int(s) for s in X.shape[1:])
        if input_shape is not None and tuple(input_shape) != shape:
            raise ValueError(
                f"X has images of shape {shape} but input_shape={tuple(input_shape)}; "
                "pass input_shape=None or reshape X."
            )
        return shape
    n_features = X.shape[1]
    if input_shape is None:
        return (1, 1, n_features)
    if math.prod(input_shape) != n_features:
        raise ValueError(
            f"X has {n_features} features per row but input_shape="
            f"{tuple(input_shape)} needs C*H*W = {math.prod(input_shape)}; pass the "
            "shape of one image as (channels, height, width) or input_shape=None."
        )
    return tuple(int(s) for s in input_shape)


def pixels_to_dataset(X, y, image_shape):
    """Wrap validated pixels (and encoded labels) in a :class:`PreparedDataset`.

    ``uint8`` pixels are scaled to ``[0, 1]``; every other dtype is used as
    given. The labels must already be encoded as ``0..n_classes-1``.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features) or (n_samples, C, H, W)
        Validated numeric input.
    y : ndarray of shape (n_samples,) or None
        Encoded labels; ``None`` at predict time.
    image_shape : tuple of int
        ``(C, H, W)`` of one sample, from :func:`infer_image_shape`.

    Returns
    -------
    dataset : PreparedDataset
        Yields ``(image float32 tensor of shape (C, H, W), label)`` pairs.

    Examples
    --------
    >>> import numpy as np
    >>> from skimbal._data import pixels_to_dataset
    >>> ds = pixels_to_dataset(np.full((2, 4), 255, np.uint8), np.array([0, 1]),
    ...                        (1, 2, 2))
    >>> image, label = ds[1]
    >>> image.shape, float(image.max()), int(label)
    (torch.Size([1, 2, 2]), 1.0, 1)
    """
    scale = 1.0 / 255.0 if X.dtype == np.uint8 else None
    # np.array (not asarray) copies: read-only memmaps and views of the
    # caller's data must never be shared with torch.
    images = np.array(X, dtype=np.float32, order="C")
    if scale is not None:
        images *= scale
    images = torch.from_numpy(images).reshape(len(images), *image_shape)
    if y is None:
        labels = torch.zeros(len(images), dtype=torch.long)
    else:
        labels = torch.as_tensor(np.asarray(y), dtype=torch.long)
    return PreparedDataset(TensorDataset(images, labels))
