"""Read a model folder back, strictly: allow-lists only, every error names the file."""

import hashlib
import inspect
import io
import json
import math
import zipfile

import numpy as np
import torch
from sklearn.base import clone
from sklearn.model_selection import FixedThresholdClassifier

from ._classifier import CNNClassifier
from ._model_format import (
    ARRAY_KINDS,
    CLASSIFIER_PREFIXES,
    FORMAT,
    FORMAT_VERSION,
    JSON_TYPES_OF_KIND,
    KINDS,
    MEMBER_PREFIX,
    MODEL_FILE,
    SAMPLER_FITTED,
    TENSOR_DTYPES,
    WEIGHTS_FILE,
    ModelFormatError,
    class_parameters,
    is_ensemble,
    listing,
    pipeline_classes,
    sampler_classes,
)
from ._sklearn_private import prefit_fixed_threshold, validate_parameter_constraints
from .callbacks import AutoBalance, DeferredReweighting
from .model_selection._ensemble import FoldEnsembleClassifier

__all__ = ["ModelReader", "read_weights"]


def _reject_duplicate_keys(pairs):
    keys = [key for key, _ in pairs]
    duplicated = sorted({key for key in keys if keys.count(key) > 1})
    if duplicated:
        raise ValueError(f"duplicate keys {duplicated!r}")
    return dict(pairs)


def read_weights(weights_file, expected_sha256, model_file):
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


class ModelReader:
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
            optional=("members",),
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
        if not isinstance(kind, str) or kind not in KINDS:
            self.fail(f"kind is {kind!r}; expected one of {listing(KINDS)}.")
        has_threshold, has_pipeline = KINDS[kind]
        ensemble = is_ensemble(kind)
        for key, wanted in (
            ("threshold", has_threshold),
            ("pipeline", has_pipeline and not ensemble),
            ("classifier", not ensemble),
        ):
            if (document[key] is not None) != wanted:
                presence = "an object" if wanted else "null"
                self.fail(f"kind {kind!r} needs {key} to be {presence}.")
        if ensemble != ("members" in document):
            self.fail(
                f"kind {kind!r} "
                + ("needs a members list." if ensemble else "has no members.")
            )
        if ensemble:
            members = document["members"]
            if not isinstance(members, list) or not members:
                self.fail(f"members must be a non-empty list; got {members!r}.")
            for member in members:
                self.keys(member, "a members entry", ("pipeline", "classifier"))
                if (member["pipeline"] is not None) != has_pipeline:
                    presence = "an object" if has_pipeline else "null"
                    self.fail(
                        f"kind {kind!r} needs each member's pipeline to be {presence}."
                    )
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
        """Decode a parameter value (tagged forms: see skimbal._model_format)."""
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
                    f"for the parameters {listing(class_parameters())}."
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
            or dtype.kind not in ARRAY_KINDS
        ):
            self.fail(
                f"{where} has dtype {data['dtype']!r}; expected a numpy dtype of "
                "booleans, numbers, str or object."
            )
        values = data["values"]
        json_types = JSON_TYPES_OF_KIND[dtype.kind]
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
        class_params = class_parameters()
        params = {}
        for name, value in data.items():
            prefixed = any(
                name.startswith(prefix) and len(name) > len(prefix)
                for prefix in CLASSIFIER_PREFIXES
            )
            if name not in explicit and not (prefixed and name.isidentifier()):
                self.fail(
                    f"classifier.params has unknown parameter name {name!r}; "
                    "CNNClassifier accepts its constructor parameters and names "
                    f"prefixed with {', '.join(CLASSIFIER_PREFIXES)}."
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
                f"names class {dotted!r} for the {name}; only {listing(allowed)} "
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
        classes = {
            "AutoBalance": AutoBalance,
            "DeferredReweighting": DeferredReweighting,
        }
        callbacks = []
        for entry in entries:
            self.keys(entry, "a callback", ("name", "class", "params"))
            cls = (
                classes.get(entry["class"]) if isinstance(entry["class"], str) else None
            )
            if cls is None:
                self.fail(
                    f"names class {entry['class']!r} for a callback; only "
                    f"{listing(classes)} are accepted."
                )
            accepted = set(inspect.signature(cls).parameters)
            name, params = entry["name"], entry["params"]
            if not (name is None or isinstance(name, str)):
                self.fail(f"a callback name must be a string or null; got {name!r}.")
            if not isinstance(params, dict) or not set(params) <= accepted:
                self.fail(
                    f"{cls.__name__} params {params!r} must be a JSON object "
                    f"with keys among {listing(accepted)}."
                )
            callback = cls(
                **{
                    key: self.value(value, f"{cls.__name__} parameter {key}")
                    for key, value in params.items()
                }
            )
            try:
                callback._check_params()
            except ValueError as exc:
                self.fail(f"invalid {cls.__name__} parameters: {exc}")
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
            if dtype_name not in TENSOR_DTYPES:
                self.fail(
                    f"tensor {name!r} has dtype {dtype_name!r}; expected one of "
                    f"{listing(TENSOR_DTYPES)}."
                )
            if name not in weights:
                self.fail(f"tensor {name!r} is missing from {WEIGHTS_FILE}.")
            torch_dtype, numpy_dtype = TENSOR_DTYPES[dtype_name]
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

    def members(self, members, has_pipeline, weights, device):
        """Each member's fitted model, from its own prefix of ``weights``."""
        models, claimed = [], set()
        for i, member in enumerate(members):
            prefix = MEMBER_PREFIX.format(i)
            own = {
                k[len(prefix) :]: v for k, v in weights.items() if k.startswith(prefix)
            }
            claimed.update(prefix + k for k in own)
            model = self.classifier(member["classifier"], own, device)
            if has_pipeline:
                model = self.pipeline(member["pipeline"], model)
            models.append(model)
        extra = sorted(set(weights) - claimed)
        if extra:
            self.fail(
                f"{WEIGHTS_FILE} holds arrays {extra[:5]!r} that belong to no member."
            )
        try:
            return FoldEnsembleClassifier(
                clone(models[0]), cv=len(models)
            )._set_members(models)
        except ValueError as exc:
            self.fail(f"the members do not make one ensemble: {exc}")

    # -- pipeline and threshold -------------------------------------------------

    def pipeline(self, data, classifier):
        self.keys(data, "pipeline", ("class", "params", "steps"))
        pipeline_class = data["class"]
        classes = pipeline_classes()
        if not isinstance(pipeline_class, str) or pipeline_class not in classes:
            self.fail(
                f"names class {pipeline_class!r} for the pipeline; only "
                f"{listing(classes)} are accepted."
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
        samplers = sampler_classes()
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
        self.keys(fitted, f"pipeline step {name!r} fitted", (), SAMPLER_FITTED)
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
                f"{listing(accepted)}."
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
        return prefit_fixed_threshold(estimator, **params)
