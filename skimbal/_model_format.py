"""The skimbal-model format: a fitted model as JSON and arrays, no code.

A folder written by :func:`skimbal.save_model` holds two files:

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

import numpy as np
import torch
from sklearn.pipeline import Pipeline as SklearnPipeline
from skorch.dataset import Dataset as SkorchDataset
from torch.utils.data import DataLoader

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "MODEL_FILE",
    "WEIGHTS_FILE",
    "ModelFormatError",
    "class_parameters",
    "pipeline_classes",
    "sampler_classes",
]

FORMAT = "skimbal-model"
FORMAT_VERSION = 1
MODEL_FILE = "model.json"
WEIGHTS_FILE = "weights.npz"

KINDS = {
    # kind: (has a FixedThresholdClassifier, has a pipeline)
    "classifier": (False, False),
    "pipeline": (False, True),
    "fixed_threshold(classifier)": (True, False),
    "fixed_threshold(pipeline)": (True, True),
    # A FoldEnsembleClassifier: "members" lists one (pipeline, classifier)
    # per member; the top-level pipeline and classifier are null.
    "ensemble(classifier)": (False, False),
    "ensemble(pipeline)": (False, True),
    "fixed_threshold(ensemble(classifier))": (True, False),
    "fixed_threshold(ensemble(pipeline))": (True, True),
}
#: Member i's tensors are stored in weights.npz under this prefix.
MEMBER_PREFIX = "member{}."


def is_ensemble(kind):
    """Whether a model document's ``kind`` is a FoldEnsembleClassifier.

    Parameters
    ----------
    kind : str
        One of :data:`KINDS`.

    Returns
    -------
    bool
        True for the ``ensemble(...)`` kinds, thresholded or not.
    """
    return "ensemble(" in kind
SAMPLER_NAMES = ("RandomOverSampler", "RandomUnderSampler")
# What a fitted sampler keeps, apart from sample_indices_ (one entry per
# resampled training row): nothing of it is used at predict time.
SAMPLER_FITTED = ("n_features_in_", "feature_names_in_", "sampling_strategy_")
RESTORED_CLASSIFIER_ATTRIBUTES = (
    "classes_",
    "class_counts_",
    "class_weight_",
    "input_shape_",
    "input_kind_",
    "n_features_in_",
    "feature_names_in_",
)
CLASSIFIER_PREFIXES = (
    "module__",
    "criterion__",
    "optimizer__",
    "iterator_train__",
    "iterator_valid__",
    "callbacks__",
    "dataset__",
)
JOBLIB_HINT = (
    "Save such a model with joblib.dump instead (a pickle: load it only from "
    "sources you trust), or its network's weights with skorch's save_params."
)
# torch dtypes that weights.npz stores, as numpy dtypes. bfloat16 has no
# numpy counterpart; it is stored as float32, which holds it exactly.
TENSOR_DTYPES = {
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
JSON_TYPES_OF_KIND = {
    "b": (bool,),
    "i": (int,),
    "u": (int,),
    "f": (int, float),
    "U": (str,),
    "O": (str, int, float, bool),
}
ARRAY_KINDS = "".join(JSON_TYPES_OF_KIND)


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


def class_parameters():
    """List the classes allowed as the value of each parameter that takes one.

    Returns
    -------
    allowed : dict of str to dict
        Parameter name -> {qualified class name: class}.
    """
    loaders = {"torch.utils.data.DataLoader": DataLoader}
    return {
        "optimizer": _optimizer_classes(),
        "iterator_train": loaders,
        "iterator_valid": loaders,
        "dataset": {"skorch.dataset.Dataset": SkorchDataset},
    }


def sampler_classes():
    """List the samplers a saved pipeline may hold.

    Returns
    -------
    allowed : dict of str to type
        Class name -> sampler class.
    """
    # Imported on use: imbalanced-learn adds half a second to `import skimbal`.
    from imblearn.over_sampling import RandomOverSampler
    from imblearn.under_sampling import RandomUnderSampler

    return {
        "RandomOverSampler": RandomOverSampler,
        "RandomUnderSampler": RandomUnderSampler,
    }


def pipeline_classes():
    """List the pipeline classes a saved model may be.

    Returns
    -------
    allowed : dict of str to type
        Qualified class name -> pipeline class.
    """
    from imblearn.pipeline import Pipeline as ImblearnPipeline

    return {
        "sklearn.pipeline.Pipeline": SklearnPipeline,
        "imblearn.pipeline.Pipeline": ImblearnPipeline,
    }


def listing(allowed):
    """Join the sorted names of ``allowed`` for an error message.

    Parameters
    ----------
    allowed : iterable of str
        The names.

    Returns
    -------
    text : str
        The names, sorted, separated by commas.
    """
    return ", ".join(sorted(allowed))
