"""List the images of a folder tree together with their class labels."""

import os

import numpy as np
import pandas as pd

__all__ = ["load_image_folder"]

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp")

_LAYOUTS = (
    "one sub-folder per class (root/cat/1.jpg, root/dog/2.png) or a flat folder "
    "of '<label>.<name>.<ext>' files (root/cat.1.jpg, root/dog.2.jpg)"
)


def _check_extensions(extensions):
    given = extensions
    if isinstance(extensions, str):
        extensions = (extensions,)
    try:
        extensions = tuple(extensions)
    except TypeError:
        extensions = ()
    if (
        not extensions
        or not all(isinstance(ext, str) for ext in extensions)
        or not all(ext.startswith(".") and len(ext) > 1 for ext in extensions)
    ):
        raise ValueError(
            "extensions must be a non-empty sequence of file extensions that "
            f"start with a dot, such as ('.jpg', '.png'); got extensions={given!r}."
        )
    return tuple(ext.lower() for ext in extensions)


def _is_hidden(name):
    return name.startswith(".")


def _is_image(name, extensions):
    return not _is_hidden(name) and name.lower().endswith(extensions)


def _images_under(folder, extensions):
    """Sorted absolute paths of the images anywhere below ``folder``."""
    found = []
    for dirpath, dirnames, filenames in os.walk(folder):
        # Pruning in place stops os.walk from descending into hidden folders
        # (.git, .ipynb_checkpoints, ...).
        dirnames[:] = [name for name in dirnames if not _is_hidden(name)]
        found.extend(
            os.path.join(dirpath, name)
            for name in filenames
            if _is_image(name, extensions)
        )
    return sorted(found)


def load_image_folder(root, *, extensions=IMAGE_EXTENSIONS):
    """List the images under ``root`` and their labels.

    Two layouts are recognised:

    * **one sub-folder per class**: ``root/cat/1.jpg``, ``root/dog/2.png``.
      The label is the name of the top-level folder; images nested deeper
      (``root/cat/indoor/3.jpg``) belong to their top-level folder's class.
    * **flat**, as in the public dogs-vs-cats training set:
      ``root/cat.123.jpg``, ``root/dog.456.jpg``. The label is the text
      before the first dot.

    Hidden files and folders (names starting with ``.``) and files with
    other extensions are ignored.

    Parameters
    ----------
    root : str or os.PathLike
        Folder to scan.
    extensions : sequence of str, default=(".jpg", ".jpeg", ".png", ".bmp", \
".gif", ".tif", ".tiff", ".webp")
        File extensions counted as images, compared case-insensitively.

    Returns
    -------
    X : pandas.DataFrame of shape (n_samples, 1)
        One column, ``"path"``, of absolute file paths (``str``), sorted by
        label and then by path, so the order is reproducible.
    y : ndarray of shape (n_samples,), dtype=object
        The labels, as ``str``.

    Raises
    ------
    FileNotFoundError
        If ``root`` does not exist.
    NotADirectoryError
        If ``root`` is a file.
    ValueError
        If no images are found, if a class folder holds no images, if a
        flat-layout file has no ``<label>.`` prefix, or if images sit both
        directly in ``root`` and in sub-folders (an ambiguous layout).

    See Also
    --------
    skimbal._images.ImagePathDataset : Decodes the listed files lazily.

    Examples
    --------
    >>> import os, tempfile
    >>> from PIL import Image
    >>> from skimbal.datasets import load_image_folder
    >>> with tempfile.TemporaryDirectory() as root:
    ...     for name in ["cat.1.jpg", "cat.2.jpg", "dog.1.jpg"]:
    ...         Image.new("RGB", (8, 8)).save(os.path.join(root, name))
    ...     X, y = load_image_folder(root)
    ...     names = [os.path.basename(path) for path in X["path"]]
    >>> names
    ['cat.1.jpg', 'cat.2.jpg', 'dog.1.jpg']
    >>> y
    array(['cat', 'cat', 'dog'], dtype=object)
    """
    extensions = _check_extensions(extensions)
    if not isinstance(root, str | os.PathLike):
        raise TypeError(
            f"root must be a str or os.PathLike folder path; got root={root!r}."
        )
    root = os.path.abspath(os.fspath(root))
    if not os.path.exists(root):
        raise FileNotFoundError(f"image folder root={root!r} does not exist.")
    if not os.path.isdir(root):
        raise NotADirectoryError(f"root={root!r} is a file, not a folder of images.")

    with os.scandir(root) as entries:
        entries = sorted(
            (entry for entry in entries if not _is_hidden(entry.name)),
            key=lambda entry: entry.name,
        )
    top_images = [
        entry.path
        for entry in entries
        if entry.is_file() and _is_image(entry.name, extensions)
    ]
    class_images = {
        entry.name: _images_under(entry.path, extensions)
        for entry in entries
        if entry.is_dir()
    }

    if top_images:
        nested = sorted(name for name, images in class_images.items() if images)
        if nested:
            raise ValueError(
                f"root={root!r} mixes images directly in it (such as "
                f"{os.path.basename(top_images[0])!r}) with images in sub-folders "
                f"{nested[:5]!r}; use one layout: {_LAYOUTS}."
            )
        paths, labels = _flat_layout(top_images)
    elif any(class_images.values()):
        empty = [name for name, images in class_images.items() if not images]
        if empty:
            raise ValueError(
                f"class folders {empty!r} under root={root!r} hold no files with "
                f"extensions {extensions!r}; remove them or add images."
            )
        paths = [path for images in class_images.values() for path in images]
        labels = [name for name, images in class_images.items() for _ in images]
    else:
        raise ValueError(
            f"found no image files with extensions {extensions!r} under "
            f"root={root!r}; expected {_LAYOUTS}."
        )
    X = pd.DataFrame({"path": pd.Series(paths, dtype=object)})
    return X, np.array(labels, dtype=object)


def _flat_layout(paths):
    labelled = []
    for path in paths:
        parts = os.path.basename(path).split(".")
        # "<label>.<name>.<ext>": a bare "<name>.<ext>" carries no label.
        if len(parts) < 3 or not parts[0]:
            raise ValueError(
                f"image file {path!r} has no label prefix; in the flat layout "
                "every file must be named '<label>.<name>.<ext>', like "
                "'cat.123.jpg'. Alternatively put images in one sub-folder "
                "per class."
            )
        labelled.append((parts[0], path))
    labelled.sort()
    return [path for _, path in labelled], [label for label, _ in labelled]
