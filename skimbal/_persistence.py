"""save_model and load_model: fitted models as data, loaded without unpickling.

A pickle (``joblib.dump``) is a program: loading one runs whatever code it
names. A folder written by :func:`save_model` holds only data (see
:mod:`skimbal._model_format` for its layout), so that :func:`load_model` can
read models from untrusted sources.
"""

import hashlib
import io
import json
import os
import zipfile
from pathlib import Path

import numpy as np

from ._model_format import (
    KINDS,
    MODEL_FILE,
    WEIGHTS_FILE,
    ModelFormatError,
    is_ensemble,
)
from ._model_reader import ModelReader, read_weights
from ._model_writer import describe_model

__all__ = ["ModelFormatError", "load_model", "save_model"]


def save_model(model, path):
    """Save a fitted model as data: parameters in JSON, weights as arrays.

    Writes ``model.json`` and ``weights.npz`` into the folder ``path``
    (created if needed; those two files are replaced if present, nothing
    else in it is touched). Unlike a pickle, the folder holds no code:
    :func:`load_model` reads it back without unpickling anything, so a model
    folder from an untrusted source cannot run code on your machine.

    Parameters
    ----------
    model : estimator
        A fitted :class:`~skimbal.CNNClassifier`; a fitted scikit-learn or
        imbalanced-learn ``Pipeline`` whose steps are samplers
        (``"passthrough"``, ``RandomOverSampler`` or ``RandomUnderSampler``)
        followed by a ``CNNClassifier``; or either of these wrapped in a
        :class:`~sklearn.model_selection.FixedThresholdClassifier`; or a
        fitted :class:`~skimbal.model_selection.FoldEnsembleClassifier` of
        such pipelines or classifiers (what
        :func:`~skimbal.model_selection.compare_strategies` hands back),
        thresholded or not.
    path : str or os.PathLike
        Folder to write to.

    Raises
    ------
    sklearn.exceptions.NotFittedError
        If the model is not fitted.
    ValueError
        If the model or one of its parameters has no safe representation:
        another estimator, a ``module`` or ``criterion`` given as a class or
        instance rather than a registered name, a callable ``augment``,
        callbacks other than :class:`~skimbal.callbacks.DeferredReweighting`,
        a ``random_state`` that is a ``RandomState``, or any other value that
        is not None, bool, int, float, str or a list, tuple or dict of these.
        Such models can still be saved with :func:`joblib.dump`. Nothing is
        written then.

    See Also
    --------
    load_model : Read the folder back.

    Notes
    -----
    Saved are the parameters and what prediction needs: the network's
    ``state_dict``, ``classes_``, ``class_counts_``, ``class_weight_``,
    ``input_shape_``, ``input_kind_``, ``n_features_in_`` and
    ``feature_names_in_``, and the samplers' ``sampling_strategy_``. Not
    saved: the optimizer's state (Adam's moment estimates), the training
    ``history_`` and the samplers' ``sample_indices_``. A loaded model
    predicts exactly as the saved one; training it further (``partial_fit``
    or ``warm_start``) starts with a fresh optimizer.

    Examples
    --------
    >>> import os, tempfile
    >>> from sklearn.datasets import load_digits
    >>> from skimbal import CNNClassifier, load_model, save_model
    >>> X, y = load_digits(return_X_y=True)
    >>> clf = CNNClassifier(input_shape=(1, 8, 8), max_epochs=1,
    ...                     random_state=0).fit(X[:200], y[:200] % 2)
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     save_model(clf, folder)
    ...     files = sorted(os.listdir(folder))
    ...     loaded = load_model(folder)
    >>> files
    ['model.json', 'weights.npz']
    >>> bool((loaded.predict_proba(X[200:]) == clf.predict_proba(X[200:])).all())
    True
    """
    document, arrays = describe_model(model)
    folder = Path(path)
    if folder.exists() and not folder.is_dir():
        raise ValueError(
            f"path={os.fspath(path)!r} is a file; save_model writes a folder "
            f"(holding {MODEL_FILE} and {WEIGHTS_FILE})."
        )
    folder.mkdir(parents=True, exist_ok=True)
    weights = _npz_bytes(arrays)
    document["weights_sha256"] = hashlib.sha256(weights).hexdigest()
    text = json.dumps(document, indent=2, allow_nan=False) + "\n"
    # Weights first: a crash in between leaves the old model.json, whose
    # sha256 then refuses the new weights rather than mixing the two models.
    _write_replacing(folder / WEIGHTS_FILE, weights)
    _write_replacing(folder / MODEL_FILE, text.encode("utf-8"))


def _write_replacing(target, data):
    partial = target.with_name(target.name + ".partial")
    partial.write_bytes(data)
    os.replace(partial, target)


def _npz_bytes(arrays):
    """An ``.npz`` archive, as ``np.savez`` writes, with fixed timestamps.

    Written by hand so that any ``state_dict`` key can be a member name
    (``np.savez`` takes them as keyword arguments) and so that the same
    weights always give the same bytes and sha256.
    """
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for name, array in arrays.items():
            info = zipfile.ZipInfo(name + ".npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            with archive.open(info, "w", force_zip64=True) as member:
                np.lib.format.write_array(member, array, allow_pickle=False)
    return buffer.getvalue()


def load_model(path, *, device="cpu"):
    """Load a model saved by :func:`save_model`, without unpickling anything.

    Every class name in ``model.json`` must come from a fixed allow-list,
    every parameter name must be one the class accepts, and ``weights.npz``
    must have the sha256 recorded in ``model.json``; it is read with
    ``np.load(allow_pickle=False)``. No code named by the files is imported
    or run, and no other file is read (a pretrained backbone's
    ``module__weights`` file is not needed: ``weights.npz`` holds all the
    weights).

    Parameters
    ----------
    path : str or os.PathLike
        Folder written by :func:`save_model`.
    device : str, torch.device or None, default="cpu"
        The loaded classifier's ``device`` parameter, where its network is
        placed. The default predicts on the CPU whatever device the model was
        trained on, so it loads on any machine; ``"auto"`` uses a GPU when
        there is one. ``None`` keeps the saved parameter.

    Returns
    -------
    model : estimator
        The fitted model, of the type that was saved, ready to ``predict``.

    Raises
    ------
    ModelFormatError
        A subclass of ``ValueError``, naming the file and what is wrong with
        it: missing files, invalid JSON, an unknown ``format`` or
        ``format_version``, a class or parameter outside the allow-lists,
        invalid parameter values, a ``weights.npz`` that does not match its
        recorded sha256, or weights that do not fit the network.

    See Also
    --------
    save_model : Write such a folder.

    Examples
    --------
    >>> import json, os, tempfile
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.model_selection import FixedThresholdClassifier
    >>> from imblearn.over_sampling import RandomOverSampler
    >>> from imblearn.pipeline import Pipeline
    >>> from skimbal import CNNClassifier, load_model, save_model
    >>> X, y = load_digits(return_X_y=True)
    >>> y = (y == 3).astype(int)
    >>> pipe = Pipeline([("sampler", RandomOverSampler(random_state=0)),
    ...                  ("clf", CNNClassifier(input_shape=(1, 8, 8),
    ...                                        max_epochs=1, random_state=0))])
    >>> model = FixedThresholdClassifier(pipe, threshold=0.3, pos_label=1,
    ...                                  response_method="predict_proba")
    >>> model = model.fit(X[:300], y[:300])
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     save_model(model, folder)
    ...     with open(os.path.join(folder, "model.json")) as file:
    ...         kind = json.load(file)["kind"]
    ...     loaded = load_model(folder)
    >>> kind
    'fixed_threshold(pipeline)'
    >>> loaded.threshold, type(loaded.estimator_[0]).__name__
    (0.3, 'RandomOverSampler')
    >>> bool((loaded.predict(X[300:]) == model.predict(X[300:])).all())
    True
    """
    folder = Path(path)
    model_file = folder / MODEL_FILE
    reader = ModelReader(model_file)
    document = reader.read_document()
    has_threshold, has_pipeline = KINDS[document["kind"]]
    weights = read_weights(
        folder / WEIGHTS_FILE, document["weights_sha256"], model_file
    )
    if is_ensemble(document["kind"]):
        model = reader.members(document["members"], has_pipeline, weights, device)
    else:
        model = reader.classifier(document["classifier"], weights, device)
        if has_pipeline:
            model = reader.pipeline(document["pipeline"], model)
    if has_threshold:
        model = reader.fixed_threshold(document["threshold"], model)
    return model
