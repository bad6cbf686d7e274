"""DeferredReweighting on a real (tiny) skorch NeuralNetClassifier."""

import numpy as np
import pytest
from skorch import NeuralNetClassifier
from skorch.callbacks import Callback
from torch import nn

from skimbal.callbacks import DeferredReweighting
from skimbal.losses import FocalLoss, LDAMLoss

COUNTS = np.array([40, 15, 5])


class RecordCriterionWeight(Callback):
    """Write the criterion's weight used during each epoch into the history."""

    def on_epoch_end(self, net, **kwargs):
        weight = net.criterion_.weight
        net.history.record(
            "criterion_weight", None if weight is None else weight.tolist()
        )
        if weight is not None:
            net.history.record("criterion_weight_dtype", str(weight.dtype))


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(3), COUNTS)
    X = (rng.normal(size=(len(y), 2)) + y[:, None]).astype(np.float32)
    return X, y


def make_net(drw, criterion=LDAMLoss, max_epochs=5, **kwargs):
    if criterion is LDAMLoss:
        kwargs.setdefault("criterion__class_counts", COUNTS)
    return NeuralNetClassifier(
        nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 3)),
        criterion=criterion,
        max_epochs=max_epochs,
        lr=0.05,
        batch_size=32,
        train_split=None,
        verbose=0,
        callbacks=[("drw", drw), ("record", RecordCriterionWeight())],
        **kwargs,
    )


def effective_number_by_hand(counts, beta):
    weights = (1 - beta) / (1 - beta ** counts.astype(float))
    return weights * len(counts) / weights.sum()


def test_weight_none_before_start_epoch_and_set_after(data):
    X, y = data
    net = make_net(DeferredReweighting(start_epoch=3))
    net.class_counts_ = COUNTS  # what skimbal's classifier sets at fit
    net.fit(X, y)
    recorded = net.history[:, "criterion_weight"]
    assert recorded[:2] == [None, None]
    expected = effective_number_by_hand(COUNTS, 0.9999)
    for weight in recorded[2:]:
        np.testing.assert_allclose(weight, expected, rtol=1e-6)
    assert net.history[-1, "criterion_weight_dtype"] == "torch.float32"
    drw = dict(net.callbacks_)["drw"]
    assert drw.start_epoch_ == 3
    np.testing.assert_allclose(drw.class_weight_, expected)


def test_fraction_of_max_epochs_and_balanced_weights(data):
    X, y = data
    net = make_net(
        DeferredReweighting(start_epoch=0.5, class_weight="balanced"), max_epochs=6
    )
    net.fit(X, y)  # no class_counts_: counted from y
    recorded = net.history[:, "criterion_weight"]
    # 0.5 * 6 = 3 epochs without weights, then weights from epoch 4 on.
    assert recorded[:3] == [None] * 3
    expected = len(y) / (3 * COUNTS)
    for weight in recorded[3:]:
        np.testing.assert_allclose(weight, expected, rtol=1e-6)


def test_beta_and_dict_class_weight(data):
    X, y = data
    net = make_net(DeferredReweighting(start_epoch=1, beta=0.9), max_epochs=2)
    net.fit(X, y)
    expected = effective_number_by_hand(COUNTS, 0.9)
    np.testing.assert_allclose(net.history[0, "criterion_weight"], expected, rtol=1e-6)

    net = make_net(
        DeferredReweighting(start_epoch=2, class_weight={2: 4.0}),
        criterion=nn.CrossEntropyLoss,
        max_epochs=2,
    )
    net.fit(X, y)
    assert net.history[:, "criterion_weight"] == [None, [1.0, 1.0, 4.0]]


def test_constructor_weight_is_replaced_and_state_reset_on_refit(data):
    X, y = data
    net = make_net(
        DeferredReweighting(start_epoch=3),
        criterion=FocalLoss,
        criterion__weight=[9.0, 9.0, 9.0],
        max_epochs=3,
    )
    for _ in range(2):
        net.fit(X, y)  # a fresh fit re-initializes net, history and callback
        recorded = net.history[:, "criterion_weight"]
        assert len(recorded) == 3
        assert recorded[:2] == [None, None] and recorded[2] is not None


def test_get_params_lists_only_constructor_arguments():
    drw = DeferredReweighting().initialize()
    assert drw.get_params() == {
        "start_epoch": 0.8,
        "class_weight": "effective_number",
        "beta": 0.9999,
    }


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"start_epoch": 0}, r"start_epoch must be an int >= 1 .* got start_epoch=0\."),
        ({"start_epoch": 1.0}, r"start_epoch=1\.0"),
        ({"start_epoch": 160.0}, r"start_epoch=160\.0"),
        ({"start_epoch": -0.2}, r"start_epoch=-0\.2"),
        ({"start_epoch": True}, r"start_epoch=True"),
        ({"start_epoch": "late"}, r"start_epoch='late'"),
        ({"class_weight": None}, r"class_weight must be one of 'balanced', "),
        ({"class_weight": "inverse"}, r"class_weight='inverse'"),
        ({"class_weight": np.ones(3)}, r"class_weight=array\(\[1\., 1\., 1\.\]\)"),
        ({"beta": 1.0}, r"beta must be a float in \[0, 1\); got beta=1\.0"),
        ({"beta": -0.1}, r"beta=-0\.1"),
    ],
)
def test_invalid_parameters_fail_at_initialize(kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_net(DeferredReweighting(**kwargs)).initialize()


def test_criterion_without_weight_is_rejected(data):
    X, y = data
    net = make_net(DeferredReweighting(), criterion=nn.MSELoss)
    with pytest.raises(TypeError, match="needs a criterion with a weight attribute"):
        net.fit(X, y)
