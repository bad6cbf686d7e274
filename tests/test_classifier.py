"""CNNClassifier: labels, input shapes, class statistics, validation, state."""

import pickle
import warnings

import joblib
import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import clone
from sklearn.utils._param_validation import InvalidParameterError
from skorch.callbacks import Callback

from skimbal import CNNClassifier
from skimbal.losses import CRITERIA, FocalLoss


def small_clf(**params):
    params = {"max_epochs": 3, "min_steps": 0, "random_state": 0, **params}
    return CNNClassifier(**params)


@pytest.fixture(scope="module")
def digits_rows():
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    return (X[:600] / 16).astype(np.float32), y[:600]


@pytest.fixture(scope="module")
def fitted_digits(digits_rows):
    X, y = digits_rows
    return small_clf(input_shape=(1, 8, 8), max_epochs=10).fit(X, y)


# -- labels -------------------------------------------------------------------


@pytest.mark.parametrize(
    "labels",
    [np.array([3, 7]), np.array(["cat", "dog"]), np.array([-1.0, 2.0])],
    ids=["non-contiguous ints", "strings", "integral floats"],
)
def test_any_labels_in_same_labels_out(digits_rows, labels):
    X, y = digits_rows
    y_mapped = labels[(y >= 5).astype(int)]
    clf = small_clf(input_shape=(1, 8, 8)).fit(X, y_mapped)
    np.testing.assert_array_equal(clf.classes_, np.sort(labels))
    predicted = clf.predict(X)
    assert set(np.unique(predicted)) <= set(labels)
    # Learned something, not a constant: digits >= 5 vs < 5 is easy.
    assert np.mean(predicted == y_mapped) > 0.8


def test_multiclass_probabilities_follow_classes(fitted_digits, digits_rows):
    X, y = digits_rows
    proba = fitted_digits.predict_proba(X)
    assert proba.shape == (len(X), 10)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-12)
    np.testing.assert_array_equal(
        fitted_digits.classes_[proba.argmax(1)], fitted_digits.predict(X)
    )
    assert np.mean(fitted_digits.predict(X) == y) > 0.8


def test_predict_proba_is_softmax_for_non_cross_entropy_criterion(digits_rows):
    X, y = digits_rows
    clf = small_clf(input_shape=(1, 8, 8), criterion="focal").fit(X, y % 2)
    proba = clf.predict_proba(X[:50])
    assert isinstance(clf.criterion_, FocalLoss)
    assert proba.min() >= 0
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-12)
    logits = clf.forward(torch.as_tensor(X[:50]).reshape(50, 1, 8, 8))
    np.testing.assert_allclose(
        proba, torch.softmax(logits.double(), 1).numpy(), atol=1e-6
    )


# -- input shapes -------------------------------------------------------------


def test_uint8_rows_are_scaled_to_unit_range(digits_rows):
    X, y = digits_rows
    pixels = (X * 255).astype(np.uint8)
    scaled = pixels.astype(np.float32) * np.float32(1 / 255)
    as_uint8 = small_clf(input_shape=(1, 8, 8)).fit(pixels, y)
    as_float = small_clf(input_shape=(1, 8, 8)).fit(scaled, y)
    np.testing.assert_array_equal(
        as_uint8.predict_proba(pixels), as_float.predict_proba(scaled)
    )
    # Unscaled, the same pixels would give another model.
    as_raw = small_clf(input_shape=(1, 8, 8)).fit(pixels.astype(np.float32), y)
    assert not np.allclose(as_raw.predict_proba(pixels), as_float.predict_proba(scaled))


def test_rows_without_input_shape_become_1_by_d_images(digits_rows):
    X, y = digits_rows
    clf = small_clf().fit(X[:, :20], y)
    assert clf.input_shape_ == (1, 1, 20)
    assert clf.module_.blocks[0][0].in_channels == 1


@pytest.mark.parametrize(
    ("n_features", "likely"),
    [(64, "(1, 8, 8)"), (256, "(1, 16, 16)"), (3 * 16 * 16, "(3, 16, 16)")],
)
def test_square_rows_without_input_shape_warn(n_features, likely):
    X = np.random.RandomState(0).rand(20, n_features).astype(np.float32)
    y = np.arange(20) % 2
    clf = small_clf(max_epochs=1)
    with pytest.warns(UserWarning, match=rf"1 x 1 x {n_features}.*{likely}") as info:
        clf.fit(X, y)
    assert info[0].filename == __file__  # points at the call to fit
    assert clf.input_shape_ == (1, 1, n_features)  # a warning, not a guess
    with pytest.warns(UserWarning, match="input_shape=None"):
        small_clf(max_epochs=1).partial_fit(X, y)


@pytest.mark.parametrize("n_features", [4, 9, 12, 20, 27, 63])
def test_rows_that_are_no_likely_image_do_not_warn(n_features):
    X = np.random.RandomState(0).rand(20, n_features).astype(np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        small_clf(max_epochs=1).fit(X, np.arange(20) % 2)
        small_clf(max_epochs=1, input_shape=(1, 1, 64)).fit(
            np.zeros((20, 64)), np.arange(20) % 2
        )


def test_four_d_arrays_are_accepted(digits_rows):
    X, y = digits_rows
    images = X.reshape(-1, 1, 8, 8)
    clf = small_clf().fit(images, y)
    assert clf.input_shape_ == (1, 8, 8)
    assert clf.n_features_in_ == 64
    assert clf.predict(images[:5]).shape == (5,)
    with pytest.raises(ValueError, match=r"images of shape \(1, 4, 16\)"):
        clf.predict(X.reshape(-1, 1, 4, 16))


def test_rgb_input_shape_sets_module_channels(digits_rows):
    X, y = digits_rows
    rgb = np.repeat(X, 3, axis=1)  # (n, 3*64) as three identical channels
    clf = small_clf(input_shape=(3, 8, 8)).fit(rgb, y)
    assert clf.module_.blocks[0][0].in_channels == 3


def test_dataframe_input_records_feature_names(digits_rows):
    X, y = digits_rows
    frame = pd.DataFrame(X, columns=[f"px{i}" for i in range(64)])
    clf = small_clf(input_shape=(1, 8, 8)).fit(frame, y)
    np.testing.assert_array_equal(clf.feature_names_in_, frame.columns)
    assert clf.n_features_in_ == 64


# -- class statistics ---------------------------------------------------------


def test_class_weight_balanced_is_computed_from_fit_labels():
    rng = np.random.RandomState(0)
    X = rng.rand(100, 4)
    y = np.array(["rare"] * 10 + ["common"] * 90)
    clf = small_clf(class_weight="balanced", max_epochs=1).fit(X, y)
    np.testing.assert_array_equal(clf.classes_, ["common", "rare"])
    np.testing.assert_array_equal(clf.class_counts_, [90, 10])
    # n / (K * n_c): 100 / (2 * 90) and 100 / (2 * 10)
    np.testing.assert_allclose(clf.class_weight_, [100 / 180, 5.0])
    np.testing.assert_allclose(clf.criterion_.weight.numpy(), [100 / 180, 5.0])


def test_class_weight_dict_and_effective_number():
    X = np.random.RandomState(0).rand(40, 4)
    y = np.array([0] * 30 + [1] * 10)
    clf = small_clf(class_weight={1: 4.0}, max_epochs=1).fit(X, y)
    np.testing.assert_allclose(clf.class_weight_, [1.0, 4.0])
    clf = small_clf(
        class_weight="effective_number", class_weight_beta=0.9, max_epochs=1
    ).fit(X, y)
    raw = np.array([1 / (1 - 0.9**30), 1 / (1 - 0.9**10)])
    np.testing.assert_allclose(clf.class_weight_, raw * 2 / raw.sum())


def test_no_class_weight_means_unweighted_criterion():
    X = np.random.RandomState(0).rand(40, 4)
    y = np.array([0] * 30 + [1] * 10)
    clf = small_clf(max_epochs=1).fit(X, y)
    assert clf.class_weight_ is None
    assert clf.criterion_.weight is None


def test_prior_losses_receive_class_counts():
    X = np.random.RandomState(0).rand(40, 4)
    y = np.array([0] * 30 + [1] * 10)
    clf = small_clf(criterion="balanced_softmax", max_epochs=1).fit(X, y)
    np.testing.assert_array_equal(clf.criterion_.class_counts.numpy(), [30, 10])


@pytest.mark.parametrize(
    "class_weight", [None, "balanced", "effective_number", {2: 3.0}], ids=str
)
@pytest.mark.parametrize("criterion", sorted(CRITERIA))
def test_partial_fit_with_a_class_absent_from_y(criterion, class_weight):
    X = np.random.RandomState(0).rand(40, 4).astype(np.float32)
    y = np.array([0] * 30 + [1] * 10)
    clf = small_clf(criterion=criterion, class_weight=class_weight, max_epochs=1)
    clf.partial_fit(X, y, classes=[0, 1, 2])
    np.testing.assert_array_equal(clf.class_counts_, [30, 10, 0])
    assert np.isfinite(clf.history_[-1, "train_loss"])
    if clf.class_weight_ is not None:
        assert np.all(np.isfinite(clf.class_weight_)) and clf.class_weight_[2] > 0
    # The absent class arrives later and trains with a finite loss too.
    clf.partial_fit(X[:10], np.full(10, 2))
    assert np.isfinite(clf.history_[-1, "train_loss"])
    assert np.all(np.isfinite(clf.predict_proba(X)))


def test_absent_class_gets_the_largest_weight_and_a_count_of_one():
    X = np.random.RandomState(0).rand(40, 4).astype(np.float32)
    y = np.array([0] * 30 + [1] * 10)
    clf = small_clf(class_weight="balanced", criterion="logit_adjusted", max_epochs=1)
    clf.partial_fit(X, y, classes=[0, 1, 2])
    # n / (K * n_c) for the present classes, with K = 3 classes in all.
    np.testing.assert_allclose(clf.class_weight_, [40 / 90, 40 / 30, 40 / 30])
    np.testing.assert_array_equal(clf.criterion_.class_counts.numpy(), [30, 10, 1])
    clf = small_clf(class_weight="effective_number", class_weight_beta=0.9)
    clf.set_params(max_epochs=1).partial_fit(X, y, classes=[0, 1, 2])
    raw = np.array([1 / (1 - 0.9**30), 1 / (1 - 0.9**10), 1 / (1 - 0.9**10)])
    np.testing.assert_allclose(clf.class_weight_, raw * 3 / raw.sum())


# -- nested parameters -------------------------------------------------------


def test_nested_parameters_reach_components(digits_rows):
    X, y = digits_rows
    clf = small_clf(
        input_shape=(1, 8, 8),
        criterion="focal",
        criterion__gamma=3.0,
        module__filters=(4, 8),
        optimizer=torch.optim.SGD,
        optimizer__momentum=0.5,
        max_epochs=1,
    )
    params = clf.get_params()
    assert params["criterion__gamma"] == 3.0
    clf.fit(X, y)
    assert clf.criterion_.gamma == 3.0
    assert clf.module_.blocks[1][0].out_channels == 8
    assert clf.optimizer_.param_groups[0]["momentum"] == 0.5
    clf.set_params(criterion__gamma=1.0).fit(X, y)
    assert clf.criterion_.gamma == 1.0


def test_module_class_is_accepted(digits_rows):
    from skimbal.models import SimpleCNN

    X, y = digits_rows
    clf = small_clf(module=SimpleCNN, input_shape=(1, 8, 8), module__filters=(6,))
    clf.fit(X, y)
    assert clf.module_.blocks[0][0].out_channels == 6


# -- augmentation ---------------------------------------------------------------


class _Invert:
    """A deterministic "augmentation", so that its effect can be checked."""

    def __call__(self, image):
        return 1 - image


def test_pixel_augmentation_changes_training_items_only(digits_rows):
    X, y = digits_rows
    clf = small_clf(input_shape=(1, 8, 8), augment=True, max_epochs=1).fit(X, y)
    plain = torch.from_numpy(X[0].reshape(1, 8, 8))
    training = clf._prepare_fit_data(X, y)
    torch.manual_seed(0)
    draws = [training[0][0] for _ in range(5)]
    assert all(draw.shape == (1, 8, 8) for draw in draws)
    assert not any(torch.equal(draw, plain) for draw in draws)
    assert not torch.equal(draws[0], draws[1])  # drawn anew on every read
    assert torch.equal(training.without_augmentation()[0][0], plain)
    # Prediction sees the images as given, so it is deterministic.
    np.testing.assert_array_equal(clf.predict_proba(X), clf.predict_proba(X))


def test_callable_augment_is_applied_to_training_not_validation(digits_rows):
    X, y = digits_rows
    clf = small_clf(input_shape=(1, 8, 8), augment=_Invert(), early_stopping=True)
    training = clf._prepare_fit_data(X, y)
    image = torch.from_numpy(X[0].reshape(1, 8, 8))
    assert torch.equal(training[0][0], 1 - image)
    with torch.random.fork_rng():
        train, valid = clf.get_split_datasets(training)
    index = int(valid.dataset.indices[0])
    assert torch.equal(valid[0][0], torch.from_numpy(X[index].reshape(1, 8, 8)))
    assert torch.equal(train[0][0], 1 - train.without_augmentation()[0][0])
    fitted = clone(clf).set_params(max_epochs=1).fit(X, y)
    assert pickle.loads(pickle.dumps(fitted)).augment.__class__ is _Invert


class _RecordFirstTrainingBatch(Callback):
    def initialize(self):
        self.images = None
        return self

    def on_batch_begin(self, net, batch=None, training=False, **kwargs):
        if training and self.images is None:
            self.images = batch[0].clone()


def test_torchvision_v2_transform_as_augment(digits_rows):
    from torchvision.transforms import v2

    X, y = digits_rows
    flip = v2.RandomHorizontalFlip(p=1.0)  # an nn.Module, and deterministic
    images = torch.from_numpy(X[:64].reshape(64, 1, 8, 8))
    recorder = _RecordFirstTrainingBatch()
    clf = small_clf(
        input_shape=(1, 8, 8),
        augment=flip,
        max_epochs=1,
        iterator_train__shuffle=False,
        callbacks=[("record", recorder)],
    )
    assert clf.get_params()["augment"] is flip
    clf.fit(X, y)
    assert torch.equal(recorder.images, images.flip(-1))  # trained on flips
    restored = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(restored.predict_proba(X), clf.predict_proba(X))
    assert isinstance(restored.augment, v2.RandomHorizontalFlip)
    # set_params takes one too, before and after fitting, and clones keep it.
    clf.set_params(augment=v2.RandomVerticalFlip(p=1.0))
    assert isinstance(clf.augment, v2.RandomVerticalFlip)
    assert "augment" not in clf.prefixes_  # not taken for a network component
    plain = small_clf(input_shape=(1, 8, 8)).set_params(augment=flip)
    assert plain.augment is flip
    assert isinstance(clone(plain).augment, v2.RandomHorizontalFlip)


# -- mixed precision --------------------------------------------------------------


@pytest.mark.parametrize("mixed", [False, True])
def test_mixed_precision_runs_the_network_in_bfloat16(digits_rows, mixed):
    X, y = digits_rows
    clf = small_clf(input_shape=(1, 8, 8), mixed_precision=mixed, max_epochs=5)
    clf.fit(X, y)
    seen = []
    clf.module_.blocks[0].register_forward_hook(lambda m, i, out: seen.append(out))
    proba = clf.predict_proba(X)
    assert seen[0].dtype == (torch.bfloat16 if mixed else torch.float32)
    assert proba.dtype == np.float64
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert next(clf.module_.parameters()).dtype == torch.float32
    # Training in bfloat16 still learns the ten digits.
    assert np.mean(clf.predict(X) == y) > 0.8


# -- validation before training -----------------------------------------------


def _never_trains(monkeypatch):
    def fail(*args, **kwargs):
        raise AssertionError("training started despite invalid input")

    monkeypatch.setattr(CNNClassifier, "initialize", fail)


@pytest.mark.parametrize(
    ("params", "error", "match"),
    [
        ({"lr": -1.0}, InvalidParameterError, "'lr' parameter"),
        ({"max_epochs": 2.5}, InvalidParameterError, "'max_epochs' parameter"),
        ({"class_weight": "balance"}, InvalidParameterError, "'class_weight'"),
        ({"input_shape": (1, 8)}, ValueError, r"input_shape must be \(channels"),
        ({"input_shape": (1, 8, 9)}, ValueError, r"C\*H\*W = 72"),
        ({"criterion": "focall"}, ValueError, "Did you mean 'focal'"),
        ({"class_weight": {7: 2.0}}, ValueError, r"labels \[7\]"),
        ({"class_weight": {1: -2.0}}, ValueError, "non-negative"),
        ({"class_weight_beta": 1.0}, InvalidParameterError, "class_weight_beta"),
        ({"augment": "yes"}, InvalidParameterError, "'augment' parameter"),
    ],
)
def test_invalid_parameters_fail_before_training(
    digits_rows, monkeypatch, params, error, match
):
    X, y = digits_rows
    _never_trains(monkeypatch)
    with pytest.raises(error, match=match):
        CNNClassifier(**{"input_shape": (1, 8, 8), **params}).fit(X, y % 2)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the no-GPU message")
def test_cuda_without_gpu_fails_before_training(digits_rows, monkeypatch):
    X, y = digits_rows
    _never_trains(monkeypatch)
    with pytest.raises(ValueError, match="device='cuda' but no CUDA GPU"):
        CNNClassifier(device="cuda").fit(X, y)


@pytest.mark.parametrize(
    ("X", "y", "match"),
    [
        (np.full((4, 3), np.nan), [0, 1, 0, 1], "NaN"),
        (np.full((4, 3), np.inf), [0, 1, 0, 1], "infinity"),
        (np.zeros((0, 3)), [], "0 sample"),
        (np.zeros((4, 3)), [0, 1, 0], "inconsistent numbers of samples"),
        (np.zeros((4, 3)), [0.1, 0.2, 0.3, 0.4], "Unknown label type"),
        (np.zeros((4, 3)), [1, 1, 1, 1], "at least 2 classes"),
        (np.array([["a", "b"], ["c", "d"]], dtype=object), [0, 1], "convert"),
    ],
    ids=["nan", "inf", "empty", "y length", "continuous y", "one class", "strings"],
)
def test_bad_input_is_rejected_with_a_clear_message(monkeypatch, X, y, match):
    _never_trains(monkeypatch)
    with pytest.raises(ValueError, match=match):
        CNNClassifier().fit(X, np.asarray(y))


def test_sparse_input_is_rejected():
    from scipy import sparse

    with pytest.raises(TypeError, match="dense data is required"):
        CNNClassifier().fit(sparse.csr_matrix(np.eye(4)), [0, 1, 0, 1])


def test_wrong_width_at_predict(fitted_digits):
    with pytest.raises(ValueError, match="X has 63 features, but CNNClassifier"):
        fitted_digits.predict(np.zeros((2, 63)))


def test_unfitted_predict_raises_not_fitted():
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        CNNClassifier().predict(np.zeros((2, 3)))


# -- randomness and state -----------------------------------------------------


def test_random_state_reproduces_predictions_and_keeps_global_rng(digits_rows):
    X, y = digits_rows
    before = torch.get_rng_state()
    first = small_clf(input_shape=(1, 8, 8)).fit(X, y)
    assert torch.equal(torch.get_rng_state(), before)  # user's RNG untouched
    first = first.predict_proba(X)
    second = small_clf(input_shape=(1, 8, 8)).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(first, second)
    other = small_clf(input_shape=(1, 8, 8), random_state=1).fit(X, y)
    assert not np.array_equal(first, other.predict_proba(X))


def test_training_batches_are_shuffled_by_default(digits_rows):
    X, y = digits_rows
    order = np.argsort(y, kind="stable")  # sorted by class: worst case for SGD
    shuffled = small_clf(input_shape=(1, 8, 8)).fit(X[order], y[order])
    unshuffled = small_clf(input_shape=(1, 8, 8), iterator_train__shuffle=False).fit(
        X[order], y[order]
    )
    assert np.mean(shuffled.predict(X) == y) > np.mean(unshuffled.predict(X) == y)


@pytest.mark.parametrize("round_trip", ["clone_refit", "pickle", "joblib"])
def test_round_trips_give_identical_predictions(
    fitted_digits, digits_rows, round_trip, tmp_path
):
    X, y = digits_rows
    expected = fitted_digits.predict_proba(X)
    if round_trip == "clone_refit":
        restored = clone(fitted_digits).fit(X, y)
    elif round_trip == "pickle":
        restored = pickle.loads(pickle.dumps(fitted_digits))
    else:
        joblib.dump(fitted_digits, tmp_path / "clf.joblib")
        restored = joblib.load(tmp_path / "clf.joblib")
    np.testing.assert_array_equal(restored.predict_proba(X), expected)
    np.testing.assert_array_equal(restored.classes_, fitted_digits.classes_)


def test_save_params_then_load_params_into_a_new_classifier(digits_rows, tmp_path):
    X, y = digits_rows
    labels = np.array(list("abcdefghij"))[y]
    params = {"input_shape": (1, 8, 8), "module__filters": (4,), "max_epochs": 2}
    clf = small_clf(**params).fit(X, labels)
    clf.save_params(f_params=tmp_path / "w.pt")
    new = small_clf(**params, classes=clf.classes_, random_state=1)
    assert new.initialize() is new
    new.load_params(f_params=tmp_path / "w.pt")
    np.testing.assert_array_equal(new.predict_proba(X), clf.predict_proba(X))
    np.testing.assert_array_equal(new.predict(X), clf.predict(X))
    assert (new.input_kind_, new.n_features_in_) == ("pixels", 64)
    assert new.class_counts_ is None  # nothing was learned from data


def test_initialize_without_data_builds_the_network_from_parameters():
    clf = CNNClassifier(input_shape=(1, 8, 8), classes=[1, 0], class_weight="balanced")
    clf.initialize()
    np.testing.assert_array_equal(clf.classes_, [0, 1])
    assert clf.input_shape_ == (1, 8, 8) and clf.n_features_in_ == 64
    assert clf.module_(torch.zeros(3, 1, 8, 8)).shape == (3, 2)
    assert clf.predict_proba(np.zeros((3, 64))).shape == (3, 2)
    with pytest.raises(ValueError, match="X has 63 features"):
        clf.predict(np.zeros((3, 63)))
    # Until labels are seen, the classes count as equally frequent.
    np.testing.assert_array_equal(clf.class_weight_, [1.0, 1.0])
    # The first partial_fit learns the class statistics from its labels.
    X = np.random.RandomState(0).rand(40, 64).astype(np.float32)
    clf.set_params(max_epochs=1).partial_fit(X, np.array([0] * 30 + [1] * 10))
    np.testing.assert_array_equal(clf.class_counts_, [30, 10])
    np.testing.assert_allclose(clf.criterion_.weight.numpy(), [40 / 60, 40 / 20])


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({}, r"classes and input_shape.*classes=None, input_shape=None"),
        ({"classes": [0, 1]}, r"input_shape.*input_shape=None"),
        ({"input_shape": (1, 8, 8)}, r"classes.*classes=None"),
        ({"classes": [0], "input_shape": (1, 8, 8)}, "at least 2 labels"),
    ],
)
def test_initialize_without_data_names_the_parameters_it_needs(params, match):
    with pytest.raises(ValueError, match=match):
        CNNClassifier(**params).initialize()


def test_initialize_after_fit_keeps_what_fit_learned(digits_rows):
    X, y = digits_rows
    clf = small_clf(input_shape=(1, 8, 8), max_epochs=1).fit(X, y % 2)
    clf.initialize()  # fresh weights, same classes and shape
    np.testing.assert_array_equal(clf.classes_, [0, 1])
    assert clf.predict_proba(X).shape == (len(X), 2)


def test_classes_parameter_sets_classes_at_fit(digits_rows):
    X, y = digits_rows
    clf = small_clf(input_shape=(1, 8, 8), classes=[0, 1, 2], max_epochs=1)
    clf.fit(X, y % 2)
    np.testing.assert_array_equal(clf.classes_, [0, 1, 2])
    np.testing.assert_array_equal(clf.class_counts_[2], 0)
    assert clf.predict_proba(X).shape == (len(X), 3)
    assert clone(clf).get_params()["classes"] == [0, 1, 2]
    with pytest.raises(ValueError, match=r"labels \[3\]"):
        clf.fit(X, y % 4)
    with pytest.raises(ValueError, match="classes"):
        small_clf(classes=[0, 1]).partial_fit(X, y % 2, classes=[0, 1, 2])


def test_device_auto_is_kept_as_a_parameter(fitted_digits):
    assert fitted_digits.get_params()["device"] == "auto"
    assert clone(fitted_digits).get_params()["device"] == "auto"
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert fitted_digits.device == expected
    assert next(fitted_digits.module_.parameters()).device.type == expected


def test_partial_fit_continues_training(digits_rows):
    X, y = digits_rows
    clf = small_clf(input_shape=(1, 8, 8), max_epochs=1)
    clf.partial_fit(X[:300], y[:300], classes=np.arange(10))
    weights = clf.module_.head[-1].weight.detach().clone()
    clf.partial_fit(X[300:], y[300:])
    assert len(clf.history_) == 2
    assert not torch.equal(weights, clf.module_.head[-1].weight)
    with pytest.raises(ValueError, match=r"labels \[42\]"):
        clf.partial_fit(X[:2], np.array([42, 1]))
    with pytest.raises(ValueError, match="X has 10 features"):
        clf.partial_fit(X[:2, :10], y[:2])


def test_keyboard_interrupt_keeps_epochs_done(digits_rows):
    from skorch.callbacks import Callback

    class InterruptAfterTwoEpochs(Callback):
        def on_epoch_end(self, net, **kwargs):
            if len(net.history) == 2:
                raise KeyboardInterrupt

    X, y = digits_rows
    clf = small_clf(
        input_shape=(1, 8, 8),
        max_epochs=10,
        callbacks=[("stop", InterruptAfterTwoEpochs())],
    ).fit(X, y)
    assert len(clf.history_) == 2
    # The model is exactly the one two uninterrupted epochs give.
    two_epochs = small_clf(input_shape=(1, 8, 8), max_epochs=2).fit(X, y)
    np.testing.assert_array_equal(clf.predict_proba(X), two_epochs.predict_proba(X))


# -- the skorch base class -------------------------------------------------------


def test_a_skorch_neural_net_whose_parent_adds_nothing_to_undo():
    from skorch import NeuralNet, NeuralNetClassifier

    clf = small_clf(classes=["a", "b"], input_shape=(1, 2, 2))
    assert isinstance(clf, NeuralNet) and not isinstance(clf, NeuralNetClassifier)
    # skorch's predict_nonlinearity is fixed to softmax, not a parameter.
    assert "predict_nonlinearity" not in clf.get_params()
    torch.testing.assert_close(
        clf.predict_nonlinearity(torch.tensor([[0.0, 0.0]])),
        torch.tensor([[0.5, 0.5]], dtype=torch.float64),
    )
    # NeuralNet's default callbacks, no accuracy; early stopping when asked.
    names = [name for name, _ in clf.initialize().callbacks_]
    assert names == ["epoch_timer", "train_loss", "valid_loss", "print_log"]
    stopping = clone(clf).set_params(early_stopping=True).initialize()
    assert [name for name, _ in stopping.callbacks_][-2:] == [
        "early_stopping",
        "print_log",
    ]


class _ScaledLinear(torch.nn.Module):
    def __init__(self, in_channels=1, num_classes=2):
        super().__init__()
        self.linear = torch.nn.Linear(64 * in_channels, num_classes)

    def forward(self, x, scale=1.0):
        return self.linear(x.flatten(1)) * scale


@pytest.mark.skipif(
    not hasattr(__import__("skorch").NeuralNet, "set_fit_request"),
    reason="skorch < 1.4 does not route metadata",
)
def test_metadata_routing_sees_fit_as_fit(digits_rows):
    import sklearn

    X, y = digits_rows
    with sklearn.config_context(enable_metadata_routing=True):
        clf = small_clf(module=_ScaledLinear, input_shape=(1, 8, 8), max_epochs=1)
        clf.set_fit_request(scale=True).fit(X, y % 2, scale=2.0)
        assert len(clf.history_) == 1
        # Requested for fit only: partial_fit refuses it, as skorch's does.
        with pytest.raises(TypeError, match="partial_fit got unexpected"):
            clf.partial_fit(X, y % 2, scale=2.0)
        clf.set_partial_fit_request(scale=True).partial_fit(X, y % 2, scale=2.0)
        assert len(clf.history_) == 2


# -- batch sampling, early stopping, training faults ---------------------------


def test_balanced_batches_draw_classes_equally_often():
    from skorch.callbacks import Callback

    class CountBatchLabels(Callback):
        def initialize(self):
            self.counts = np.zeros(2, dtype=int)
            return self

        def on_batch_begin(self, net, batch=None, training=False, **kwargs):
            if training:
                self.counts += np.bincount(batch[1].numpy(), minlength=2)

    X = np.random.RandomState(0).rand(1000, 4).astype(np.float32)
    y = np.array([0] * 950 + [1] * 50)
    counter = CountBatchLabels()
    clf = small_clf(balanced_batches=True, max_epochs=4, callbacks=[("n", counter)])
    clf.fit(X, y)
    # 4 epochs x 1000 draws; the 5 % class is drawn about half of the time.
    assert counter.counts.sum() == 4000
    assert 0.45 < counter.counts[1] / 4000 < 0.55
    with pytest.raises(ValueError, match="balanced_batches=True draws its own"):
        small_clf(balanced_batches=True, iterator_train__shuffle=True).fit(X, y)


@pytest.mark.parametrize("stratified", [False, True])
def test_custom_train_split_with_balanced_batches(stratified):
    from skorch.dataset import ValidSplit

    X = np.random.RandomState(0).rand(200, 4).astype(np.float32)
    y = np.array(["common"] * 180 + ["rare"] * 20)
    clf = small_clf(
        train_split=ValidSplit(5, stratified=stratified),
        balanced_batches=True,
        augment=_Invert(),
        max_epochs=2,
    ).fit(X, y)
    assert np.all(np.isfinite(clf.history_[:, "valid_loss"]))
    train, valid = clf.get_split_datasets(clf._prepare_fit_data(X, y))
    assert len(train.labels) == 160 and len(valid.labels) == 40
    if stratified:  # stratified on the encoded labels: a fifth of each class
        np.testing.assert_array_equal(np.bincount(valid.labels), [36, 4])
    # Validation data are seen as at predict time, without augmentation.
    index = int(valid.dataset.indices[0])
    assert torch.equal(valid[0][0], torch.from_numpy(X[index].reshape(1, 1, 4)))
    assert torch.equal(train[0][0], 1 - train.without_augmentation()[0][0])


def test_early_stopping_split_keeps_copies_together(digits_rows):
    from imblearn.over_sampling import RandomOverSampler

    from skimbal._data import duplicate_groups, split_keeping_copies_together

    X, y = digits_rows
    y = (y == 3).astype(int)
    X_over, y_over = RandomOverSampler(random_state=0).fit_resample(X, y)
    clf = small_clf(input_shape=(1, 8, 8))
    dataset = clf._prepare_fit_data(X_over, y_over)
    train, valid = split_keeping_copies_together(dataset, 0.2, random_state=0)
    train_rows = {row.tobytes() for row in train.rows}
    assert not any(row.tobytes() in train_rows for row in valid.rows)
    assert 0 < valid.labels.mean() < 1  # both classes validated
    assert len(set(duplicate_groups(X_over))) == len(X)  # copies were there


@pytest.mark.parametrize("early_stopping", [True, np.True_], ids=["bool", "np.bool"])
def test_early_stopping_stops_and_restores_best_weights(digits_rows, early_stopping):
    X, y = digits_rows
    clf = small_clf(
        input_shape=(1, 8, 8),
        early_stopping=early_stopping,
        n_iter_no_change=2,
        max_epochs=200,
        lr=0.01,
    ).fit(X, y)
    valid_losses = clf.history_[:, "valid_loss"]
    assert len(valid_losses) < 200  # stopped early
    best = int(np.argmin(valid_losses))
    assert len(valid_losses) == best + 1 + 2  # patience of 2 epochs
    assert np.mean(clf.predict(X) == y) > 0.8


def test_non_finite_loss_stops_training_with_advice(digits_rows):
    X, y = digits_rows
    clf = small_clf(input_shape=(1, 8, 8), lr=1e12, optimizer=torch.optim.SGD)
    with pytest.raises(FloatingPointError, match="Lower the learning rate"):
        clf.fit(X * 1e6, y)


# -- training budget ------------------------------------------------------------


def test_min_steps_raises_the_epochs_on_small_data_only(odd_digits):
    X, y = odd_digits
    # 100 rows in batches of 64: 2 steps an epoch, so 300 steps take 150 epochs.
    small = CNNClassifier(
        input_shape=(1, 8, 8),
        max_epochs=3,
        min_steps=300,
        module__filters=(4,),
        random_state=0,
    ).fit(X[:100], y[:100])
    assert small.n_epochs_ == 150 and len(small.history) == 150
    # 980 rows: 16 steps an epoch; 3 epochs give 48, raised to 300 -> 19 epochs.
    assert small._planned_epochs(980) == 19
    # Enough steps already: max_epochs stands.
    assert small.set_params(max_epochs=30)._planned_epochs(980) == 30
    assert small.set_params(min_steps=0)._planned_epochs(100) == 30
    # Early stopping holds out validation_fraction before counting batches.
    stopper = small.set_params(
        max_epochs=1, min_steps=100, early_stopping=True, validation_fraction=0.5
    )
    assert stopper._planned_epochs(256) == 50  # 128 rows: 2 steps an epoch


def test_partial_fit_trains_max_epochs_whatever_min_steps(odd_digits):
    X, y = odd_digits
    clf = small_clf(input_shape=(1, 8, 8), max_epochs=2, min_steps=300)
    clf.partial_fit(X[:100], y[:100], classes=[0, 1])
    assert clf.n_epochs_ == 2 and len(clf.history) == 2


def test_deferred_reweighting_starts_at_its_share_of_the_planned_epochs(odd_digits):
    from skimbal.callbacks import DeferredReweighting

    X, y = odd_digits
    drw = DeferredReweighting(start_epoch=0.5)
    clf = CNNClassifier(
        input_shape=(1, 8, 8),
        max_epochs=2,
        min_steps=40,
        criterion="ldam",
        module__filters=(4,),
        random_state=0,
        callbacks=[("drw", drw)],
    ).fit(X[:128], y[:128])
    # 128 rows: 2 steps an epoch, 40 steps = 20 epochs; weights from epoch 11.
    assert clf.n_epochs_ == 20
    assert dict(clf.callbacks_)["drw"].start_epoch_ == 11


def test_criterion_and_module_instances_are_accepted_at_construction(odd_digits):
    X, y = odd_digits
    criterion = torch.nn.CrossEntropyLoss()
    clf = CNNClassifier(
        criterion=criterion,
        input_shape=(1, 8, 8),
        max_epochs=1,
        min_steps=0,
        module__filters=(4,),
        random_state=0,
    )
    assert clf.criterion is criterion
    clf.fit(X[:100], y[:100])
    assert isinstance(clf.criterion_, torch.nn.CrossEntropyLoss)
    assert clone(clf).criterion is not None


def test_pickles_of_the_neuralnetclassifier_based_version_still_load(digits_rows):
    # Before wave 2 CNNClassifier subclassed NeuralNetClassifier: its pickles
    # hold classes_ as "_classes" and no predict_nonlinearity. Such a state,
    # restored into today's class, must predict as before (a model a user
    # pickled is not lost with an upgrade).
    X, y = digits_rows
    clf = small_clf(input_shape=(1, 8, 8), max_epochs=1).fit(X, y)
    state = clf.__getstate__()
    state["_classes"] = state.pop("classes_")
    del state["predict_nonlinearity"]
    old = type(clf).__new__(type(clf))
    old.__setstate__(state)
    np.testing.assert_array_equal(old.classes_, clf.classes_)
    np.testing.assert_array_equal(old.predict_proba(X), clf.predict_proba(X))
