"""Turn validated X (pixel rows, 4-D arrays, image paths) into torch datasets.

imbalanced-learn samplers only accept 2-D X, so pixels travel through a
pipeline as flat rows and become ``(C, H, W)`` images only here, right before
training or prediction.
"""

import math

import numpy as np
import torch
from sklearn.model_selection import StratifiedGroupKFold
from torch.utils.data import Dataset, Subset, WeightedRandomSampler

from ._images import ImagePathDataset, make_image_transform

__all__ = [
    "PixelRows",
    "PreparedDataset",
    "as_prepared",
    "class_balanced_sampler",
    "duplicate_groups",
    "infer_image_shape",
    "likely_image_shape",
    "paths_to_dataset",
    "pixel_augmentation",
    "pixels_to_dataset",
    "split_keeping_copies_together",
    "to_dataset",
]


class PreparedDataset(Dataset):
    """Data that :class:`~skimbal.CNNClassifier` has validated and encoded.

    Besides the samples it carries what batch sampling and validation splits
    need to know without decoding any image: the encoded labels, and the
    rows as the user gave them (pixels or paths), whose equal values mark
    copies of one sample.

    Parameters
    ----------
    dataset : torch Dataset
        Yields ``(image tensor, encoded label)`` pairs.
    labels : ndarray of shape (n_samples,)
        Encoded labels (zeros at predict time).
    rows : ndarray of shape (n_samples, ...)
        The validated input rows, used only to find duplicated samples.
    eval_dataset : torch Dataset or None, default=None
        The same samples without training-time augmentation, for validation
        splits; ``None`` when ``dataset`` has no augmentation.
    """

    def __init__(self, dataset, labels, rows, eval_dataset=None):
        self.dataset = dataset
        self.labels = np.asarray(labels)
        self.rows = rows
        self.eval_dataset = eval_dataset

    def __len__(self):
        return len(self.dataset)

    def __getitem__(self, index):
        return self.dataset[index]

    def __getitems__(self, indices):
        # DataLoader fetches a whole batch through __getitems__ when there is
        # one; pass it on so that PixelRows converts the batch in one go.
        getitems = getattr(self.dataset, "__getitems__", None)
        if getitems is None:
            return [self.dataset[index] for index in indices]
        return getitems(indices)

    def subset(self, indices):
        """Return the samples at ``indices`` as a new :class:`PreparedDataset`."""
        eval_dataset = self.eval_dataset and Subset(self.eval_dataset, indices)
        return PreparedDataset(
            Subset(self.dataset, indices),
            self.labels[indices],
            self.rows[indices],
            eval_dataset,
        )

    def without_augmentation(self):
        """Return these samples as they are seen at predict time."""
        if self.eval_dataset is None:
            return self
        return PreparedDataset(self.eval_dataset, self.labels, self.rows)


def as_prepared(dataset, *, validation=False):
    """Turn a custom ``train_split``'s ``Subset`` back into a PreparedDataset.

    So that training data keep their labels (``balanced_batches`` samples by
    them) and validation data are seen without augmentation, as at predict.

    Parameters
    ----------
    dataset : Dataset or None
        One part of a split: a :class:`PreparedDataset`, a ``Subset`` of
        one, or anything else (returned as is).
    validation : bool, default=False
        Whether this is the validation part.

    Returns
    -------
    dataset : Dataset or None
        A :class:`PreparedDataset` where ``dataset`` was, or wrapped, one.
    """
    if isinstance(dataset, Subset) and isinstance(dataset.dataset, PreparedDataset):
        dataset = dataset.dataset.subset(np.asarray(dataset.indices))
    if validation and isinstance(dataset, PreparedDataset):
        dataset = dataset.without_augmentation()
    return dataset


def class_balanced_sampler(labels):
    """Draw each class equally often, with replacement, ``len(labels)`` per epoch.

    Parameters
    ----------
    labels : ndarray of shape (n_samples,)
        Encoded labels of the training samples; every class must occur.

    Returns
    -------
    sampler : torch.utils.data.WeightedRandomSampler
        Weights each sample by one over its class's count.

    Examples
    --------
    >>> import numpy as np
    >>> from skimbal._data import class_balanced_sampler
    >>> class_balanced_sampler(np.array([0, 0, 0, 1])).weights
    tensor([0.3333, 0.3333, 0.3333, 1.0000], dtype=torch.float64)
    """
    counts = np.bincount(labels)
    weights = torch.as_tensor(1.0 / counts[labels], dtype=torch.double)
    return WeightedRandomSampler(weights, num_samples=len(labels), replacement=True)


def duplicate_groups(rows):
    """Group ids such that identical rows (e.g. oversampled copies) share one.

    Examples
    --------
    >>> import numpy as np
    >>> from skimbal._data import duplicate_groups
    >>> duplicate_groups(np.array([[1, 2], [3, 4], [1, 2]]))
    array([0, 1, 0])
    """
    flat = rows.reshape(len(rows), -1) if rows.ndim > 1 else rows.reshape(-1, 1)
    if flat.dtype == object:
        flat = flat.astype(str)
    return np.unique(flat, axis=0, return_inverse=True)[1].reshape(-1)


def split_keeping_copies_together(dataset, validation_fraction, random_state):
    """Stratified train/validation split that never separates identical rows.

    Inside an imbalanced-learn pipeline the classifier sees the *resampled*
    training fold; a plain split would put copies of one minority sample on
    both sides and make validation scores look better than they are.

    Parameters
    ----------
    dataset : PreparedDataset
        The training data as the classifier received it.
    validation_fraction : float
        Approximate share of samples (by groups of copies) held out.
    random_state : int
        Seed of the split.

    Returns
    -------
    train, valid : PreparedDataset
        Disjoint in rows, not only in indices.
    """
    groups = duplicate_groups(dataset.rows)
    n_splits = max(2, round(1 / validation_fraction))
    splitter = StratifiedGroupKFold(n_splits, shuffle=True, random_state=random_state)
    train, valid = next(splitter.split(dataset.rows, dataset.labels, groups))
    return dataset.subset(train), dataset.subset(valid).without_augmentation()


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


def likely_image_shape(n_features):
    """The ``(C, s, s)`` image that rows of ``n_features`` likely flatten.

    ``(1, s, s)`` when ``n_features`` is a perfect square ``s * s``, and
    ``(3, s, s)`` when it is three times one, for sides ``s >= 4``. Smaller
    "images" (4, 9, 12 or 27 features) are more likely tabular data, such
    as the small data sets of scikit-learn's estimator checks.

    Parameters
    ----------
    n_features : int
        Number of features per row.

    Returns
    -------
    shape : tuple of int or None
        ``None`` when no such square image has ``n_features`` pixels.

    Examples
    --------
    >>> from skimbal._data import likely_image_shape
    >>> likely_image_shape(784), likely_image_shape(3 * 32 * 32)
    ((1, 28, 28), (3, 32, 32))
    >>> likely_image_shape(9) is None, likely_image_shape(20) is None
    (True, True)
    """
    for channels in (1, 3):
        side = math.isqrt(n_features // channels)
        if side >= 4 and channels * side * side == n_features:
            return (channels, side, side)
    return None


def to_dataset(X, y, *, image_shape, augment=False, normalization=None):
    """Wrap validated pixels or paths (and encoded labels) in a dataset.

    Parameters
    ----------
    X : ndarray
        Validated input: numeric pixels (see :func:`pixels_to_dataset`) or a
        1-D object array of image paths (see :func:`paths_to_dataset`).
    y : ndarray of shape (n_samples,) or None
        Encoded labels; ``None`` at predict time.
    image_shape : tuple of int
        ``(C, H, W)`` of one sample as the network sees it.
    augment : bool or callable, default=False
        A classifier's ``augment`` parameter, for training data; ``False``
        for data seen as at predict time.
    normalization : tuple of (tuple of float, tuple of float) or None, \
default=None
        Per-channel ``(mean, std)`` for images read from paths (a pretrained
        backbone's, see :func:`skimbal.models._resolve.input_normalization`).

    Returns
    -------
    dataset : PreparedDataset
        Yields ``(image float32 tensor of shape (C, H, W), label)`` pairs.
    """
    if X.dtype != object:
        return pixels_to_dataset(X, y, image_shape, pixel_augmentation(augment))
    channels, height, width = image_shape
    mean, std = normalization if normalization is not None else (None, None)

    def transform(augment):
        return make_image_transform(
            image_size=(height, width),
            channels=channels,
            mean=mean,
            std=std,
            augment=augment,
        )

    return paths_to_dataset(
        X,
        y,
        transform=transform(augment),
        eval_transform=transform(False) if augment else None,
    )


def paths_to_dataset(paths, y, *, transform, eval_transform=None):
    """Wrap image paths (and encoded labels) in a :class:`PreparedDataset`.

    Images are decoded lazily, one per item, when the data loader asks.

    Parameters
    ----------
    paths : ndarray of shape (n_samples,)
        Validated paths of existing files.
    y : ndarray of shape (n_samples,) or None
        Encoded labels; ``None`` at predict time.
    transform : callable
        PIL image to tensor, applied when training.
    eval_transform : callable or None, default=None
        The transform without augmentation, used for validation splits;
        ``None`` when ``transform`` has no augmentation.

    Returns
    -------
    dataset : PreparedDataset
        Yields ``(image tensor, label)`` pairs.
    """
    labels = np.zeros(len(paths), dtype=np.int64) if y is None else np.asarray(y)
    dataset = ImagePathDataset(paths, labels, transform=transform)
    eval_dataset = None
    if eval_transform is not None:
        eval_dataset = ImagePathDataset(paths, labels, transform=eval_transform)
    return PreparedDataset(dataset, labels, rows=paths, eval_dataset=eval_dataset)


def pixel_augmentation(augment):
    """The per-sample training transform that ``augment`` asks for, or ``None``.

    ``True`` is a mild random affine map, :class:`RandomAffineImages`: up to
    10 degrees of rotation, 10 % of shift and 10 % of zoom. Unlike the
    crop-and-flip used for photos read from paths, it never mirrors: pixel
    arrays are often digits or letters, whose mirror image is another symbol
    or none. A callable is used as given.
    """
    if augment is False or augment is np.False_:
        return None
    if callable(augment):
        return augment
    return RandomAffineImages()


class RandomAffineImages:
    """Random rotation, shift and zoom, drawn per image, applied per batch.

    The same distribution as torchvision's ``v2.RandomAffine(degrees,
    translate, scale, interpolation=BILINEAR)`` (bilinear: with
    nearest-neighbour sampling a small map often leaves an 8 x 8 digit
    exactly as it was; empty borders are filled with 0), but computed for a
    whole batch with one ``affine_grid`` + ``grid_sample``: per image,
    torchvision's transform costs about 140 microseconds, as much as the rest
    of a small network's training step, and the batched form 1-6.
    :class:`PixelRows` calls :meth:`batch` when it converts a batch; calling
    the object maps one ``(C, H, W)`` image. Draws come from torch's global
    generator, which ``CNNClassifier.fit`` seeds from ``random_state``.

    Parameters
    ----------
    degrees : float, default=10
        Rotation angle drawn from ``[-degrees, degrees]``.
    translate : float, default=0.1
        Shift drawn from ``[-translate, translate]`` of the width (and height).
    scale : tuple of float, default=(0.9, 1.1)
        Zoom factor drawn from this range.

    Examples
    --------
    >>> import torch
    >>> from skimbal._data import RandomAffineImages
    >>> _ = torch.manual_seed(0)
    >>> RandomAffineImages().batch(torch.rand(4, 1, 8, 8)).shape
    torch.Size([4, 1, 8, 8])
    >>> identity = RandomAffineImages(degrees=0, translate=0, scale=(1, 1))
    >>> image = torch.rand(1, 8, 8)
    >>> torch.allclose(identity(image), image, atol=1e-6)
    True
    """

    def __init__(self, degrees=10.0, translate=0.1, scale=(0.9, 1.1)):
        self.degrees = degrees
        self.translate = translate
        self.scale = scale

    def __repr__(self):
        return (
            f"{type(self).__name__}(degrees={self.degrees}, "
            f"translate={self.translate}, scale={self.scale})"
        )

    def __call__(self, image):
        return self.batch(image.unsqueeze(0))[0]

    def batch(self, images):
        """Map each image of an ``(N, C, H, W)`` float tensor by its own draw."""
        n, _, height, width = images.shape

        def uniform(low, high):
            return low + (high - low) * torch.rand(n, dtype=images.dtype)

        angle = torch.deg2rad(uniform(-self.degrees, self.degrees))
        zoom = uniform(*self.scale)
        shift_x = uniform(-self.translate, self.translate) * width
        shift_y = uniform(-self.translate, self.translate) * height
        theta = affine_theta(angle, zoom, shift_x, shift_y, height, width)
        grid = torch.nn.functional.affine_grid(
            theta, list(images.shape), align_corners=False
        )
        return torch.nn.functional.grid_sample(
            images, grid, mode="bilinear", padding_mode="zeros", align_corners=False
        )


def affine_theta(angle, zoom, shift_x, shift_y, height, width):
    """``affine_grid``'s matrices for rotation, zoom and shift, one per image.

    ``angle`` in radians (counter-clockwise, as in torchvision), ``zoom`` a
    factor, shifts in pixels; each an ``(N,)`` tensor. ``affine_grid`` wants,
    per output pixel, where to read in the input, in coordinates normalised
    to [-1, 1] per axis. In centred pixel units the forward map is
    ``p -> zoom R p + shift``, so the inverse is ``R^T (p - shift) / zoom``,
    conjugated by the pixel-to-normalised scaling.
    """
    cos, sin = torch.cos(angle), torch.sin(angle)
    half_w, half_h = width / 2, height / 2
    # Signs as in torchvision: a positive angle turns the picture
    # counter-clockwise on screen, where rows grow downwards. Checked against
    # torchvision's affine() in tests/test_data.py.
    theta = torch.empty(len(angle), 2, 3, dtype=angle.dtype)
    theta[:, 0, 0] = cos / zoom
    theta[:, 0, 1] = sin * half_h / half_w / zoom
    theta[:, 1, 0] = -sin * half_w / half_h / zoom
    theta[:, 1, 1] = cos / zoom
    theta[:, 0, 2] = -(cos * shift_x + sin * shift_y) / zoom / half_w
    theta[:, 1, 2] = -(-sin * shift_x + cos * shift_y) / zoom / half_h
    return theta


def pixels_to_dataset(X, y, image_shape, transform=None):
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
    transform : callable, default=None
        Training-time augmentation applied to each ``(C, H, W)`` float32
        tensor (see :func:`pixel_augmentation`); the dataset then also
        carries an ``eval_dataset`` without it, for validation splits.

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
    labels = np.zeros(len(X), dtype=np.int64) if y is None else np.asarray(y)
    pixels = PixelRows(X, labels, image_shape, transform=transform)
    eval_pixels = None if transform is None else PixelRows(X, labels, image_shape)
    return PreparedDataset(pixels, labels, rows=X, eval_dataset=eval_pixels)


class PixelRows(Dataset):
    """Rows of pixels, turned into float32 images one sample at a time.

    Converting per sample rather than up front keeps the user's array (often
    uint8, often tripled by an over-sampler) the only copy in memory: a float32
    copy of all rows would be 4x its size.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features) or (n_samples, C, H, W)
        Validated numeric rows; ``uint8`` is scaled to [0, 1].
    labels : ndarray of shape (n_samples,)
        Encoded labels.
    image_shape : tuple of int
        ``(C, H, W)`` of one sample.
    transform : callable, default=None
        Applied to each float32 ``(C, H, W)`` tensor, e.g. a random
        augmentation at training time.
    """

    def __init__(self, X, labels, image_shape, transform=None):
        self.X = X
        self.transform = transform
        self.labels = torch.as_tensor(labels, dtype=torch.long)
        self.image_shape = tuple(image_shape)
        self.scale = np.float32(1 / 255) if X.dtype == np.uint8 else None

    def __len__(self):
        return len(self.X)

    def __getitem__(self, index):
        # np.array copies, so the tensor never shares (or writes to) the
        # caller's memory, read-only memmaps included.
        image = np.array(self.X[index], dtype=np.float32).reshape(self.image_shape)
        if self.scale is not None:
            image *= self.scale
        image = torch.from_numpy(image)
        if self.transform is not None:
            image = self.transform(image)
        return image, self.labels[index]

    def __getitems__(self, indices):
        """The samples at ``indices``, converted with one array operation.

        Equal to ``[self[i] for i in indices]``; per-sample conversion costs
        about as much as a small network's step on a batch of 64.
        """
        indices = np.asarray(indices, dtype=np.intp)
        images = np.asarray(self.X[indices], dtype=np.float32)
        images = images.reshape(len(indices), *self.image_shape)
        if self.scale is not None:
            images *= self.scale
        images = torch.from_numpy(images)
        batch_transform = getattr(self.transform, "batch", None)
        if batch_transform is not None:
            images = batch_transform(images)  # one call, not one per image
        images = images.unbind(0)
        if self.transform is not None and batch_transform is None:
            images = [self.transform(image) for image in images]
        return list(zip(images, self.labels[indices].unbind(0), strict=True))
