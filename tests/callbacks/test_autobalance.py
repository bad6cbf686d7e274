"""AutoBalance inside CNNClassifier: the split, the updates, their side effects."""

import pickle

import numpy as np
import pytest
import torch
from imblearn.over_sampling import RandomOverSampler
from sklearn.base import clone
from skorch import NeuralNetClassifier
from skorch.callbacks import Callback
from torch import nn

from skimbal import CNNClassifier
from skimbal.callbacks import AutoBalance
from skimbal.losses import VSLoss


class RecordSplit(Callback):
    """Keep the rows of the training and validation data of the fit."""

    def on_epoch_begin(self, net, dataset_train=None, dataset_valid=None, **kwargs):
        self.train_rows_ = dataset_train.rows
        self.valid_rows_ = None if dataset_valid is None else dataset_valid.rows
        self.valid_labels_ = None if dataset_valid is None else dataset_valid.labels


@pytest.fixture(scope="module")
def data(odd_digits):
    X, y = odd_digits
    return X[:400], y[:400]


def make_clf(autobalance, **kwargs):
    params = dict(
        input_shape=(1, 8, 8),
        criterion="vs",
        validation_fraction=0.2,
        max_epochs=4,
        min_steps=0,
        batch_size=32,
        module__filters=(4,),
        random_state=0,
    )
    params.update(kwargs)
    callbacks = [("autobalance", autobalance), ("split", RecordSplit())]
    return CNNClassifier(callbacks=callbacks, **params)


def callback(clf, name="autobalance"):
    return dict(clf.callbacks_)[name]


@pytest.fixture(scope="module")
def fitted(data):
    return make_clf(AutoBalance(interval=2, start_epoch=2)).fit(*data)


def test_learned_parameters_move_and_are_visible(fitted):
    autobalance = callback(fitted)
    counts = torch.as_tensor(fitted.class_counts_, dtype=torch.float32)
    start = VSLoss(counts)
    scaling, offset = start.vs_parameters()
    # 10 steps an epoch (320 rows / 32), an update every 2nd step of epochs 2-4.
    assert autobalance.start_epoch_ == 2 and autobalance.n_updates_ == 15
    learned = fitted.learned_loss_params_
    assert set(learned) == {"scaling", "offset", "weight"}
    assert not np.allclose(learned["offset"], offset.numpy(), atol=1e-3)
    assert not np.allclose(learned["scaling"], scaling.numpy(), atol=1e-3)
    np.testing.assert_array_equal(learned["offset"], autobalance.offset_)
    # The criterion trains with them, and every epoch's values are recorded.
    np.testing.assert_allclose(fitted.criterion_.offset.numpy(), learned["offset"])
    np.testing.assert_allclose(fitted.criterion_.scaling.numpy(), learned["scaling"])
    np.testing.assert_allclose(fitted.criterion_.weight.numpy(), learned["weight"])
    history = fitted.history[:, "autobalance_offset"]
    assert len(history) == 4 and np.allclose(history[0], offset.numpy())


def test_validation_rows_never_train(fitted, data):
    record = callback(fitted, "split")
    train = {row.tobytes() for row in record.train_rows_}
    valid = {row.tobytes() for row in record.valid_rows_}
    assert not train & valid
    assert len(record.train_rows_) + len(record.valid_rows_) == len(data[0])
    assert len(record.valid_rows_) == pytest.approx(0.2 * len(data[0]), abs=2)
    assert set(record.valid_labels_) == {0, 1}  # stratified


def test_copies_of_a_row_stay_on_one_side(odd_digits):
    # Oversampled copies of minority rows: none may be trained on and used to
    # learn the loss parameters at once.
    X, y = odd_digits
    X, y = RandomOverSampler(random_state=0).fit_resample(X[:300], y[:300])
    clf = make_clf(AutoBalance(interval=4), max_epochs=1).fit(X, y)
    record = callback(clf, "split")
    train = {row.tobytes() for row in record.train_rows_}
    valid = {row.tobytes() for row in record.valid_rows_}
    assert not train & valid
    assert len(record.train_rows_) + len(record.valid_rows_) == len(X)


def test_zero_hyper_lr_is_training_with_the_vs_loss(data):
    # hyper_lr=0 makes every update and its extra forward passes, yet the fit
    # is exactly the VS-loss fit on the same rows (the updates draw no random
    # numbers of the training's and restore batch-norm statistics).
    X, y = data
    frozen = make_clf(AutoBalance(hyper_lr=0.0, interval=2, start_epoch=1)).fit(X, y)
    vs_only = make_clf(AutoBalance(start_epoch=10_000)).fit(X, y)
    assert callback(frozen).n_updates_ == 20 and callback(vs_only).n_updates_ == 0
    start = VSLoss(torch.as_tensor(frozen.class_counts_, dtype=torch.float32))
    scaling, offset = start.vs_parameters()
    np.testing.assert_allclose(frozen.learned_loss_params_["scaling"], scaling)
    np.testing.assert_allclose(frozen.learned_loss_params_["offset"], offset)
    np.testing.assert_allclose(frozen.learned_loss_params_["weight"], [1.0, 1.0])
    np.testing.assert_array_equal(frozen.predict_proba(X), vs_only.predict_proba(X))


def test_reproducible_with_random_state(fitted, data):
    again = make_clf(AutoBalance(interval=2, start_epoch=2)).fit(*data)
    for name, values in fitted.learned_loss_params_.items():
        np.testing.assert_array_equal(again.learned_loss_params_[name], values)
    X = data[0]
    np.testing.assert_array_equal(again.predict_proba(X), fitted.predict_proba(X))


def test_learn_only_some_parameters(data):
    clf = make_clf(AutoBalance(learn=("offset",), interval=2), max_epochs=2)
    clf.fit(*data)
    start = VSLoss(torch.as_tensor(clf.class_counts_, dtype=torch.float32))
    np.testing.assert_allclose(
        clf.learned_loss_params_["scaling"], start.vs_parameters()[0]
    )
    assert clf.criterion_.weight is None  # never learned, never set
    assert not np.allclose(clf.learned_loss_params_["offset"], start.vs_parameters()[1])


def test_fitted_net_pickles_and_clones(fitted, data):
    X = data[0]
    loaded = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(loaded.predict_proba(X), fitted.predict_proba(X))
    fresh = clone(fitted)
    assert fresh.get_params()["callbacks"][0][1].get_params() == (
        AutoBalance(interval=2, start_epoch=2).get_params()
    )


def test_planned_epochs_count_the_held_out_rows():
    clf = make_clf(AutoBalance(), max_epochs=1, min_steps=100, batch_size=10)
    assert clf._planned_epochs(1000) == 2  # 800 training rows: 80 steps an epoch


def test_needs_the_vs_loss(data):
    clf = make_clf(AutoBalance(), criterion="logit_adjusted")
    with pytest.raises(TypeError, match="use criterion='vs'"):
        clf.fit(*data)


def test_a_plain_skorch_net_needs_a_split():
    net = NeuralNetClassifier(
        nn.Linear(2, 2),
        criterion=VSLoss,
        criterion__class_counts=[30, 10],
        train_split=None,
        max_epochs=1,
        callbacks=[AutoBalance()],
    )
    X = np.random.default_rng(0).normal(size=(40, 2)).astype("float32")
    with pytest.raises(ValueError, match="needs validation data"):
        net.fit(X, np.array([0] * 30 + [1] * 10))


@pytest.mark.parametrize(
    "params, match",
    [
        ({"learn": ("offset", "margin")}, "learn must be a tuple of names"),
        ({"hyper_lr": -0.1}, "hyper_lr must be a finite number >= 0.0"),
        ({"neumann_step": 0}, r"neumann_step must be a finite number > 0.0"),
        ({"neumann_step": "fixed"}, r"neumann_step must be a finite number > 0.0"),
        ({"interval": 0}, "interval must be an int >= 1"),
        ({"valid_batches": 1.5}, "valid_batches must be an int >= 1"),
        ({"neumann_terms": -1}, "neumann_terms must be an int >= 0"),
        ({"start_epoch": 1.5}, "start_epoch must be an int >= 1"),
        ({"start_epoch": 0}, "start_epoch must be an int >= 1"),
    ],
)
def test_invalid_parameters_fail_before_training(params, match):
    with pytest.raises(ValueError, match=match):
        AutoBalance(**params).initialize()
