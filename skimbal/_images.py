"""Lazy decoding of images given as a column of file paths.

A classifier that takes image *paths* as ``X`` keeps its inputs tiny (one
string per sample), so that samplers, cross-validation splits and grid searches
copy strings rather than pixels; the pixels are decoded batch by batch, in
DataLoader workers, by :class:`ImagePathDataset`.
"""

import numbers
import os
import warnings

import numpy as np
import torch
from PIL import Image
from sklearn.utils.validation import validate_data

__all__ = [
    "MAX_IMAGE_PIXELS",
    "ImagePathDataset",
    "as_path_column",
    "check_augment",
    "check_image_paths",
    "is_path_column",
    "load_image",
    "make_image_transform",
    "path_column_values",
    "path_image_shape",
    "validate_path_column",
]

#: Largest number of pixels (width * height) an image file may declare.
#: PIL's own default, but enforced as an error whatever PIL's setting is: a
#: small compressed file that decodes to gigabytes would otherwise stall or
#: kill a training run (a "decompression bomb").
MAX_IMAGE_PIXELS = 89_478_485

# PIL modes that hold more than 8 bits per channel and that ``Image.convert``
# would clip rather than rescale (a 16-bit PNG would turn almost all white).
_WIDE_INTEGER_MODES = frozenset({"I", "I;16", "I;16B", "I;16L", "I;16N"})


def _is_path(value):
    return isinstance(value, str | os.PathLike)


def is_path_column(X):
    """Tell whether ``X`` is a single column of image file paths.

    Parameters
    ----------
    X : object
        Candidate input of a classifier.

    Returns
    -------
    is_paths : bool
        True for a non-empty one-column :class:`pandas.DataFrame` or an
        ``(n_samples, 1)`` numpy array whose entries are all ``str`` or
        :class:`os.PathLike`; False otherwise (numeric arrays, 4-D image
        tensors, several columns, ...).

    See Also
    --------
    path_column_values : The paths of such a column as a 1-D array.

    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> from skimbal._images import is_path_column
    >>> is_path_column(pd.DataFrame({"path": ["a.png", "b.png"]}))
    True
    >>> is_path_column(np.array([["a.png"], ["b.png"]], dtype=object))
    True
    >>> is_path_column(np.zeros((2, 1)))
    False
    """
    values = _column_values_or_none(X)
    return values is not None


def _column_values_or_none(X):
    # Imported here: pandas is only needed when a DataFrame is actually given.
    import pandas as pd

    if isinstance(X, pd.DataFrame):
        if X.shape[1] != 1:
            return None
        values = X.iloc[:, 0].to_numpy(dtype=object)
    elif isinstance(X, np.ndarray):
        if X.ndim != 2 or X.shape[1] != 1 or X.dtype.kind not in "OU":
            return None
        values = X[:, 0].astype(object)
    else:
        return None
    if values.size == 0 or not all(_is_path(value) for value in values):
        return None
    return values


def as_path_column(X, column_name=None):
    """Return 1-D image paths as a one-column path input; other X unchanged.

    A list, tuple, 1-D numpy array or :class:`pandas.Series` whose entries
    are all ``str`` or :class:`os.PathLike` is unambiguous: one path per
    sample. It becomes an ``(n_samples, 1)`` object array, or a one-column
    DataFrame when there is a column name: a named Series keeps its own
    name (it is ``X[[name]]``), any other 1-D input takes ``column_name``
    (the name the estimator was fitted with, so that scikit-learn's feature
    name check passes). 1-D numbers are left as they are, for scikit-learn's
    validation to reject.

    Parameters
    ----------
    X : object
        Candidate input of a classifier.
    column_name : str or None, default=None
        Name for a column made from input without a name of its own.

    Returns
    -------
    X : object
        ``X`` as a path column, or ``X`` itself.

    Raises
    ------
    TypeError
        If ``X`` is a single path: that is one sample, which scikit-learn's
        API takes as a list of one.

    Examples
    --------
    >>> from skimbal._images import as_path_column
    >>> as_path_column(["a.png", "b.png"])
    array([['a.png'],
           ['b.png']], dtype=object)
    >>> as_path_column(["a.png"], column_name="path")
        path
    0  a.png
    >>> as_path_column("a.png")
    Traceback (most recent call last):
    ...
    TypeError: X must hold one image path per sample, not a single path; got \
'a.png'. Wrap it in a list: [X].
    """
    import pandas as pd

    if isinstance(X, str | os.PathLike):
        raise TypeError(
            "X must hold one image path per sample, not a single path; got "
            f"{X!r}. Wrap it in a list: [X]."
        )
    if isinstance(X, pd.Series):
        if isinstance(X.name, str):
            column_name = X.name
        values = X.to_numpy(dtype=object)
    elif isinstance(X, list | tuple) or (isinstance(X, np.ndarray) and X.ndim == 1):
        values = X
    else:
        return X
    if len(values) == 0 or not all(_is_path(value) for value in values):
        return X
    values = np.array([os.fspath(value) for value in values], dtype=object)
    if column_name is None:
        return values.reshape(-1, 1)
    return pd.DataFrame({column_name: values})


def path_column_values(X):
    """Return the paths of a one-column path input as a 1-D object array.

    Parameters
    ----------
    X : DataFrame of shape (n_samples, 1) or ndarray of shape (n_samples, 1)
        A column of ``str`` or :class:`os.PathLike` image paths, as accepted
        by :func:`is_path_column`.

    Returns
    -------
    paths : ndarray of shape (n_samples,), dtype=object
        The paths as ``str``.

    Raises
    ------
    ValueError
        If ``X`` is not a column of paths.

    See Also
    --------
    is_path_column : The test this function applies.

    Examples
    --------
    >>> from pathlib import Path
    >>> import pandas as pd
    >>> from skimbal._images import path_column_values
    >>> path_column_values(pd.DataFrame({"path": ["a.png", Path("b.png")]}))
    array(['a.png', 'b.png'], dtype=object)
    """
    values = _column_values_or_none(X)
    if values is None:
        raise ValueError(
            "X must be a column of image paths: a one-column pandas DataFrame or "
            "an (n_samples, 1) numpy array whose entries are all str or "
            f"os.PathLike; got {_describe(X)}."
        )
    return np.array([os.fspath(value) for value in values], dtype=object)


def _describe(X):
    shape = getattr(X, "shape", None)
    dtype = getattr(X, "dtype", None)
    if shape is None:
        return f"an object of type {type(X).__name__}"
    return f"a {type(X).__name__} of shape {shape} and dtype {dtype}"


def _as_path_array(paths, name="paths"):
    """1-D object array of str from a sequence of paths or a path column."""
    if isinstance(paths, str | os.PathLike):
        raise TypeError(
            f"{name} must be a sequence of file paths, not a single path; got "
            f"{paths!r}. Wrap it in a list."
        )
    if getattr(paths, "ndim", 1) == 2:
        return path_column_values(paths)
    values = np.asarray(paths, dtype=object)
    if values.ndim != 1:
        raise ValueError(
            f"{name} must be 1-D (or an (n_samples, 1) column); got an array of "
            f"shape {values.shape}."
        )
    for index, value in enumerate(values):
        if not _is_path(value):
            raise TypeError(
                f"{name} must hold str or os.PathLike file paths; entry {index} "
                f"is {value!r} of type {type(value).__name__}."
            )
    return np.array([os.fspath(value) for value in values], dtype=object)


def check_image_paths(paths):
    """Check that every path names an existing file, before any decoding.

    A cheap :func:`os.path.isfile` test, so that a typo or a moved folder
    fails at the start of ``fit`` rather than in the middle of an epoch.
    Whether the files are decodable images is only known when they are read
    (see :func:`load_image`).

    Parameters
    ----------
    paths : array-like of shape (n_samples,) or (n_samples, 1)
        File paths (``str`` or :class:`os.PathLike`).

    Raises
    ------
    FileNotFoundError
        Naming up to five missing files and how many are missing in total.
    TypeError
        If an entry is not a path.

    See Also
    --------
    load_image : Decode one file, with the errors it may raise.

    Examples
    --------
    >>> from skimbal._images import check_image_paths
    >>> check_image_paths(["no/such/image.png"])
    Traceback (most recent call last):
    ...
    FileNotFoundError: 1 of 1 image files do not exist: 'no/such/image.png'.
    """
    values = _as_path_array(paths)
    missing = [path for path in values if not os.path.isfile(path)]
    if missing:
        shown = ", ".join(repr(path) for path in missing[:5])
        more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
        raise FileNotFoundError(
            f"{len(missing)} of {len(values)} image files do not exist: {shown}{more}."
        )


def validate_path_column(estimator, X, y=None, *, reset):
    """Validate a column of image paths the scikit-learn way.

    :func:`~sklearn.utils.validation.validate_data` records (``reset=True``)
    or checks (``reset=False``) ``n_features_in_`` and
    ``feature_names_in_``; then every path must name an existing file, so
    that a typo fails now rather than in epoch 3.

    Parameters
    ----------
    estimator : estimator instance
        The estimator the data are validated for.
    X : DataFrame of shape (n_samples, 1) or ndarray of shape (n_samples, 1)
        A column of paths, as accepted by :func:`is_path_column`.
    y : array-like of shape (n_samples,) or None, default=None
        Labels, when fitting.
    reset : bool
        Whether to record (fit) or check (predict) the feature attributes.

    Returns
    -------
    paths : ndarray of shape (n_samples,), dtype=object
        The paths as ``str``.
    y : ndarray of shape (n_samples,) or None
        The validated labels.

    Raises
    ------
    FileNotFoundError
        Naming the missing files.
    """
    common = dict(accept_sparse=False, dtype=None, ensure_all_finite=False)
    if y is None:
        X = validate_data(estimator, X, reset=reset, **common)
    else:
        X, y = validate_data(estimator, X, y, reset=reset, **common)
    paths = path_column_values(X)
    check_image_paths(paths)
    return paths, y


def path_image_shape(input_shape, image_size, *, in_channels, default_size):
    """The ``(C, H, W)`` that images read from paths are converted to.

    Parameters
    ----------
    input_shape : tuple of int or None
        A classifier's ``input_shape``; when given, it is the shape.
    image_size : int, (int, int) or None
        Its ``image_size``: height and width, or ``None`` for
        ``default_size``. Must agree with ``input_shape`` when both are given.
    in_channels : int
        Channels when ``input_shape`` is ``None``.
    default_size : tuple of (int, int)
        Height and width when both ``input_shape`` and ``image_size`` are
        ``None`` (see :func:`skimbal.models._resolve.default_image_size`).

    Returns
    -------
    shape : tuple of int
        ``(channels, height, width)``.

    Raises
    ------
    ValueError
        If ``image_size`` contradicts ``input_shape``.

    Examples
    --------
    >>> from skimbal._images import path_image_shape
    >>> path_image_shape(None, 32, in_channels=3, default_size=(64, 64))
    (3, 32, 32)
    >>> path_image_shape((1, 28, 28), None, in_channels=3, default_size=(64, 64))
    (1, 28, 28)
    """
    size = image_size
    if isinstance(size, numbers.Integral):
        size = (size, size)
    if input_shape is not None:
        shape = tuple(int(s) for s in input_shape)
        if size is not None and tuple(size) != shape[1:]:
            raise ValueError(
                f"image_size={image_size!r} contradicts input_shape="
                f"{input_shape!r}; set only one of them."
            )
        return shape
    if size is None:
        size = default_size
    return (int(in_channels), int(size[0]), int(size[1]))


def find_unreadable_images(paths):
    """Decode every file once and list those that fail.

    Training reads images lazily, batch by batch, so a corrupt file would
    otherwise surface in some epoch of some fit. A one-off decode of every
    file up front costs about what one epoch's reading costs.

    Parameters
    ----------
    paths : iterable of str or os.PathLike
        Image files.

    Returns
    -------
    unreadable : list of (str, str)
        Path and the error message of each file that
        :func:`load_image` cannot decode, in the order given.

    Examples
    --------
    >>> import os, tempfile
    >>> from PIL import Image
    >>> from skimbal._images import find_unreadable_images
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     good, bad = os.path.join(tmp, "a.png"), os.path.join(tmp, "b.png")
    ...     Image.new("L", (4, 4)).save(good)
    ...     with open(bad, "wb") as file:
    ...         _ = file.write(b"not an image")
    ...     [os.path.basename(p) for p, _ in find_unreadable_images([good, bad])]
    ['b.png']
    """
    unreadable = []
    for path in paths:
        try:
            load_image(path)
        except (OSError, ValueError) as error:
            unreadable.append((os.fspath(path), str(error)))
    return unreadable


def load_image(path):
    """Open and fully decode one image file, with errors that name the file.

    Parameters
    ----------
    path : str or os.PathLike
        Image file in any format PIL reads.

    Returns
    -------
    image : PIL.Image.Image
        The decoded image in its stored mode (no conversion). For animated
        formats, the first frame.

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    ValueError
        If the file cannot be decoded as an image (corrupt, truncated, not
        an image), or if it declares more than :data:`MAX_IMAGE_PIXELS`
        pixels; checked from the header, before the pixels are decoded.

    See Also
    --------
    check_image_paths : Existence check for many files at once.

    Examples
    --------
    >>> import os, tempfile
    >>> from PIL import Image
    >>> from skimbal._images import load_image
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = os.path.join(tmp, "red.png")
    ...     Image.new("RGB", (4, 3), "red").save(path)
    ...     image = load_image(path)
    >>> image.size, image.mode
    ((4, 3), 'RGB')
    """
    path = os.fspath(path)
    try:
        # PIL only warns between its limit and twice its limit; make the
        # warning an exception so such files never get decoded either.
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(path)
    except FileNotFoundError:
        raise FileNotFoundError(f"image file {path!r} does not exist.") from None
    except (IsADirectoryError, PermissionError):
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ValueError(
            f"image file {path!r} is too large to decode safely: {exc}"
        ) from exc
    except Exception as exc:
        raise ValueError(f"cannot decode image file {path!r}: {exc}") from exc
    with image:
        width, height = image.size
        if width * height > MAX_IMAGE_PIXELS:
            raise ValueError(
                f"image file {path!r} is {width} x {height} = {width * height} "
                f"pixels, more than the limit of MAX_IMAGE_PIXELS="
                f"{MAX_IMAGE_PIXELS} (skimbal._images.MAX_IMAGE_PIXELS); refusing "
                "to decode it as a possible decompression bomb."
            )
        try:
            image.load()
        except MemoryError:
            raise
        except Exception as exc:
            raise ValueError(f"cannot decode image file {path!r}: {exc}") from exc
    return image


class _ConvertMode:
    """Convert a PIL image to mode ``"L"`` or ``"RGB"``.

    A module-level class rather than a lambda so that the transform pickles
    (DataLoader workers, joblib). Alpha is dropped; 16-bit images are scaled
    to 8 bits rather than clipped.
    """

    def __init__(self, mode):
        self.mode = mode

    def __call__(self, image):
        if image.mode == self.mode:
            return image
        if image.mode in _WIDE_INTEGER_MODES:
            # 65535 / 257 == 255: maps the 16-bit range onto the 8-bit one.
            values = np.asarray(image, dtype=np.float64) / 257.0
            values = np.clip(np.rint(values), 0, 255).astype(np.uint8)
            image = Image.fromarray(values)
        elif image.mode == "P" and "transparency" in image.info:
            # Converting such palettes straight to RGB makes PIL warn.
            image = image.convert("RGBA")
        return image.convert(self.mode)

    def __repr__(self):
        return f"{type(self).__name__}(mode={self.mode!r})"


def _check_image_size(image_size):
    if isinstance(image_size, numbers.Integral) and not isinstance(image_size, bool):
        size = (int(image_size), int(image_size))
    elif (
        isinstance(image_size, tuple | list)
        and len(image_size) == 2
        and all(
            isinstance(v, numbers.Integral) and not isinstance(v, bool)
            for v in image_size
        )
    ):
        size = (int(image_size[0]), int(image_size[1]))
    else:
        size = None
    if size is None or min(size) < 1:
        raise ValueError(
            "image_size must be a positive int or a (height, width) pair of "
            f"positive ints; got image_size={image_size!r}."
        )
    return size


def _check_stats(name, values, channels):
    try:
        stats = tuple(float(v) for v in values)
    except (TypeError, ValueError):
        stats = ()
    if len(stats) not in {1, channels} or not all(np.isfinite(stats)):
        raise ValueError(
            f"{name} must be a sequence of 1 or channels={channels} finite "
            f"numbers; got {name}={values!r}."
        )
    return stats


def check_augment(augment):
    """Raise ``TypeError`` unless ``augment`` is a bool or a callable."""
    if not (isinstance(augment, bool | np.bool_) or callable(augment)):
        raise TypeError(
            "augment must be a bool or a callable that maps an image tensor to an "
            "image tensor (e.g. a torchvision v2 transform); got "
            f"augment={augment!r}."
        )


def make_image_transform(*, image_size, channels, mean=None, std=None, augment=False):
    """Build the transform from a decoded PIL image to a network input.

    The steps are: convert to mode ``"L"`` (``channels=1``) or ``"RGB"``
    (``channels=3``); resize to ``image_size`` (aspect ratio not kept, so
    that every image of a batch has the same shape); with ``augment=True``,
    a random crop of 80-100 % of the area resized back to ``image_size`` and
    a random horizontal flip (or a callable of your own, see ``augment``);
    conversion to a float tensor in ``[0, 1]``;
    and, when ``mean`` and ``std`` are given, ``(x - mean) / std`` per
    channel.

    Parameters
    ----------
    image_size : int or tuple of (int, int)
        Output height and width; an int gives a square image.
    channels : {1, 3}
        Number of channels of the output tensor.
    mean : sequence of float, default=None
        Per-channel means (length 1 or ``channels``) subtracted after
        scaling to ``[0, 1]``. Must be given together with ``std``.
    std : sequence of float, default=None
        Per-channel standard deviations, all positive.
    augment : bool or callable, default=False
        ``True`` adds the random crop and flip; a callable (e.g. a
        ``torchvision.transforms.v2`` transform) is applied to the float
        tensor in ``[0, 1]`` instead, before normalisation. Use for training
        data only; the caller builds a separate transform without
        augmentation for prediction.

    Returns
    -------
    transform : torchvision.transforms.v2.Compose
        Picklable callable mapping a PIL image to a float32 tensor of shape
        ``(channels, height, width)``.

    See Also
    --------
    ImagePathDataset : Applies the transform to images read from paths.

    Notes
    -----
    The random crop is taken from the already resized image, so that
    training and prediction see objects at the same scale and aspect ratio
    (up to the crop's 0.8-1 area and 3/4-4/3 aspect jitter).

    Examples
    --------
    >>> from PIL import Image
    >>> from skimbal._images import make_image_transform
    >>> transform = make_image_transform(image_size=(8, 6), channels=1)
    >>> x = transform(Image.new("RGBA", (30, 20), (255, 255, 255, 0)))
    >>> x.shape, x.dtype, x.max().item()
    (torch.Size([1, 8, 6]), torch.float32, 1.0)
    >>> transform = make_image_transform(
    ...     image_size=4, channels=3, mean=(0.5, 0.5, 0.5), std=(0.25, 0.25, 0.25)
    ... )
    >>> transform(Image.new("RGB", (4, 4), (255, 0, 255)))[:, 0, 0]
    tensor([ 2., -2.,  2.])
    """
    size = _check_image_size(image_size)
    if channels not in (1, 3) or isinstance(channels, bool):
        raise ValueError(f"channels must be 1 or 3; got channels={channels!r}.")
    if (mean is None) != (std is None):
        raise ValueError(
            "mean and std must be given together or both left None; got "
            f"mean={mean!r}, std={std!r}."
        )
    check_augment(augment)
    # Imported here: torchvision's import pulls in torch._dynamo (about 1 s),
    # which pixel arrays never need (#18).
    from torchvision.transforms import v2

    steps = [_ConvertMode("L" if channels == 1 else "RGB"), v2.Resize(size)]
    if augment is True or augment is np.True_:
        steps += [
            v2.RandomResizedCrop(size, scale=(0.8, 1.0)),
            v2.RandomHorizontalFlip(),
        ]
    steps += [v2.ToImage(), v2.ToDtype(torch.float32, scale=True)]
    if callable(augment):
        steps.append(augment)
    if mean is not None:
        mean = _check_stats("mean", mean, channels)
        std = _check_stats("std", std, channels)
        if min(std) <= 0:
            raise ValueError(f"std must be positive; got std={std!r}.")
        steps.append(v2.Normalize(mean=list(mean), std=list(std)))
    return v2.Compose(steps)


class ImagePathDataset(torch.utils.data.Dataset):
    """Dataset that decodes images from their paths when indexed.

    Parameters
    ----------
    paths : array-like of shape (n_samples,) or (n_samples, 1)
        Image file paths (``str`` or :class:`os.PathLike`); a one-column
        DataFrame or ``(n_samples, 1)`` array of paths is accepted too, so
        the class can serve as skorch's ``dataset`` parameter.
    y : array-like of shape (n_samples,), default=None
        Integer class indices (labels already encoded). When ``None``, every
        item carries the placeholder target ``0``, following skorch's
        convention for prediction-time datasets.
    transform : callable
        Maps the decoded :class:`PIL.Image.Image` to a tensor, e.g. the
        result of :func:`make_image_transform`. Keyword-only and required.
        It must be picklable for ``DataLoader(num_workers > 0)``.

    Attributes
    ----------
    paths : ndarray of shape (n_samples,), dtype=object
        The paths as ``str``.
    y : ndarray of shape (n_samples,), dtype=int64 or None
        The targets.
    transform : callable
        The transform given.

    See Also
    --------
    make_image_transform : Builds a suitable ``transform``.
    load_image : How each file is decoded, and the errors it raises.

    Examples
    --------
    >>> import os, tempfile
    >>> from PIL import Image
    >>> from skimbal._images import ImagePathDataset, make_image_transform
    >>> transform = make_image_transform(image_size=8, channels=3)
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     paths = [os.path.join(tmp, f"{i}.png") for i in range(2)]
    ...     for path in paths:
    ...         Image.new("L", (16, 12), 128).save(path)
    ...     dataset = ImagePathDataset(paths, [0, 1], transform=transform)
    ...     x, y = dataset[1]
    >>> len(dataset), tuple(x.shape), y
    (2, (3, 8, 8), tensor(1))
    """

    def __init__(self, paths, y=None, *, transform):
        self.paths = _as_path_array(paths)
        if not callable(transform):
            raise TypeError(
                "transform must be a callable mapping a PIL image to a tensor "
                f"(see make_image_transform); got transform={transform!r}."
            )
        self.transform = transform
        self.y = None if y is None else self._check_y(y)

    def _check_y(self, y):
        y = np.asarray(y)
        if y.ndim != 1 or y.shape[0] != self.paths.shape[0]:
            raise ValueError(
                f"y must be 1-D with one entry per path ({self.paths.shape[0]}); "
                f"got shape {y.shape}."
            )
        integral = y.dtype.kind in "iub" or (
            y.dtype.kind == "f" and np.all(np.isfinite(y)) and np.all(y == np.rint(y))
        )
        if not integral or (y.size and y.min() < 0):
            raise TypeError(
                "y must hold non-negative integer class indices (encode labels "
                f"first, e.g. with sklearn.preprocessing.LabelEncoder); got dtype "
                f"{y.dtype} with values such as {y[:3].tolist()!r}."
            )
        return y.astype(np.int64)

    def __len__(self):
        return self.paths.shape[0]

    def __getitem__(self, index):
        x = self.transform(load_image(self.paths[index]))
        if self.y is None:
            return x, torch.tensor(0)
        return x, torch.tensor(self.y[index])
