"""Save fitted models as data (JSON and arrays) and load them without unpickling.

A pickle (``joblib.dump``) is a program: loading one runs whatever code it
names. A folder written by :func:`save_model` holds only data, so that
:func:`load_model` can read models from untrusted sources:

``model.json``
    ``{"format": "skimbal-model", "format_version": 1, "skimbal_version",
    "kind", "threshold", "pipeline", "classifier", "weights_sha256"}``.
    ``kind`` is ``"classifier"``, ``"pipeline"``,
    ``"fixed_threshold(classifier)"`` or ``"fixed_threshold(pipeline)"``;
    ``threshold`` (or ``null``) holds the ``threshold``, ``pos_label`` and
    ``response_method`` of a ``FixedThresholdClassifier``; ``pipeline`` (or
    ``null``) the pipeline class, its parameters and its steps, each
    ``{"name", "class", "params", "fitted"}`` (``class`` one of
    ``"passthrough"``, ``"RandomOverSampler"``, ``"RandomUnderSampler"``,
    and ``"CNNClassifier"`` for the last step); ``classifier`` the
    ``CNNClassifier``'s ``params``, its ``fitted`` attributes and the name,
    dtype and shape of every tensor of its network's ``state_dict``.
``weights.npz``
    One ``.npy`` array per ``state_dict`` entry, named by its key.

Parameter values are JSON values, with three tagged forms: ``{"tuple": [...]}``,
``{"dict": [[key, value], ...]}`` (keys of any type, such as int labels) and
``{"class": "torch.optim.Adam"}`` (only for ``optimizer``, ``iterator_train``,
``iterator_valid`` and ``dataset``, and only from allow-lists). Arrays of
fitted attributes are ``{"dtype": "<i8", "values": [...]}``.
"""

import hashlib
import inspect
import io
import json
import math
import numbers
import os
import zipfile
from pathlib import Path

import numpy as np
import torch
from sklearn.base import clone
from sklearn.model_selection import FixedThresholdClassifier
from sklearn.pipeline import Pipeline as SklearnPipeline
from sklearn.utils._param_validation import validate_parameter_constraints
from sklearn.utils.validation import check_is_fitted
from skorch.dataset import Dataset as SkorchDataset
from torch.utils.data import DataLoader

from ._classifier import CNNClassifier
from .callbacks import DeferredReweighting

__all__ = ["ModelFormatError", "load_model", "save_model"]

FORMAT = "skimbal-model"
FORMAT_VERSION = 1
MODEL_FILE = "model.json"
WEIGHTS_FILE = "weights.npz"

_KINDS = {
    # kind: (has a FixedThresholdClassifier, has a pipeline)
    "classifier": (False, False),
    "pipeline": (False, True),
    "fixed_threshold(classifier)": (True, False),
    "fixed_threshold(pipeline)": (True, True),
}
_PIPELINES = {
    "sklearn.pipeline.Pipeline": ("sklearn.pipeline", "Pipeline"),
    "imblearn.pipeline.Pipeline": ("imblearn.pipeline", "Pipeline"),
}
_SAMPLER_NAMES = ("RandomOverSampler", "RandomUnderSampler")
# What a fitted sampler keeps, apart from sample_indices_ (one entry per
# resampled training row): nothing of it is used at predict time.
_SAMPLER_FITTED = ("n_features_in_", "feature_names_in_", "sampling_strategy_")
_RESTORED_CLASSIFIER_ATTRIBUTES = (
    "classes_",
    "class_counts_",
    "class_weight_",
    "input_shape_",
    "input_kind_",
    "n_features_in_",
    "feature_names_in_",
)
_CLASSIFIER_PREFIXES = (
    "module__",
    "criterion__",
    "optimizer__",
    "iterator_train__",
    "iterator_valid__",
    "callbacks__",
    "dataset__",
)
_JOBLIB_HINT = (
    "Save such a model with joblib.dump instead (a pickle: load it only from "
    "sources you trust), or its network's weights with skorch's save_params."
)
# torch dtypes that weights.npz stores, as numpy dtypes. bfloat16 has no
# numpy counterpart; it is stored as float32, which holds it exactly.
_TENSOR_DTYPES = {
    "float64": (torch.float64, np.dtype("float64")),
    "float32": (torch.float32, np.dtype("float32")),
    "float16": (torch.float16, np.dtype("float16")),
    "bfloat16": (torch.bfloat16, np.dtype("float32")),
    "complex128": (torch.complex128, np.dtype("complex128")),
    "complex64": (torch.complex64, np.dtype("complex64")),
    "int64": (torch.int64, np.dtype("int64")),
    "int32": (torch.int32, np.dtype("int32")),
    "int16": (torch.int16, np.dtype("int16")),
    "int8": (torch.int8, np.dtype("int8")),
    "uint8": (torch.uint8, np.dtype("uint8")),
    "bool": (torch.bool, np.dtype("bool")),
}
# The numpy dtype kinds of fitted arrays stored, and their values' JSON types.
_JSON_TYPES_OF_KIND = {
    "b": (bool,),
    "i": (int,),
    "u": (int,),
    "f": (int, float),
    "U": (str,),
    "O": (str, int, float, bool),
}
_ARRAY_KINDS = "".join(_JSON_TYPES_OF_KIND)


class ModelFormatError(ValueError):
    """A model folder that :func:`load_model` refuses to read.

    Raised for a missing or malformed ``model.json``, a format version this
    skimbal does not read, a class or parameter outside the allow-lists, or
    a ``weights.npz`` that is missing, altered or does not fit the network.
    The message names the file and what is wrong.

    See Also
    --------
    load_model : Raises it.

    Examples
    --------
    >>> import tempfile
    >>> from skimbal import ModelFormatError, load_model
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     try:
    ...         load_model(folder)
    ...     except ModelFormatError as error:
    ...         message = str(error)
    >>> message
    '.../model.json does not exist; load_model reads a folder written by save_model...'
    """


def _optimizer_classes():
    return {
        f"torch.optim.{name}": value
        for name, value in vars(torch.optim).items()
        if isinstance(value, type)
        and issubclass(value, torch.optim.Optimizer)
        and value is not torch.optim.Optimizer
    }


def _class_parameters():
    """Allow-lists of the parameters whose value may be a class."""
    loaders = {"torch.utils.data.DataLoader": DataLoader}
    return {
        "optimizer": _optimizer_classes(),
        "iterator_train": loaders,
        "iterator_valid": loaders,
        "dataset": {"skorch.dataset.Dataset": SkorchDataset},
    }


def _samplers():
    # Imported on use: imbalanced-learn adds half a second to `import skimbal`.
    from imblearn.over_sampling import RandomOverSampler
    from imblearn.under_sampling import RandomUnderSampler

    return {
        "RandomOverSampler": RandomOverSampler,
        "RandomUnderSampler": RandomUnderSampler,
    }


def _pipeline_classes():
    from imblearn.pipeline import Pipeline as ImblearnPipeline

    return {
        "sklearn.pipeline.Pipeline": SklearnPipeline,
        "imblearn.pipeline.Pipeline": ImblearnPipeline,
    }


# -- saving ------------------------------------------------------------------


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
        :class:`~sklearn.model_selection.FixedThresholdClassifier`.
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
    document, arrays = _describe_model(model)
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


def _unsupported(model):
    return ValueError(
        "save_model stores a CNNClassifier, a Pipeline of samplers ('passthrough', "
        "RandomOverSampler, RandomUnderSampler) ending in a CNNClassifier, or "
        f"either in a FixedThresholdClassifier; got {type(model).__name__}. "
        + _JOBLIB_HINT
    )


def _describe_model(model):
    """The JSON document (without its sha256) and the weights of ``model``."""
    threshold = None
    inner = model
    if type(model) is FixedThresholdClassifier:
        inner = _fitted_estimator_of(model)
        threshold = {
            "class": "FixedThresholdClassifier",
            "threshold": _encode_value(model.threshold, "threshold"),
            "pos_label": _encode_value(model.pos_label, "pos_label"),
            "response_method": _encode_value(model.response_method, "response_method"),
        }
    pipeline = None
    if type(inner) in _pipeline_classes().values():
        pipeline, classifier = _describe_pipeline(inner)
    elif type(inner) is CNNClassifier:
        classifier = inner
    else:
        raise _unsupported(inner)
    classifier_doc, arrays = _describe_classifier(classifier)
    kind = "pipeline" if pipeline is not None else "classifier"
    if threshold is not None:
        kind = f"fixed_threshold({kind})"
    from . import __version__

    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "skimbal_version": __version__,
        "kind": kind,
        "threshold": threshold,
        "pipeline": pipeline,
        "classifier": classifier_doc,
    }, arrays


def _fitted_estimator_of(model):
    """The fitted estimator a FixedThresholdClassifier predicts with."""
    fitted = getattr(model, "estimator_", None)
    if fitted is not None:
        return fitted
    # A prefitted estimator passed in directly also predicts without fit.
    check_is_fitted(
        model.estimator,
        msg=(
            "save_model needs a fitted model; this FixedThresholdClassifier and "
            "its estimator are not fitted. Call fit first."
        ),
    )
    return model.estimator


def _describe_pipeline(pipeline):
    *samplers, (final_name, final) = pipeline.steps
    if type(final) is not CNNClassifier:
        raise _unsupported(final)
    check_is_fitted(
        final,
        msg=(
            "save_model needs a fitted model; the pipeline's CNNClassifier is not "
            "fitted. Call fit first."
        ),
    )
    steps = [_describe_sampler(name, step) for name, step in samplers]
    steps.append({"name": final_name, "class": "CNNClassifier"})
    pipeline_class = next(
        name for name, cls in _pipeline_classes().items() if type(pipeline) is cls
    )
    params = pipeline.get_params(deep=False)
    del params["steps"]
    return {
        "class": pipeline_class,
        "params": {
            name: _encode_value(value, f"pipeline parameter {name}")
            for name, value in sorted(params.items())
        },
        "steps": steps,
    }, final


def _describe_sampler(name, step):
    if step is None or (isinstance(step, str) and step == "passthrough"):
        return {"name": name, "class": "passthrough"}
    class_name = type(step).__name__
    if class_name not in _SAMPLER_NAMES or type(step) is not _samplers()[class_name]:
        raise ValueError(
            f"pipeline step {name!r} is a {class_name}; the safe format stores only "
            f"the samplers {', '.join(_SAMPLER_NAMES)} or 'passthrough' before the "
            f"CNNClassifier. {_JOBLIB_HINT}"
        )
    params = step.get_params(deep=False)
    fitted = {
        attribute: _encode_fitted(getattr(step, attribute), f"{name}.{attribute}")
        for attribute in _SAMPLER_FITTED
        if hasattr(step, attribute)
    }
    return {
        "name": name,
        "class": class_name,
        "params": {
            key: _encode_value(value, f"{class_name} parameter {key}")
            for key, value in sorted(params.items())
        },
        "fitted": fitted,
    }


def _describe_classifier(clf):
    check_is_fitted(
        clf,
        msg="save_model needs a fitted model; this CNNClassifier is not fitted. "
        "Call fit first.",
    )
    params = {
        name: _encode_classifier_param(name, value)
        for name, value in sorted(clf.get_params(deep=False).items())
    }
    fitted = {
        name: _encode_fitted(getattr(clf, name), name)
        for name in _RESTORED_CLASSIFIER_ATTRIBUTES
        if hasattr(clf, name)
    }
    tensors, arrays = [], {}
    for name, tensor in clf.module_.state_dict().items():
        dtype_name = str(getattr(tensor, "dtype", "")).removeprefix("torch.")
        if (
            not isinstance(tensor, torch.Tensor)
            or tensor.layout != torch.strided
            or dtype_name not in _TENSOR_DTYPES
        ):
            raise ValueError(
                f"the network's state_dict entry {name!r} is not a dense tensor of "
                f"one of the dtypes {_listing(_TENSOR_DTYPES)}, which is all the "
                f"safe format stores. {_JOBLIB_HINT}"
            )
        if tensor.dtype == torch.bfloat16:
            tensor = tensor.float()  # exact: numpy has no bfloat16
        array = np.array(tensor.detach().cpu().numpy(), order="C")  # 0-d stays 0-d
        arrays[name] = array
        tensors.append({"name": name, "dtype": dtype_name, "shape": list(array.shape)})
    if params.get("module__weights") is not None:
        _check_rebuilds_without_weights_file(clf)
    return {
        "class": "CNNClassifier",
        "params": params,
        "fitted": fitted,
        "tensors": tensors,
    }, arrays


def _encode_classifier_param(name, value):
    where = f"CNNClassifier parameter {name}"
    if name in ("module", "criterion"):
        if not isinstance(value, str):
            raise ValueError(
                f"{name}={value!r}: the safe format stores only registered names for "
                f"{name} (such as {_registered_name_hint(name, value)}), not an "
                f"nn.Module class or instance. {_JOBLIB_HINT}"
            )
        return value
    if name == "augment":
        if not isinstance(value, bool | np.bool_):
            raise ValueError(
                f"augment={value!r}: the safe format stores augment only as True or "
                f"False, not as a callable. {_JOBLIB_HINT}"
            )
        return bool(value)
    if name == "callbacks":
        return _encode_callbacks(value)
    allowed = _class_parameters().get(name)
    if allowed is not None and isinstance(value, type):
        for dotted, cls in allowed.items():
            if value is cls:
                return {"class": dotted}
        raise ValueError(
            f"{name}={value.__module__}.{value.__qualname__}: the safe format stores "
            f"only {_listing(allowed)} for {name}. {_JOBLIB_HINT}"
        )
    return _encode_value(value, where)


def _registered_name_hint(name, value):
    if name == "module":
        return "'simple_cnn' or 'resnet18'"
    from .losses import CRITERIA

    cls = value if isinstance(value, type) else type(value)
    for registered, criterion in CRITERIA.items():
        if criterion is cls:
            return f"{registered!r}, with its arguments as criterion__<name>"
    return ", ".join(map(repr, CRITERIA))


def _encode_callbacks(callbacks):
    if callbacks is None or (isinstance(callbacks, str) and callbacks == "disable"):
        return callbacks
    if not isinstance(callbacks, list):
        raise ValueError(
            f"callbacks={callbacks!r}: the safe format stores None, 'disable' or a "
            f"list of DeferredReweighting callbacks. {_JOBLIB_HINT}"
        )
    encoded = []
    for entry in callbacks:
        name, callback = entry if isinstance(entry, tuple) else (None, entry)
        if type(callback) is not DeferredReweighting or not (
            name is None or isinstance(name, str)
        ):
            raise ValueError(
                f"callbacks holds {entry!r}; the safe format stores only "
                f"skimbal.callbacks.DeferredReweighting callbacks. {_JOBLIB_HINT}"
            )
        params = callback.get_params()
        encoded.append(
            {
                "name": name,
                "class": "DeferredReweighting",
                "params": {
                    key: _encode_value(value, f"DeferredReweighting parameter {key}")
                    for key, value in sorted(params.items())
                },
            }
        )
    return {"callbacks": encoded}


def _encode_value(value, where):
    """A parameter value as JSON, with tuples and dicts tagged (see module doc)."""
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        value = float(value)
        if not math.isfinite(value):
            raise ValueError(
                f"{where} is {value}; the safe format stores finite numbers only."
            )
        return value
    if isinstance(value, list):
        return [_encode_value(item, where) for item in value]
    if isinstance(value, tuple):
        return {"tuple": [_encode_value(item, where) for item in value]}
    if isinstance(value, dict):
        return {
            "dict": [
                [_encode_value(key, where), _encode_value(item, where)]
                for key, item in value.items()
            ]
        }
    raise ValueError(
        f"{where} is {value!r}, of type {type(value).__name__}, which the safe "
        "format cannot store: it stores None, bool, int, float, str, and lists, "
        f"tuples and dicts of these. {_JOBLIB_HINT}"
    )


def _encode_fitted(value, where):
    """A fitted attribute: 1-D arrays with their dtype, tuples as lists."""
    if isinstance(value, np.ndarray):
        if value.ndim != 1 or value.dtype.kind not in _ARRAY_KINDS:
            raise ValueError(
                f"fitted attribute {where} is an array of shape {value.shape} and "
                f"dtype {value.dtype}, which the safe format cannot store. "
                + _JOBLIB_HINT
            )
        return {
            "dtype": value.dtype.str,
            "values": [_encode_value(item, where) for item in value.tolist()],
        }
    if isinstance(value, tuple):
        return [_encode_value(item, where) for item in value]
    return _encode_value(value, where)


def _check_rebuilds_without_weights_file(clf):
    """Refuse a pretrained backbone whose network depends on its weights file.

    :func:`load_model` builds the network with ``module__weights=None`` (it
    never reads files other than ``weights.npz``) and then loads the saved
    weights. For a few torchvision models the pretrained weights also change
    the network itself (Inception's input scaling ``transform_input``, ViT's
    image size), so rebuild it that way now and require identical outputs
    on a probe batch, on the CPU, where they are exactly reproducible.
    """
    rebuilt = clone(clf).set_params(module__weights=None, compile=False, device="cpu")
    for name in ("classes_", "input_shape_", "class_counts_", "class_weight_"):
        setattr(rebuilt, name, getattr(clf, name))
    # A compiled network (compile=True) wraps the original in _orig_mod.
    module = getattr(clf.module_, "_orig_mod", clf.module_)
    device = next(module.parameters(), torch.empty(0)).device
    was_training = module.training
    probe = torch.rand(
        (2, *clf.input_shape_), generator=torch.Generator().manual_seed(0)
    )
    reason = ""
    try:
        with torch.random.fork_rng(devices=[]):
            rebuilt.initialize()
        rebuilt.module_.load_state_dict(module.state_dict(), strict=True)
        module.cpu().eval()
        rebuilt.module_.eval()
        with torch.no_grad():
            same = torch.equal(module(probe), rebuilt.module_(probe))
    except (RuntimeError, ValueError) as exc:
        same, reason = False, f" ({exc})"
    finally:
        module.to(device).train(was_training)
    if not same:
        raise ValueError(
            f"module={clf.module!r} with module__weights={clf.module__weights!r} "
            "cannot be rebuilt from its parameters and weights alone: its pretrained "
            f"weights change the network itself{reason}. {_JOBLIB_HINT}"
        )


def _listing(allowed):
    return ", ".join(sorted(allowed))


# -- loading -----------------------------------------------------------------


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
    reader = _Reader(model_file)
    document = reader.read_document()
    has_threshold, has_pipeline = _KINDS[document["kind"]]
    weights = _read_weights(
        folder / WEIGHTS_FILE, document["weights_sha256"], model_file
    )
    classifier = reader.classifier(document["classifier"], weights, device)
    model = classifier
    if has_pipeline:
        model = reader.pipeline(document["pipeline"], classifier)
    if has_threshold:
        model = reader.fixed_threshold(document["threshold"], model)
    return model


def _reject_duplicate_keys(pairs):
    keys = [key for key, _ in pairs]
    duplicated = sorted({key for key in keys if keys.count(key) > 1})
    if duplicated:
        raise ValueError(f"duplicate keys {duplicated!r}")
    return dict(pairs)


def _read_weights(weights_file, expected_sha256, model_file):
    """The arrays of ``weights.npz``, after checking its sha256."""
    try:
        data = weights_file.read_bytes()
    except FileNotFoundError:
        raise ModelFormatError(
            f"{weights_file} is missing; a model folder holds {MODEL_FILE} and "
            f"{WEIGHTS_FILE}, both written by save_model."
        ) from None
    except OSError as exc:
        raise ModelFormatError(f"cannot read {weights_file}: {exc}") from exc
    # Checked on the bytes that are then parsed, so the file cannot change
    # between the check and the read.
    if hashlib.sha256(data).hexdigest() != expected_sha256:
        raise ModelFormatError(
            f"{weights_file} does not match the sha256 recorded in {model_file}: "
            "the file was changed after saving."
        )
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as archive:
            return {name: archive[name] for name in archive.files}
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as exc:
        raise ModelFormatError(
            f"{weights_file} is not a readable .npz archive of arrays: {exc}"
        ) from exc


class _Reader:
    """Strict reading of ``model.json``: every error names the file."""

    def __init__(self, model_file):
        self.file = model_file

    def fail(self, message):
        raise ModelFormatError(f"{self.file}: {message}")

    def read_document(self):
        try:
            text = self.file.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ModelFormatError(
                f"{self.file} does not exist; load_model reads a folder written by "
                "save_model (for .joblib or .pkl files use joblib.load, but only "
                "on files you trust)."
            ) from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ModelFormatError(f"cannot read {self.file}: {exc}") from exc
        try:
            document = json.loads(text, object_pairs_hook=_reject_duplicate_keys)
        except ValueError as exc:
            self.fail(f"not valid JSON: {exc}")
        self.keys(
            document,
            "the document",
            ("format", "format_version", "skimbal_version", "kind", "threshold")
            + ("pipeline", "classifier", "weights_sha256"),
        )
        if document["format"] != FORMAT:
            self.fail(
                f"format is {document['format']!r}, not {FORMAT!r}: not a model "
                "written by skimbal.save_model."
            )
        version = document["format_version"]
        if type(version) is not int or version != FORMAT_VERSION:
            self.fail(
                f"format_version is {version!r}; this skimbal reads format_version "
                f"{FORMAT_VERSION}. A newer skimbal may read it."
            )
        kind = document["kind"]
        if not isinstance(kind, str) or kind not in _KINDS:
            self.fail(f"kind is {kind!r}; expected one of {_listing(_KINDS)}.")
        has_threshold, has_pipeline = _KINDS[kind]
        for key, wanted in (("threshold", has_threshold), ("pipeline", has_pipeline)):
            if (document[key] is not None) != wanted:
                presence = "an object" if wanted else "null"
                self.fail(f"kind {kind!r} needs {key} to be {presence}.")
        sha = document["weights_sha256"]
        if not (
            isinstance(sha, str)
            and len(sha) == 64
            and all(c in "0123456789abcdef" for c in sha)
        ):
            self.fail(f"weights_sha256 is {sha!r}; expected 64 hex digits.")
        return document

    def keys(self, obj, where, required, optional=()):
        if not isinstance(obj, dict):
            self.fail(f"{where} must be a JSON object; got {obj!r}.")
        missing = [key for key in required if key not in obj]
        unknown = sorted(set(obj) - set(required) - set(optional))
        if missing:
            self.fail(f"{where} lacks {', '.join(map(repr, missing))}.")
        if unknown:
            self.fail(f"{where} has unknown entries {', '.join(map(repr, unknown))}.")

    # -- values ---------------------------------------------------------------

    def value(self, data, where):
        """Decode a parameter value (see the module docstring)."""
        if data is None or isinstance(data, bool | int | str):
            return data
        if isinstance(data, float):
            if not math.isfinite(data):
                self.fail(f"{where} is {data}; only finite numbers are accepted.")
            return data
        if isinstance(data, list):
            return [self.value(item, where) for item in data]
        if isinstance(data, dict) and len(data) == 1:
            ((tag, content),) = data.items()
            if tag == "tuple" and isinstance(content, list):
                return tuple(self.value(item, where) for item in content)
            if tag == "dict" and isinstance(content, list):
                return self.dict_value(content, where)
            if tag == "class":
                self.fail(
                    f"{where} names class {content!r}; classes are accepted only "
                    f"for the parameters {_listing(_class_parameters())}."
                )
        self.fail(
            f"{where} is {data!r}; expected a JSON scalar, a list, "
            '{"tuple": [...]} or {"dict": [[key, value], ...]}.'
        )

    def dict_value(self, items, where):
        result = {}
        for item in items:
            if not (isinstance(item, list) and len(item) == 2):
                self.fail(f"{where}: a dict entry must be [key, value]; got {item!r}.")
            key = self.value(item[0], where)
            try:
                hash(key)
            except TypeError:
                self.fail(f"{where}: dict key {item[0]!r} is not hashable.")
            result[key] = self.value(item[1], where)
        return result

    def array(self, data, where):
        """A 1-D fitted array stored as ``{"dtype", "values"}``."""
        self.keys(data, where, ("dtype", "values"))
        try:
            dtype = np.dtype(data["dtype"])
        except TypeError:
            dtype = None
        if (
            not isinstance(data["dtype"], str)
            or dtype is None
            or dtype.kind not in _ARRAY_KINDS
        ):
            self.fail(
                f"{where} has dtype {data['dtype']!r}; expected a numpy dtype of "
                "booleans, numbers, str or object."
            )
        values = data["values"]
        json_types = _JSON_TYPES_OF_KIND[dtype.kind]
        if not isinstance(values, list) or not all(
            type(item) in json_types for item in values
        ):
            self.fail(
                f"{where} values must be a list of "
                f"{' or '.join(t.__name__ for t in json_types)} for dtype {dtype}."
            )
        try:
            array = np.empty(len(values), dtype=dtype)
            array[:] = values
        except (TypeError, ValueError, OverflowError) as exc:
            self.fail(f"{where} values do not fit dtype {dtype}: {exc}")
        return array

    # -- the classifier ---------------------------------------------------------

    def classifier(self, data, weights, device):
        self.keys(data, "classifier", ("class", "params", "fitted", "tensors"))
        if data["class"] != "CNNClassifier":
            self.fail(
                f"names class {data['class']!r} for the classifier; only "
                "CNNClassifier is accepted."
            )
        params = self.classifier_params(data["params"])
        if device is not None:
            params["device"] = device
        # Never read a pretrained backbone's file: weights.npz has it all.
        backbone_weights = params.get("module__weights")
        if backbone_weights is not None:
            params["module__weights"] = None
        try:
            clf = CNNClassifier(**params)
            clf._check_params()
        except (TypeError, ValueError) as exc:
            self.fail(f"invalid classifier parameters: {exc}")
        self.set_fitted(clf, data["fitted"])
        state_dict = self.state_dict(data["tensors"], weights)
        try:
            # Building the network draws initial weights from torch's global
            # generator; loading a model must not change the user's stream.
            with torch.random.fork_rng(devices=[]):
                clf.initialize()
            clf.module_.load_state_dict(state_dict, strict=True)
        except (RuntimeError, ValueError, TypeError) as exc:
            self.fail(f"the weights in {WEIGHTS_FILE} do not fit the network: {exc}")
        clf.module_.eval()
        if backbone_weights is not None:
            # Read at predict time for the backbone's input normalisation.
            clf.module__weights = backbone_weights
        return clf

    def classifier_params(self, data):
        if not isinstance(data, dict):
            self.fail(f"classifier.params must be a JSON object; got {data!r}.")
        explicit = {
            name
            for name, parameter in inspect.signature(CNNClassifier).parameters.items()
            if parameter.kind is not parameter.VAR_KEYWORD
        }
        class_params = _class_parameters()
        params = {}
        for name, value in data.items():
            prefixed = any(
                name.startswith(prefix) and len(name) > len(prefix)
                for prefix in _CLASSIFIER_PREFIXES
            )
            if name not in explicit and not (prefixed and name.isidentifier()):
                self.fail(
                    f"classifier.params has unknown parameter name {name!r}; "
                    "CNNClassifier accepts its constructor parameters and names "
                    f"prefixed with {', '.join(_CLASSIFIER_PREFIXES)}."
                )
            where = f"classifier parameter {name}"
            if name == "callbacks":
                params[name] = self.callbacks(value)
            elif name in class_params:
                params[name] = self.class_value(value, name, class_params[name])
            else:
                params[name] = self.value(value, where)
        return params

    def class_value(self, data, name, allowed):
        """A class, stored as ``{"class": "<dotted name>"}``, from ``allowed``."""
        dotted = data
        if isinstance(data, dict):
            self.keys(data, f"classifier parameter {name}", ("class",))
            dotted = data["class"]
        if not isinstance(dotted, str) or dotted not in allowed:
            self.fail(
                f"names class {dotted!r} for the {name}; only {_listing(allowed)} "
                "are accepted."
            )
        return allowed[dotted]

    def callbacks(self, data):
        if data is None or data == "disable":
            return data
        self.keys(data, "classifier parameter callbacks", ("callbacks",))
        entries = data["callbacks"]
        if not isinstance(entries, list):
            self.fail(f"callbacks must be a list; got {entries!r}.")
        accepted = set(inspect.signature(DeferredReweighting).parameters)
        callbacks = []
        for entry in entries:
            self.keys(entry, "a callback", ("name", "class", "params"))
            if entry["class"] != "DeferredReweighting":
                self.fail(
                    f"names class {entry['class']!r} for a callback; only "
                    "DeferredReweighting is accepted."
                )
            name, params = entry["name"], entry["params"]
            if not (name is None or isinstance(name, str)):
                self.fail(f"a callback name must be a string or null; got {name!r}.")
            if not isinstance(params, dict) or not set(params) <= accepted:
                self.fail(
                    f"DeferredReweighting params {params!r} must be a JSON object "
                    f"with keys among {_listing(accepted)}."
                )
            callback = DeferredReweighting(
                **{
                    key: self.value(value, f"DeferredReweighting parameter {key}")
                    for key, value in params.items()
                }
            )
            try:
                callback._check_params()
            except ValueError as exc:
                self.fail(f"invalid DeferredReweighting parameters: {exc}")
            callbacks.append(callback if name is None else (name, callback))
        return callbacks

    def set_fitted(self, clf, data):
        required = (
            "classes_",
            "class_counts_",
            "class_weight_",
            "input_shape_",
            "input_kind_",
            "n_features_in_",
        )
        self.keys(data, "classifier.fitted", required, ("feature_names_in_",))
        classes = self.array(data["classes_"], "classifier.fitted.classes_")
        n_classes = len(classes)
        if n_classes < 2 or len(np.unique(classes)) != n_classes:
            self.fail(f"classes_ must hold at least 2 distinct labels; got {classes}.")
        counts = self.array(data["class_counts_"], "classifier.fitted.class_counts_")
        if counts.dtype.kind not in "iu" or counts.shape != (n_classes,):
            self.fail(f"class_counts_ must be {n_classes} integers; got {counts}.")
        weight = data["class_weight_"]
        if weight is not None:
            weight = self.array(weight, "classifier.fitted.class_weight_")
            if weight.dtype.kind != "f" or weight.shape != (n_classes,):
                self.fail(f"class_weight_ must be {n_classes} floats; got {weight}.")
        shape = data["input_shape_"]
        if not (
            isinstance(shape, list)
            and len(shape) == 3
            and all(type(s) is int and s > 0 for s in shape)
        ):
            self.fail(f"input_shape_ must be 3 positive ints; got {shape!r}.")
        kind = data["input_kind_"]
        if kind not in ("pixels", "paths"):
            self.fail(f"input_kind_ must be 'pixels' or 'paths'; got {kind!r}.")
        n_features = data["n_features_in_"]
        if type(n_features) is not int or n_features < 1:
            self.fail(f"n_features_in_ must be a positive int; got {n_features!r}.")
        clf.classes_ = classes
        clf.class_counts_ = counts
        clf.class_weight_ = weight
        clf.input_shape_ = tuple(shape)
        clf.input_kind_ = kind
        clf.n_features_in_ = n_features
        if "feature_names_in_" in data:
            clf.feature_names_in_ = self.feature_names(
                data["feature_names_in_"], n_features, "classifier.fitted"
            )

    def feature_names(self, data, n_features, where):
        names = self.array(data, f"{where}.feature_names_in_")
        if names.dtype != object or len(names) != n_features:
            self.fail(
                f"{where}.feature_names_in_ must be {n_features} str of dtype object."
            )
        if not all(isinstance(name, str) for name in names):
            self.fail(f"{where}.feature_names_in_ must hold strings only.")
        return names

    def state_dict(self, entries, weights):
        if not isinstance(entries, list):
            self.fail(f"classifier.tensors must be a list; got {entries!r}.")
        state_dict = {}
        for entry in entries:
            self.keys(entry, "a classifier.tensors entry", ("name", "dtype", "shape"))
            name, dtype_name, shape = entry["name"], entry["dtype"], entry["shape"]
            if not isinstance(name, str) or name in state_dict:
                self.fail(f"tensor name {name!r} is not a string or repeated.")
            if dtype_name not in _TENSOR_DTYPES:
                self.fail(
                    f"tensor {name!r} has dtype {dtype_name!r}; expected one of "
                    f"{_listing(_TENSOR_DTYPES)}."
                )
            if name not in weights:
                self.fail(f"tensor {name!r} is missing from {WEIGHTS_FILE}.")
            torch_dtype, numpy_dtype = _TENSOR_DTYPES[dtype_name]
            array = weights[name]
            if array.dtype != numpy_dtype or list(array.shape) != shape:
                self.fail(
                    f"tensor {name!r} in {WEIGHTS_FILE} has dtype {array.dtype} and "
                    f"shape {list(array.shape)}, not {numpy_dtype} and {shape}."
                )
            state_dict[name] = torch.from_numpy(array).to(torch_dtype)
        extra = sorted(set(weights) - set(state_dict))
        if extra:
            self.fail(
                f"{WEIGHTS_FILE} holds arrays {extra[:5]!r} that "
                "classifier.tensors does not list."
            )
        return state_dict

    # -- pipeline and threshold -------------------------------------------------

    def pipeline(self, data, classifier):
        self.keys(data, "pipeline", ("class", "params", "steps"))
        pipeline_class = data["class"]
        classes = _pipeline_classes()
        if not isinstance(pipeline_class, str) or pipeline_class not in classes:
            self.fail(
                f"names class {pipeline_class!r} for the pipeline; only "
                f"{_listing(classes)} are accepted."
            )
        cls = classes[pipeline_class]
        params = self.params(
            data["params"],
            cls,
            f"{pipeline_class} parameter",
            exclude=("steps",),
        )
        steps = data["steps"]
        if not isinstance(steps, list) or not steps:
            self.fail(f"pipeline.steps must be a non-empty list; got {steps!r}.")
        built = [self.sampler_step(step) for step in steps[:-1]]
        last = steps[-1]
        self.keys(last, "the last pipeline step", ("name", "class"))
        if last["class"] != "CNNClassifier" or not isinstance(last["name"], str):
            self.fail(
                f"the last pipeline step must be a named CNNClassifier; got {last!r}."
            )
        built.append((last["name"], classifier))
        names = [name for name, _ in built]
        if len(set(names)) != len(names) or any("__" in name for name in names):
            self.fail(
                f"pipeline step names {names!r} must be distinct and free of '__'."
            )
        try:
            validate_parameter_constraints(
                {k: v for k, v in cls._parameter_constraints.items() if k != "steps"},
                params,
                caller_name=cls.__name__,
            )
        except (TypeError, ValueError) as exc:
            self.fail(f"invalid pipeline parameters: {exc}")
        return cls(built, **params)

    def sampler_step(self, data):
        self.keys(data, "a pipeline step", ("name", "class"), ("params", "fitted"))
        name, class_name = data["name"], data["class"]
        if not isinstance(name, str):
            self.fail(f"a pipeline step name must be a string; got {name!r}.")
        if class_name == "passthrough":
            self.keys(data, f"pipeline step {name!r}", ("name", "class"))
            return name, "passthrough"
        samplers = _samplers()
        if not isinstance(class_name, str) or class_name not in samplers:
            self.fail(
                f"names class {class_name!r} for the sampler; only "
                f"{', '.join(samplers)} or 'passthrough' are accepted."
            )
        self.keys(
            data, f"pipeline step {name!r}", ("name", "class", "params", "fitted")
        )
        cls = samplers[class_name]
        params = self.params(data["params"], cls, f"{class_name} parameter")
        sampler = cls(**params)
        try:
            validate_parameter_constraints(
                cls._parameter_constraints, params, caller_name=class_name
            )
        except (TypeError, ValueError) as exc:
            self.fail(f"invalid {class_name} parameters: {exc}")
        fitted = data["fitted"]
        self.keys(fitted, f"pipeline step {name!r} fitted", (), _SAMPLER_FITTED)
        if "n_features_in_" in fitted:
            n_features = fitted["n_features_in_"]
            if type(n_features) is not int or n_features < 1:
                self.fail(f"n_features_in_ must be a positive int; got {n_features!r}.")
            sampler.n_features_in_ = n_features
            if "feature_names_in_" in fitted:
                sampler.feature_names_in_ = self.feature_names(
                    fitted["feature_names_in_"], n_features, f"pipeline step {name!r}"
                )
        if "sampling_strategy_" in fitted:
            strategy = self.value(fitted["sampling_strategy_"], "sampling_strategy_")
            if not isinstance(strategy, dict):
                self.fail(f"sampling_strategy_ must be a dict; got {strategy!r}.")
            sampler.sampling_strategy_ = strategy
        return name, sampler

    def params(self, data, cls, where, exclude=()):
        if not isinstance(data, dict):
            self.fail(f"{where}s must be a JSON object; got {data!r}.")
        accepted = set(inspect.signature(cls).parameters) - set(exclude)
        unknown = sorted(set(data) - accepted)
        if unknown:
            self.fail(
                f"unknown {where} name {unknown[0]!r}; {cls.__name__} accepts "
                f"{_listing(accepted)}."
            )
        return {
            name: self.value(value, f"{where} {name}") for name, value in data.items()
        }

    def fixed_threshold(self, data, estimator):
        self.keys(
            data, "threshold", ("class", "threshold", "pos_label", "response_method")
        )
        if data["class"] != "FixedThresholdClassifier":
            self.fail(
                f"names class {data['class']!r} for the threshold wrapper; only "
                "FixedThresholdClassifier is accepted."
            )
        params = {
            name: self.value(data[name], f"FixedThresholdClassifier parameter {name}")
            for name in ("threshold", "pos_label", "response_method")
        }
        try:
            validate_parameter_constraints(
                FixedThresholdClassifier._parameter_constraints,
                {"estimator": estimator, **params},
                caller_name="FixedThresholdClassifier",
            )
        except (TypeError, ValueError) as exc:
            self.fail(f"invalid FixedThresholdClassifier parameters: {exc}")
        if params["pos_label"] is not None and params["pos_label"] not in list(
            estimator.classes_
        ):
            self.fail(
                f"pos_label {params['pos_label']!r} is not one of the classes "
                f"{estimator.classes_.tolist()!r}."
            )
        return _restore_fixed_threshold(estimator, **params)


def _restore_fixed_threshold(fitted, *, threshold, pos_label, response_method):
    """A fitted FixedThresholdClassifier around an already fitted estimator.

    Sets what ``FixedThresholdClassifier.fit`` sets in scikit-learn 1.5 to
    1.9, all of them documented attributes: ``estimator_`` (``classes_`` is
    a property reading it), ``n_features_in_`` and ``feature_names_in_``;
    ``estimator`` is the unfitted template, as after ``fit``. Should a later
    scikit-learn have ``fit`` store more that ``predict`` needs, ``predict``
    would fail with an AttributeError (tests/test_persistence.py would show
    it).
    """
    model = FixedThresholdClassifier(
        clone(fitted),
        threshold=threshold,
        pos_label=pos_label,
        response_method=response_method,
    )
    model.estimator_ = fitted
    if hasattr(fitted, "n_features_in_"):
        model.n_features_in_ = fitted.n_features_in_
    if hasattr(fitted, "feature_names_in_"):
        model.feature_names_in_ = fitted.feature_names_in_
    return model
