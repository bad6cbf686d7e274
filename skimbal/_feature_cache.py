"""Frozen-body features, computed once per distinct image and shared.

:class:`~skimbal.CNNClassifier` trains only the head of a network whose body
is frozen on the body's outputs, computed once per *distinct* training row
(an over-sampler's copies are one row). This module holds those features:

- :func:`row_keys` names each row by its content (pixels) or its file (path,
  size, modification time), so that copies and the same image in another
  fold or candidate find the same features;
- :class:`FeatureTable` maps such keys to feature vectors, for one frozen
  body (its *fingerprint*: weights and input preprocessing);
- :func:`shared_feature_tables` makes tables computed elsewhere (by
  ``compare_strategies``, once per data set) visible to every classifier
  that fits or predicts inside the block, in this thread;
- :class:`FeatureRows` is the dataset the head trains on.
"""

import contextlib
import hashlib
import os
import threading

import numpy as np
import torch
from sklearn.utils.validation import check_memory
from torch.utils.data import Dataset

__all__ = [
    "FeatureRows",
    "FeatureTable",
    "active_feature_tables",
    "cached_feature_table",
    "check_feature_memory",
    "row_keys",
    "shared_feature_tables",
]

#: Bytes of one row key (SHA-1: collisions between distinct images of one
#: data set are out of the question; nothing here needs a secure hash).
KEY_BYTES = 20

_installed = threading.local()


def _digest(*parts):
    digest = hashlib.sha1(usedforsecurity=False)
    for part in parts:
        digest.update(part)
    return digest.digest()


def row_keys(rows):
    """A content key per row: equal rows get equal keys.

    Parameters
    ----------
    rows : ndarray
        Validated classifier input: numeric rows or images (one row per
        sample, any dtype), or a 1-D object array of image paths.

    Returns
    -------
    keys : ndarray of shape (n_samples,), dtype ``S20``
        SHA-1 of a pixel row's bytes, dtype and shape; for a path, of the
        path with its file's size and modification time, so that a changed
        file is a new image.

    Examples
    --------
    >>> import numpy as np
    >>> from skimbal._feature_cache import row_keys
    >>> keys = row_keys(np.array([[1, 2], [3, 4], [1, 2]], dtype=np.uint8))
    >>> keys.shape, bool(keys[0] == keys[2]), bool(keys[0] == keys[1])
    ((3,), True, False)
    """
    keys = np.empty(len(rows), dtype=f"S{KEY_BYTES}")
    if rows.dtype == object:
        for i, path in enumerate(rows):
            path = os.fspath(path)
            try:
                stat = os.stat(path)
                version = f"{stat.st_size}:{stat.st_mtime_ns}"
            except OSError:
                version = "missing"
            keys[i] = _digest(path.encode("utf-8", "surrogateescape"), version.encode())
        return keys
    kind = f"{rows.dtype.str}{rows.shape[1:]}".encode()
    for i in range(len(rows)):
        keys[i] = _digest(kind, np.ascontiguousarray(rows[i]).data)
    return keys


class FeatureTable:
    """Features of distinct rows under one frozen body.

    Parameters
    ----------
    fingerprint : str
        What the features depend on besides the row: the body's weights and
        the input preprocessing (see
        :func:`skimbal.models._frozen.body_fingerprint`).
    keys : ndarray of shape (n_rows,), dtype ``S20``
        Distinct row keys (see :func:`row_keys`).
    features : ndarray of shape (n_rows, ...), dtype float32
        The body's output (the head's input) for each key.

    Examples
    --------
    >>> import numpy as np
    >>> from skimbal._feature_cache import FeatureTable
    >>> table = FeatureTable("body", np.array([b"b", b"a"], dtype="S20"),
    ...                      np.array([[2.0], [1.0]], dtype=np.float32))
    >>> table.find(np.array([b"a", b"c", b"b"], dtype="S20"))
    array([ 1, -1,  0])
    >>> table.nbytes
    48
    """

    def __init__(self, fingerprint, keys, features):
        self.fingerprint = fingerprint
        self.keys = np.asarray(keys, dtype=f"S{KEY_BYTES}")
        self.features = np.asarray(features, dtype=np.float32)
        if len(self.keys) != len(self.features):
            raise ValueError(
                f"FeatureTable needs one feature row per key; got {len(self.keys)} "
                f"keys and {len(self.features)} rows."
            )
        self._order = None

    def __len__(self):
        return len(self.keys)

    def __getstate__(self):
        state = self.__dict__.copy()
        state["_order"] = None  # recomputed where it is used
        return state

    @property
    def nbytes(self):
        """Memory held by the keys and features.

        Returns
        -------
        nbytes : int
            Bytes of :attr:`keys` and :attr:`features`.
        """
        return int(self.keys.nbytes + self.features.nbytes)

    def find(self, keys):
        """Find the row of each key in :attr:`features`.

        Parameters
        ----------
        keys : array-like of shape (n_keys,)
            Row keys (see :func:`row_keys`).

        Returns
        -------
        rows : ndarray of shape (n_keys,)
            Row indices into :attr:`features`; ``-1`` for unknown keys.
        """
        if self._order is None:
            self._order = np.argsort(self.keys, kind="stable")
        keys = np.asarray(keys, dtype=f"S{KEY_BYTES}")
        if not len(self.keys):
            return np.full(len(keys), -1, dtype=np.intp)
        sorted_keys = self.keys[self._order]
        position = np.searchsorted(sorted_keys, keys)
        position = np.minimum(position, len(sorted_keys) - 1)
        found = sorted_keys[position] == keys
        return np.where(found, self._order[position], -1)


def check_feature_memory(memory):
    """``memory`` as a ``joblib.Memory``-like object, or ``None``.

    Parameters
    ----------
    memory : None, str, os.PathLike or joblib.Memory
        ``None`` keeps features in memory only; a folder (or a
        ``joblib.Memory``) also keeps them on disk.

    Returns
    -------
    memory : joblib.Memory or None
        ``None`` for ``None``, else a ``joblib.Memory`` on that folder.

    Raises
    ------
    ValueError
        For anything else, naming the value.

    Examples
    --------
    >>> from skimbal._feature_cache import check_feature_memory
    >>> check_feature_memory(None) is None
    True
    >>> check_feature_memory(3)
    Traceback (most recent call last):
    ...
    ValueError: memory must be None, a folder path or a joblib.Memory; got memory=3.
    """
    if memory is None:
        return None
    if isinstance(memory, os.PathLike):
        memory = os.fspath(memory)
    try:
        return check_memory(memory)
    except (TypeError, ValueError):
        raise ValueError(
            "memory must be None, a folder path or a joblib.Memory; got "
            f"memory={memory!r}."
        ) from None


def cached_feature_table(fingerprint, keys, compute):
    """``compute()``, the table of ``keys`` under body ``fingerprint``.

    Wrapped in ``joblib.Memory.cache(..., ignore=["compute"])``, the
    fingerprint (body weights, preprocessing) and the row keys (pixel
    contents, or file paths with their sizes and modification times) are
    the whole cache key: a second run on the same images reads the table
    from disk.

    Parameters
    ----------
    fingerprint : str
        The body's fingerprint.
    keys : ndarray of shape (n_rows,), dtype ``S20``
        The rows' keys.
    compute : callable
        Returns the :class:`FeatureTable`.

    Returns
    -------
    table : FeatureTable
        What ``compute`` returns.
    """
    return compute()


@contextlib.contextmanager
def shared_feature_tables(tables):
    """Let classifiers inside the block use ``tables`` (in this thread).

    A :class:`~skimbal.CNNClassifier` with a frozen body that fits or
    predicts inside the block takes the features of rows it finds in a
    table with its body's fingerprint instead of computing them.

    Parameters
    ----------
    tables : iterable of FeatureTable
        The tables; ``None`` entries are skipped.

    Yields
    ------
    tables : tuple of FeatureTable
        Every table visible inside the block (outer blocks' too).
    """
    previous = active_feature_tables()
    _installed.tables = previous + tuple(t for t in tables if t is not None)
    try:
        yield _installed.tables
    finally:
        _installed.tables = previous


def active_feature_tables():
    """The tables made visible by :func:`shared_feature_tables` in this thread.

    Returns
    -------
    tables : tuple of FeatureTable
        Innermost last; empty outside any block.
    """
    return getattr(_installed, "tables", ())


class FeatureRows(Dataset):
    """Training rows as feature vectors, looked up in a shared matrix.

    Parameters
    ----------
    features : torch.Tensor of shape (n_distinct, ...)
        One feature vector per distinct row.
    index : ndarray of shape (n_samples,)
        Row of ``features`` of each sample (copies share one).
    labels : ndarray of shape (n_samples,)
        Encoded labels.
    """

    def __init__(self, features, index, labels):
        self.features = features
        self.index = torch.as_tensor(np.asarray(index), dtype=torch.long)
        self.labels = torch.as_tensor(np.asarray(labels), dtype=torch.long)

    def __len__(self):
        return len(self.index)

    def __getitem__(self, i):
        return self.features[self.index[i]], self.labels[i]

    def __getitems__(self, indices):
        indices = torch.as_tensor(np.asarray(indices, dtype=np.int64))
        batch = self.features[self.index[indices]]
        return list(zip(batch.unbind(0), self.labels[indices].unbind(0), strict=True))
