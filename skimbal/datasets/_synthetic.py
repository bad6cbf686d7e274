"""Generated images: a small defect-inspection set, made in milliseconds."""

import numbers

import numpy as np
from scipy.ndimage import uniform_filter
from sklearn.utils import check_random_state

__all__ = ["make_defect_images"]


def make_defect_images(
    n_samples=110, *, ratio=10, image_size=24, contrast=0.35, random_state=None
):
    """Grey textured surfaces, a few of them with a faint spot: a defect.

    The shape of a visual-inspection problem in a few kilobytes: most images
    show a good part (smoothed noise around mid-grey), one in ``ratio + 1``
    shows the same texture with a small Gaussian spot of brightness
    ``contrast`` somewhere away from the border. It needs no download, and
    at 100 images it is the situation small real data sets put users in:
    a network ranks the rare class well long before its probabilities pass
    0.5.

    Parameters
    ----------
    n_samples : int, default=110
        Number of images.
    ratio : float, default=10
        Good parts per defect; the defects are ``round(n_samples / (ratio +
        1))`` images, at least 1.
    image_size : int, default=24
        Side of the square images, at least 8.
    contrast : float, default=0.35
        Peak brightness the spot adds (the texture's standard deviation is
        about 0.05 after smoothing): lower is harder.
    random_state : int, RandomState instance or None, default=None
        Seeds the texture, the spots and the order.

    Returns
    -------
    X : ndarray of shape (n_samples, image_size * image_size), float32
        Flat grey images in [0, 1], for ``input_shape=(1, image_size,
        image_size)``.
    y : ndarray of shape (n_samples,), int64
        1 for a defect, 0 for a good part; shuffled.

    Examples
    --------
    >>> import numpy as np
    >>> from skimbal.datasets import make_defect_images
    >>> X, y = make_defect_images(random_state=0)
    >>> X.shape, np.bincount(y)
    ((110, 576), array([100,  10]))
    """
    if (
        isinstance(n_samples, bool)
        or not isinstance(n_samples, numbers.Integral)
        or n_samples < 2
    ):
        raise ValueError(f"n_samples must be an int >= 2; got n_samples={n_samples!r}.")
    if isinstance(ratio, bool) or not isinstance(ratio, numbers.Real) or ratio < 1:
        raise ValueError(f"ratio must be a number >= 1; got ratio={ratio!r}.")
    if (
        isinstance(image_size, bool)
        or not isinstance(image_size, numbers.Integral)
        or image_size < 8
    ):
        raise ValueError(
            f"image_size must be an int >= 8; got image_size={image_size!r}."
        )
    if isinstance(contrast, bool) or not isinstance(contrast, numbers.Real):
        raise ValueError(f"contrast must be a number; got contrast={contrast!r}.")
    rng = check_random_state(random_state)
    n_defects = min(n_samples - 1, max(1, round(n_samples / (ratio + 1))))
    y = np.r_[np.zeros(n_samples - n_defects, np.int64), np.ones(n_defects, np.int64)]
    noise = rng.normal(0.5, 0.15, size=(n_samples, image_size, image_size))
    images = uniform_filter(noise, size=(1, 3, 3))  # a smooth surface texture
    rows, cols = np.mgrid[:image_size, :image_size]
    for i in np.flatnonzero(y):
        row, col = rng.randint(3, image_size - 3, size=2)
        distance2 = (rows - row) ** 2 + (cols - col) ** 2
        images[i] += contrast * np.exp(-distance2 / (2 * 1.5**2))
    X = np.clip(images, 0, 1).reshape(n_samples, -1).astype(np.float32)
    order = rng.permutation(n_samples)
    return X[order], y[order]
