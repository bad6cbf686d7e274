"""Turn a fitted model into the JSON document and arrays of its model folder."""

import math
import numbers

import numpy as np
import torch
from sklearn.base import clone
from sklearn.model_selection import FixedThresholdClassifier
from sklearn.utils.validation import check_is_fitted

from ._classifier import CNNClassifier
from ._model_format import (
    ARRAY_KINDS,
    FORMAT,
    FORMAT_VERSION,
    JOBLIB_HINT,
    MEMBER_PREFIX,
    RESTORED_CLASSIFIER_ATTRIBUTES,
    SAMPLER_FITTED,
    SAMPLER_NAMES,
    TENSOR_DTYPES,
    class_parameters,
    listing,
    pipeline_classes,
    sampler_classes,
)
from .callbacks import AutoBalance, DeferredReweighting
from .model_selection._ensemble import FoldEnsembleClassifier

__all__ = ["describe_model"]


def _unsupported(model):
    return ValueError(
        "save_model stores a CNNClassifier, a Pipeline of samplers ('passthrough', "
        "RandomOverSampler, RandomUnderSampler) ending in a CNNClassifier, a "
        "FoldEnsembleClassifier of either (all members alike), or any of these in "
        f"a FixedThresholdClassifier; got {type(model).__name__}. "
        + JOBLIB_HINT
    )


def describe_model(model):
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
    members = None
    if type(inner) is FoldEnsembleClassifier:
        check_is_fitted(
            inner,
            "estimators_",
            msg="save_model needs a fitted model; this FoldEnsembleClassifier is "
            "not fitted. Call fit first.",
        )
        members, arrays = [], {}
        for i, member in enumerate(inner.estimators_):
            pipeline, classifier_doc, member_arrays = _describe_single(member)
            members.append({"pipeline": pipeline, "classifier": classifier_doc})
            prefix = MEMBER_PREFIX.format(i)
            arrays.update({prefix + k: v for k, v in member_arrays.items()})
        shapes = {member["pipeline"] is None for member in members}
        if len(shapes) > 1:
            raise _unsupported(inner)  # some members pipelines, some not
        kind = "ensemble(classifier)" if shapes == {True} else "ensemble(pipeline)"
        pipeline = classifier_doc = None
    else:
        pipeline, classifier_doc, arrays = _describe_single(inner)
        kind = "pipeline" if pipeline is not None else "classifier"
    if threshold is not None:
        kind = f"fixed_threshold({kind})"
    from . import __version__

    document = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "skimbal_version": __version__,
        "kind": kind,
        "threshold": threshold,
        "pipeline": pipeline,
        "classifier": classifier_doc,
    }
    if members is not None:
        document["members"] = members
    return document, arrays


def _describe_single(model):
    """(pipeline document or None, classifier document, arrays) of one model."""
    pipeline = None
    if type(model) in pipeline_classes().values():
        pipeline, classifier = _describe_pipeline(model)
    elif type(model) is CNNClassifier:
        classifier = model
    else:
        raise _unsupported(model)
    classifier_doc, arrays = _describe_classifier(classifier)
    return pipeline, classifier_doc, arrays


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
        name for name, cls in pipeline_classes().items() if type(pipeline) is cls
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
    if (
        class_name not in SAMPLER_NAMES
        or type(step) is not sampler_classes()[class_name]
    ):
        raise ValueError(
            f"pipeline step {name!r} is a {class_name}; the safe format stores only "
            f"the samplers {', '.join(SAMPLER_NAMES)} or 'passthrough' before the "
            f"CNNClassifier. {JOBLIB_HINT}"
        )
    params = step.get_params(deep=False)
    fitted = {
        attribute: _encode_fitted(getattr(step, attribute), f"{name}.{attribute}")
        for attribute in SAMPLER_FITTED
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
        for name in RESTORED_CLASSIFIER_ATTRIBUTES
        if hasattr(clf, name)
    }
    tensors, arrays = [], {}
    for name, tensor in clf.module_.state_dict().items():
        dtype_name = str(getattr(tensor, "dtype", "")).removeprefix("torch.")
        if (
            not isinstance(tensor, torch.Tensor)
            or tensor.layout != torch.strided
            or dtype_name not in TENSOR_DTYPES
        ):
            raise ValueError(
                f"the network's state_dict entry {name!r} is not a dense tensor of "
                f"one of the dtypes {listing(TENSOR_DTYPES)}, which is all the "
                f"safe format stores. {JOBLIB_HINT}"
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
                f"nn.Module class or instance. {JOBLIB_HINT}"
            )
        return value
    if name == "augment":
        if not isinstance(value, bool | np.bool_):
            raise ValueError(
                f"augment={value!r}: the safe format stores augment only as True or "
                f"False, not as a callable. {JOBLIB_HINT}"
            )
        return bool(value)
    if name == "callbacks":
        return _encode_callbacks(value)
    if name == "device" and isinstance(value, torch.device):
        return str(value)
    allowed = class_parameters().get(name)
    if allowed is not None and isinstance(value, type):
        for dotted, cls in allowed.items():
            if value is cls:
                return {"class": dotted}
        raise ValueError(
            f"{name}={value.__module__}.{value.__qualname__}: the safe format stores "
            f"only {listing(allowed)} for {name}. {JOBLIB_HINT}"
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
            f"list of DeferredReweighting and AutoBalance callbacks. {JOBLIB_HINT}"
        )
    encoded = []
    for entry in callbacks:
        name, callback = entry if isinstance(entry, tuple) else (None, entry)
        if type(callback) not in (DeferredReweighting, AutoBalance) or not (
            name is None or isinstance(name, str)
        ):
            raise ValueError(
                f"callbacks holds {entry!r}; the safe format stores only "
                "skimbal.callbacks.DeferredReweighting and AutoBalance callbacks. "
                f"{JOBLIB_HINT}"
            )
        cls = type(callback).__name__
        params = callback.get_params()
        encoded.append(
            {
                "name": name,
                "class": cls,
                "params": {
                    key: _encode_value(value, f"{cls} parameter {key}")
                    for key, value in sorted(params.items())
                },
            }
        )
    return {"callbacks": encoded}


def _encode_value(value, where):
    """A parameter value as JSON; tuples and dicts tagged (see _model_format)."""
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
        f"tuples and dicts of these. {JOBLIB_HINT}"
    )


def _encode_fitted(value, where):
    """A fitted attribute: 1-D arrays with their dtype, tuples as lists."""
    if isinstance(value, np.ndarray):
        if value.ndim != 1 or value.dtype.kind not in ARRAY_KINDS:
            raise ValueError(
                f"fitted attribute {where} is an array of shape {value.shape} and "
                f"dtype {value.dtype}, which the safe format cannot store. "
                + JOBLIB_HINT
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
            f"weights change the network itself{reason}. {JOBLIB_HINT}"
        )
