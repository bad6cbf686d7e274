"""Properties every loss of skimbal.losses shares, checked on each of them."""

import copy
import inspect
import pickle

import numpy as np
import pytest
import torch
from skorch import NeuralNetClassifier
from torch import nn

import skimbal.losses
from skimbal.losses import (
    CRITERIA,
    FocalLoss,
    balanced_softmax_loss,
    focal_loss,
    ldam_loss,
    logit_adjusted_loss,
    vs_loss,
)
from skimbal.losses._base import ClassBufferLoss

N_CLASSES = 3
COUNTS = [60, 25, 5]

# The functional form and the hyper-parameter cases (other than weight) of
# every loss in CRITERIA but plain cross-entropy; test_every_criterion_is_covered
# fails until a new loss is added here.
CASES = {
    "focal": (
        focal_loss,
        {
            "gamma0": {"gamma": 0.0},
            "gamma0.5": {"gamma": 0.5},
            "gamma2": {"gamma": 2.0},
        },
    ),
    "logit_adjusted": (logit_adjusted_loss, {"": {"tau": 1.5}}),
    "balanced_softmax": (balanced_softmax_loss, {"": {}}),
    "ldam": (ldam_loss, {"": {"max_margin": 0.5, "scale": 2.0}}),
    "vs": (
        vs_loss,
        {
            "": {"gamma": 0.3, "tau": 1.0},
            "explicit": {"scaling": [1.0, 0.5, 0.25], "offset": [0.5, 0.0, -1.0]},
        },
    ),
}
# (id, functional form, module class, hyper-parameters other than weight)
LOSSES = [
    ("-".join(filter(None, (name, case))), functional, CRITERIA[name], params)
    for name, (functional, cases) in CASES.items()
    for case, params in cases.items()
]
PRIOR_BASED = [case for case in LOSSES if case[2] is not FocalLoss]
MODULES = [cls for cls in CRITERIA.values() if cls is not nn.CrossEntropyLoss]


def needs_counts(cls):
    return "class_counts" in inspect.signature(cls).parameters


def kwargs_for(cls, params, counts=COUNTS):
    return {"class_counts": counts, **params} if needs_counts(cls) else dict(params)


def make_module(cls, params, **extra):
    return cls(**kwargs_for(cls, params), **extra)


def batch(n_samples=8, dtype=torch.float32, scale=2.0):
    logits = scale * torch.randn(n_samples, N_CLASSES, dtype=dtype)
    return logits, torch.randint(0, N_CLASSES, (n_samples,))


parametrize_losses = pytest.mark.parametrize(
    "functional, cls, params", [case[1:] for case in LOSSES], ids=[c[0] for c in LOSSES]
)
parametrize_prior_based = pytest.mark.parametrize(
    "functional, cls, params",
    [case[1:] for case in PRIOR_BASED],
    ids=[c[0] for c in PRIOR_BASED],
)


def test_every_criterion_is_covered():
    assert set(CASES) == set(CRITERIA) - {"cross_entropy"}
    assert CRITERIA["cross_entropy"] is nn.CrossEntropyLoss


@pytest.mark.parametrize("name", sorted(CRITERIA))
def test_criteria_are_exported_modules(name):
    cls = CRITERIA[name]
    assert issubclass(cls, nn.Module)
    if cls is not nn.CrossEntropyLoss:
        assert issubclass(cls, ClassBufferLoss)
        assert getattr(skimbal.losses, cls.__name__) is cls
        assert cls.__name__ in skimbal.losses.__all__


@pytest.mark.parametrize("cls", MODULES)
def test_constructor_takes_plain_named_arguments(cls):
    # The classifier passes class_counts= and weight= when these names appear
    # in the signature; grid searches set the other arguments by name.
    parameters = inspect.signature(cls).parameters
    assert "weight" in parameters and parameters["weight"].default is None
    assert parameters["reduction"].default == "mean"
    assert needs_counts(cls) == (cls is not FocalLoss)
    kinds = {p.kind for p in parameters.values()}
    assert kinds == {inspect.Parameter.POSITIONAL_OR_KEYWORD}


@parametrize_losses
def test_skorch_sets_hyper_parameters_by_name(functional, cls, params):
    net = NeuralNetClassifier(
        nn.Linear(2, N_CLASSES),
        criterion=cls,
        **{f"criterion__{k}": v for k, v in kwargs_for(cls, params).items()},
        criterion__weight=np.array([1.0, 2.0, 3.0]),
    ).initialize()
    for name, value in params.items():
        got = getattr(net.criterion_, name)
        # Per-class vectors (VSLoss's scaling and offset) are float32 buffers.
        assert (got.tolist() if isinstance(got, torch.Tensor) else got) == value
    net.set_params(criterion__reduction="sum")
    assert net.criterion_.reduction == "sum"
    assert net.criterion_.weight.tolist() == [1.0, 2.0, 3.0]


@parametrize_losses
@pytest.mark.parametrize("with_weight", [False, True])
def test_reductions_and_module_match_functional(functional, cls, params, with_weight):
    logits, target = batch(n_samples=10)
    weight = torch.tensor([0.5, 2.0, 1.0]) if with_weight else None
    kwargs = kwargs_for(cls, params)
    per_sample = functional(logits, target, weight=weight, reduction="none", **kwargs)
    total = functional(logits, target, weight=weight, reduction="sum", **kwargs)
    mean = functional(logits, target, weight=weight, **kwargs)
    assert per_sample.shape == (10,) and total.shape == () and mean.shape == ()
    torch.testing.assert_close(total, per_sample.sum())
    # CrossEntropyLoss's convention: the weighted mean divides by the weights.
    divisor = weight[target].sum() if with_weight else torch.tensor(10.0)
    torch.testing.assert_close(mean, total / divisor)
    module = make_module(cls, params, weight=weight)
    torch.testing.assert_close(module(logits, target), mean)


@parametrize_losses
@pytest.mark.parametrize("with_weight", [False, True])
def test_gradcheck_float64(functional, cls, params, with_weight):
    logits, target = batch(n_samples=5, dtype=torch.float64)
    logits.requires_grad_(True)
    weight = torch.tensor([0.7, 1.3, 2.0], dtype=torch.float64) if with_weight else None
    kwargs = kwargs_for(cls, params)

    def loss(x):
        return functional(x, target, weight=weight, **kwargs)

    assert torch.autograd.gradcheck(loss, (logits,))


@parametrize_losses
@pytest.mark.parametrize("magnitude", [1e4, -1e4])
def test_finite_for_extreme_logits(functional, cls, params, magnitude):
    # Random signs at |z| = 1e4 mix confident correct and confident wrong rows.
    logits = magnitude * torch.randn(64, N_CLASSES).sign()
    logits.requires_grad_(True)
    target = torch.randint(0, N_CLASSES, (64,))
    module = make_module(cls, params, weight=[1.0, 2.0, 4.0])
    loss = module(logits, target)
    loss.backward()
    assert torch.isfinite(loss)
    assert torch.isfinite(logits.grad).all()


@parametrize_losses
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_confident_predictions(functional, cls, params, dtype):
    target = torch.tensor([0, 1, 2])
    confident = 1e4 * nn.functional.one_hot(torch.tensor([0, 1, 2]), N_CLASSES)
    module = make_module(cls, params, reduction="none")
    for logits, is_correct in ((confident, True), (confident.roll(1, dims=1), False)):
        logits = logits.to(dtype).requires_grad_(True)
        loss = module(logits, target)
        loss.sum().backward()
        assert torch.isfinite(loss).all() and torch.isfinite(logits.grad).all()
        if is_correct:
            # LDAM's margin (0.5) and scale still leave a loss of ~0.
            assert loss.max().item() < 1e-3
        else:
            assert loss.min().item() > 1e3


@parametrize_losses
def test_deepcopy_pickle_and_dtype_move(functional, cls, params):
    module = make_module(cls, params, weight=np.array([1.0, 2.0, 0.5]))
    logits, target = batch()
    expected = module(logits, target)
    for clone in (copy.deepcopy(module), pickle.loads(pickle.dumps(module))):
        torch.testing.assert_close(clone(logits, target), expected)
        assert clone.weight.dtype == torch.float32
    # Per-class vectors given as hyper-parameters (VSLoss's) are buffers too.
    vectors = {name for name in params if name in ("scaling", "offset")}
    assert set(dict(module.named_buffers())) == vectors | (
        {"weight", "class_counts"} if needs_counts(cls) else {"weight"}
    )
    module64 = module.to(torch.float64)
    assert all(b.dtype == torch.float64 for b in module64.buffers())
    torch.testing.assert_close(
        module64(logits.double(), target), expected.double(), rtol=1e-6, atol=1e-6
    )


@parametrize_losses
def test_weight_buffer_can_be_assigned_later(functional, cls, params):
    module = make_module(cls, params)
    assert module.weight is None
    logits, target = batch()
    weight = torch.tensor([0.2, 1.0, 5.0])
    module.weight = weight
    assert "weight" in dict(module.named_buffers())
    expected = functional(logits, target, weight=weight, **kwargs_for(cls, params))
    torch.testing.assert_close(module(logits, target), expected)
    module.weight = None
    torch.testing.assert_close(
        module(logits, target), functional(logits, target, **kwargs_for(cls, params))
    )
    pickle.loads(pickle.dumps(module))


@parametrize_losses
def test_assigned_weight_keeps_a_float_dtype(functional, cls, params):
    module = make_module(cls, params).double()
    logits, target = batch(dtype=torch.float64)
    weight = torch.tensor([0.1, 1.0, 3.0], dtype=torch.float64) / 3
    module.weight = weight
    assert module.weight.dtype == torch.float64
    expected = functional(logits, target, weight=weight, **kwargs_for(cls, params))
    torch.testing.assert_close(module(logits, target), expected, rtol=0, atol=0)
    module.weight = [1, 2, 3]  # not a float tensor: stored as float32, as at init
    assert module.weight.dtype == torch.float32


@pytest.mark.parametrize("name", sorted(CRITERIA))
@pytest.mark.parametrize("with_weight", [False, True])
@pytest.mark.parametrize("n_classes", [2, 3])
def test_no_graph_breaks_under_torch_compile(name, with_weight, n_classes):
    # A value read in forward (.item(), a Python check on a tensor's values)
    # would break the graph, and on an accelerator sync with the host.
    cls = CRITERIA[name]
    kwargs = kwargs_for(cls, {}, counts=COUNTS[:n_classes])
    weight = torch.tensor([1.0, 2.0, 3.0][:n_classes]) if with_weight else None
    module = cls(**kwargs, weight=weight)
    logits, target = torch.randn(8, n_classes), torch.randint(0, n_classes, (8,))
    torch._dynamo.reset()
    explanation = torch._dynamo.explain(module)(logits, target)
    assert explanation.graph_break_count == 0, explanation.break_reasons
    assert explanation.graph_count == 1


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@parametrize_losses
def test_buffers_follow_module_to_cuda(functional, cls, params):
    module = make_module(cls, params, weight=[1.0, 2.0, 3.0]).to("cuda")
    logits, target = batch()
    loss = module(logits.cuda(), target.cuda())
    assert loss.device.type == "cuda"
    torch.testing.assert_close(
        loss.cpu(), make_module(cls, params, weight=[1.0, 2.0, 3.0])(logits, target)
    )


# --- invalid arguments -----------------------------------------------------


@parametrize_losses
@pytest.mark.parametrize("reduction", ["average", None, "MEAN"])
def test_invalid_reduction(functional, cls, params, reduction):
    match = r"reduction must be one of 'none', 'mean', 'sum'; got reduction="
    with pytest.raises(ValueError, match=match):
        make_module(cls, params, reduction=reduction)
    logits, target = batch()
    with pytest.raises(ValueError, match=match):
        functional(logits, target, reduction=reduction, **kwargs_for(cls, params))


@parametrize_losses
@pytest.mark.parametrize(
    "weight, match",
    [
        (
            [1.0, -2.0, 1.0],
            r"weight must contain finite non-negative values; "
            r"got weight\[1\]=-2.0",
        ),
        ([1.0, 1.0, float("nan")], r"weight\[2\]=nan"),
        ([float("inf"), 1.0, 1.0], r"weight\[0\]=inf"),
        ([[1.0, 1.0, 1.0]], r"weight must be a non-empty 1-D array .* shape \(1, 3\)"),
        ([], r"weight must be a non-empty 1-D array"),
    ],
)
def test_invalid_weight(functional, cls, params, weight, match):
    with pytest.raises(ValueError, match=match):
        make_module(cls, params, weight=weight)
    logits, target = batch()
    with pytest.raises(ValueError, match=match):
        functional(logits, target, weight=weight, **kwargs_for(cls, params))
    # A bad weight assigned after construction (e.g. by a callback) is caught
    # when it is assigned, and the module keeps its weight.
    module = make_module(cls, params)
    with pytest.raises(ValueError, match=match):
        module.weight = torch.tensor(weight)
    assert module.weight is None


@parametrize_losses
def test_hyper_parameters_checked_when_assigned(functional, cls, params):
    module = make_module(cls, params)
    with pytest.raises(ValueError, match="reduction must be one of"):
        module.reduction = "average"
    assert module.reduction == "mean"
    for name in cls.hyper_parameters:
        before = getattr(module, name)
        with pytest.raises(ValueError, match=f"{name} must be a finite number"):
            setattr(module, name, -1.0)
        with pytest.raises(TypeError, match=f"{name} must be a real number"):
            setattr(module, name, "2")
        assert getattr(module, name) == before
    if needs_counts(cls):
        with pytest.raises(ValueError, match=r"class_counts\[1\]=0.0"):
            module.class_counts = torch.tensor([3.0, 0.0, 1.0])
        with pytest.raises(TypeError, match="class_counts is required"):
            module.class_counts = None
        assert module.class_counts.tolist() == COUNTS


@parametrize_losses
def test_weight_of_wrong_type(functional, cls, params):
    with pytest.raises(TypeError, match="weight must be a tensor, array or list"):
        make_module(cls, params, weight="balanced")


@parametrize_losses
def test_weight_length_checked_against_logits(functional, cls, params):
    module = make_module(cls, params, weight=[1.0, 2.0])
    logits, target = batch()
    match = r"weight has 2 values but logits has 3 columns"
    with pytest.raises(ValueError, match=match):
        module(logits, target)


@parametrize_losses
@pytest.mark.parametrize("shape", [(8,), (8, N_CLASSES, 1)], ids=["1-D", "3-D"])
def test_logits_must_be_2d(functional, cls, params, shape):
    module = make_module(cls, params)
    with pytest.raises(ValueError, match=r"logits must be 2-D .* got shape"):
        module(torch.randn(*shape), torch.randint(0, N_CLASSES, (8,)))


@parametrize_losses
def test_logits_must_be_a_float_tensor(functional, cls, params):
    module = make_module(cls, params)
    target = torch.tensor([0, 1])
    match = r"logits must be a floating-point tensor .* got "
    with pytest.raises(TypeError, match=match + "a tensor of dtype torch.int64"):
        module(torch.ones(2, N_CLASSES, dtype=torch.long), target)
    with pytest.raises(TypeError, match=match + "ndarray"):
        module(np.ones((2, N_CLASSES)), target)


@parametrize_losses
def test_target_must_match_logits(functional, cls, params):
    module = make_module(cls, params)
    logits, _ = batch(n_samples=8)
    match = r"target must be 1-D with one class index per row of logits; got target "
    with pytest.raises(ValueError, match=match + r"shape \(7,\)"):
        module(logits, torch.zeros(7, dtype=torch.long))
    with pytest.raises(ValueError, match=match + r"shape \(8, 1\)"):
        module(logits, torch.zeros(8, 1, dtype=torch.long))
    with pytest.raises(TypeError, match="target must hold integer class indices"):
        module(logits, torch.zeros(8))


@parametrize_losses
@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("bad", [-1, "n_classes"])
def test_target_out_of_range(functional, cls, params, n_classes, bad):
    counts = COUNTS[:n_classes]
    module = cls(**kwargs_for(cls, params, counts=counts))
    target = torch.tensor([0, 1, 0, 1])
    target[2] = n_classes if bad == "n_classes" else bad
    low, high = min(0, target[2].item()), max(1, target[2].item())
    match = (
        rf"target must hold class indices in \[0, {n_classes}\) for logits with "
        rf"{n_classes} columns; got values from {low} to {high}\."
    )
    with pytest.raises(ValueError, match=match):
        module(torch.randn(4, n_classes), target)


@parametrize_prior_based
@pytest.mark.parametrize(
    "counts, match",
    [
        (
            [10, 0, 5],
            r"class_counts must contain finite positive values; "
            r"got class_counts\[1\]=0.0",
        ),
        ([10, -3, 5], r"class_counts\[1\]=-3.0"),
        ([10, 5, float("nan")], r"class_counts\[2\]=nan"),
        ([float("inf"), 5, 1], r"class_counts\[0\]=inf"),
        (np.zeros((3, 1)), r"class_counts must be a non-empty 1-D array"),
    ],
)
def test_invalid_class_counts(functional, cls, params, counts, match):
    with pytest.raises(ValueError, match=match):
        cls(class_counts=counts, **params)
    logits, target = batch()
    with pytest.raises(ValueError, match=match):
        functional(logits, target, class_counts=counts, **params)


@parametrize_prior_based
def test_class_counts_required_and_length_checked(functional, cls, params):
    with pytest.raises(TypeError, match="class_counts"):
        cls(**params)
    with pytest.raises(TypeError, match="class_counts is required"):
        cls(class_counts=None, **params)
    module = cls(class_counts=[10, 5, 2, 1], **params)
    logits, target = batch()
    with pytest.raises(ValueError, match="class_counts has 4 values but logits has 3"):
        module(logits, target)
