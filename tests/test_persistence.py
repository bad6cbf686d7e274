"""save_model / load_model: models as data, loaded in a fresh process, tamper-proof."""

import hashlib
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import pytest
import torch
from imblearn.over_sampling import RandomOverSampler
from imblearn.pipeline import Pipeline
from imblearn.under_sampling import RandomUnderSampler
from PIL import Image
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import FixedThresholdClassifier
from sklearn.pipeline import Pipeline as SklearnPipeline
from sklearn.preprocessing import StandardScaler
from skorch.callbacks import EpochTimer

from skimbal import CNNClassifier, ModelFormatError, load_model, save_model
from skimbal.callbacks import AutoBalance, DeferredReweighting
from skimbal.datasets import load_image_folder
from skimbal.losses import FocalLoss
from skimbal.model_selection import FoldEnsembleClassifier

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def tiny(tiny_cnn):
    """Copies of the shared tiny network with some parameters changed."""

    def make(**params):
        return clone(tiny_cnn).set_params(**params)

    return make


def thresholded(pipeline, pos_label):
    return FixedThresholdClassifier(
        pipeline, threshold=0.3, pos_label=pos_label, response_method="predict_proba"
    )


@pytest.fixture(scope="module")
def image_paths(tmp_path_factory):
    """A class-per-folder set of 24 small RGB PNGs, as a DataFrame of paths."""
    root = tmp_path_factory.mktemp("images")
    rng = np.random.RandomState(0)
    for label, count, level in [("ok", 16, 40), ("defect", 8, 200)]:
        (root / label).mkdir()
        for i in range(count):
            pixels = rng.randint(0, 50, size=(8, 8, 3)) + level
            Image.fromarray(pixels.astype(np.uint8)).save(root / label / f"{i}.png")
    return load_image_folder(root)


@pytest.fixture(scope="module")
def models(odd_digits, image_paths, tiny):
    """Name -> (fitted model, the X to predict on) for every supported kind."""
    X, y = odd_digits
    words = np.where(y == 1, "odd", "even")
    X_paths, y_paths = image_paths
    main_case = thresholded(
        Pipeline([("sampler", RandomOverSampler(random_state=0)), ("clf", tiny())]),
        pos_label=1,
    )
    string_labels = thresholded(
        SklearnPipeline(
            [
                ("sampler", "passthrough"),
                (
                    "clf",
                    tiny(
                        class_weight={"even": 1.0, "odd": 3.0},
                        callbacks=[("drw", DeferredReweighting(start_epoch=0.5))],
                        optimizer=torch.optim.SGD,
                        optimizer__momentum=0.9,
                        lr=0.05,
                    ),
                ),
            ]
        ),
        pos_label="odd",
    )
    undersampled = Pipeline(
        [
            ("sampler", RandomUnderSampler(random_state=0)),
            ("clf", tiny(criterion="focal", criterion__gamma=2.0)),
        ]
    )
    paths = tiny(input_shape=None, image_size=8, max_epochs=1, lr=0.01)
    # What compare_strategies hands back: fold models averaged, thresholded.
    ensemble = thresholded(
        FoldEnsembleClassifier(
            Pipeline([("sampler", RandomOverSampler(random_state=0)), ("clf", tiny())]),
            cv=2,
        ),
        pos_label=1,
    )
    autobalance = tiny(
        criterion="vs",
        validation_fraction=0.2,
        callbacks=[("ab", AutoBalance(learn=("offset",), interval=2))],
    )
    return {
        "fixed_threshold(ensemble(pipeline))": (ensemble.fit(X, y), X),
        "ensemble(classifier)": (
            FoldEnsembleClassifier(tiny(), cv=3).fit(X, words),
            X,
        ),
        "fixed_threshold(pipeline)": (main_case.fit(X, y), X),
        "string_labels": (string_labels.fit(X, words), X),
        "undersampling_pipeline": (undersampled.fit(X, y), X),
        "classifier": (tiny(class_weight="balanced").fit(X, y), X),
        "paths": (paths.fit(X_paths, y_paths), X_paths),
        "autobalance": (autobalance.fit(X, y), X),
    }


LOAD_AND_PREDICT = """
import json, sys
import joblib, numpy as np, pandas as pd, torch
from skimbal import load_model

torch.set_num_threads(1)  # as in the tests, so the arithmetic is the same
for job in json.loads(sys.argv[1]):
    if job["format"] == "safe":
        model = load_model(job["model"])
    else:
        model = joblib.load(job["model"])
    if job["X"].endswith(".npy"):
        X = np.load(job["X"])
    else:
        X = pd.read_json(job["X"], orient="records")
    np.save(job["out"] + ".proba.npy", model.predict_proba(X))
    predicted = model.predict(X)
    with open(job["out"] + ".predict.json", "w") as file:
        json.dump({"dtype": str(predicted.dtype), "values": predicted.tolist()}, file)
"""


def _fresh_process(jobs):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", LOAD_AND_PREDICT, json.dumps(jobs)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr


@pytest.fixture(scope="module")
def loaded_elsewhere(models, tmp_path_factory):
    """Save every model both ways; load and predict in ONE fresh process."""
    folder = tmp_path_factory.mktemp("saved")
    jobs = []
    for name, (model, X) in models.items():
        if isinstance(X, pd.DataFrame):
            data = str(folder / f"{name}.X.json")
            # Records keep the row order; pandas 2.0 reads the default
            # orient's index back as "0", "1", "10", "11", "2", ...
            X.to_json(data, orient="records")
        else:
            data = str(folder / f"{name}.X.npy")
            np.save(data, X)
        save_model(model, folder / name)
        joblib.dump(model, folder / f"{name}.joblib")
        for kind, path in [("safe", folder / name), ("joblib", f"{name}.joblib")]:
            jobs.append(
                {
                    "format": kind,
                    "model": str(folder / path),
                    "X": data,
                    "out": str(folder / f"{name}.{kind}"),
                }
            )
    _fresh_process(jobs)
    return folder


@pytest.mark.slow
@pytest.mark.parametrize("file_format", ["safe", "joblib"])
@pytest.mark.parametrize(
    "name",
    [
        "fixed_threshold(pipeline)",
        "string_labels",
        "undersampling_pipeline",
        "classifier",
        "paths",
        "fixed_threshold(ensemble(pipeline))",
        "ensemble(classifier)",
    ],
)
def test_fresh_process_predicts_exactly_as_the_saved_model(
    models, loaded_elsewhere, name, file_format
):
    model, X = models[name]
    out = loaded_elsewhere / f"{name}.{file_format}"
    proba = np.load(f"{out}.proba.npy")
    np.testing.assert_array_equal(proba, model.predict_proba(X))
    predicted = json.loads(Path(f"{out}.predict.json").read_text())
    expected = model.predict(X)
    assert predicted["dtype"] == str(expected.dtype)
    assert predicted["values"] == expected.tolist()


def test_the_threshold_matters_so_the_comparison_is_not_trivial(models):
    model, X = models["fixed_threshold(pipeline)"]
    at_half = model.classes_[model.predict_proba(X).argmax(axis=1)]
    assert (model.predict(X) != at_half).sum() > 10


def test_loaded_model_is_the_same_estimator(models, odd_digits, tmp_path):
    model, X = models["fixed_threshold(pipeline)"]
    save_model(model, tmp_path / "m")
    loaded = load_model(tmp_path / "m", device=None)
    assert type(loaded) is FixedThresholdClassifier
    assert (loaded.threshold, loaded.pos_label) == (0.3, 1)
    assert loaded.response_method == "predict_proba"
    assert type(loaded.estimator_) is Pipeline
    assert loaded.estimator_.steps[0][0] == "sampler"
    sampler, clf = loaded.estimator_[0], loaded.estimator_[-1]
    original = model.estimator_[-1]
    assert sampler.get_params() == {
        "random_state": 0,
        "sampling_strategy": "auto",
        "shrinkage": None,
    }
    assert sampler.sampling_strategy_ == dict(model.estimator_[0].sampling_strategy_)
    assert clf.get_params(deep=False) == original.get_params(deep=False)
    np.testing.assert_array_equal(clf.classes_, original.classes_)
    np.testing.assert_array_equal(clf.class_counts_, [891, 891])  # after the sampler
    assert clf.input_shape_ == (1, 8, 8) and clf.input_kind_ == "pixels"
    assert loaded.n_features_in_ == loaded.estimator_.n_features_in_ == 64
    assert not clf.module_.training
    # The template is unfitted, as after fit: refitting it reproduces the model.
    refit = clone(loaded).fit(*odd_digits)
    np.testing.assert_array_equal(refit.predict_proba(X), model.predict_proba(X))


def test_string_labels_keep_their_type_and_parameters(models, tmp_path):
    model, _ = models["string_labels"]
    save_model(model, tmp_path / "m")
    loaded = load_model(tmp_path / "m")
    assert type(loaded.estimator_) is SklearnPipeline
    assert loaded.estimator_.steps[0] == ("sampler", "passthrough")
    clf = loaded.estimator_[-1]
    assert clf.classes_.dtype == model.classes_.dtype
    assert clf.classes_.tolist() == ["even", "odd"]
    assert loaded.pos_label == "odd"
    assert clf.class_weight == {"even": 1.0, "odd": 3.0}
    assert clf.optimizer is torch.optim.SGD and clf.optimizer__momentum == 0.9
    ((name, callback),) = clf.callbacks
    assert name == "drw" and type(callback) is DeferredReweighting
    assert callback.get_params() == {
        "start_epoch": 0.5,
        "class_weight": "effective_number",
        "beta": 0.9999,
    }


def test_autobalance_callback_keeps_its_parameters(models, odd_digits, tmp_path):
    model, X = models["autobalance"]
    save_model(model, tmp_path / "m")
    loaded = load_model(tmp_path / "m", device=None)
    ((name, callback),) = loaded.callbacks
    assert name == "ab" and type(callback) is AutoBalance
    assert callback.get_params() == model.callbacks[0][1].get_params()
    assert callback.get_params()["learn"] == ("offset",)
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))
    # Refitting the loaded template learns the same loss parameters again.
    refit = clone(loaded).fit(*odd_digits)
    np.testing.assert_array_equal(
        refit.learned_loss_params_["offset"], model.learned_loss_params_["offset"]
    )


def test_paths_classifier_keeps_feature_names(models, tmp_path):
    model, X = models["paths"]
    save_model(model, tmp_path / "m")
    loaded = load_model(tmp_path / "m")
    assert loaded.input_kind_ == "paths"
    assert loaded.feature_names_in_.tolist() == ["path"]
    assert loaded.feature_names_in_.dtype == object
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))


@pytest.mark.parametrize(
    "saved_device, load_device, expected",
    [
        ("auto", "cpu", "cpu"),
        (torch.device("cpu"), None, "cpu"),
        ("auto", None, "auto"),
        ("auto", "auto", "auto"),
    ],
)
def test_device_is_the_cpu_unless_asked(
    models, tmp_path, saved_device, load_device, expected
):
    clf = models["classifier"][0]
    clf.device = saved_device
    try:
        save_model(clf, tmp_path / "m")
    finally:
        clf.device = "auto"
    loaded = load_model(tmp_path / "m", device=load_device)
    assert loaded.get_params()["device"] == expected


def test_loading_leaves_the_global_random_state_alone(models, tmp_path):
    save_model(models["classifier"][0], tmp_path / "m")
    before = torch.random.get_rng_state()
    load_model(tmp_path / "m")
    assert torch.equal(before, torch.random.get_rng_state())


def test_saving_is_deterministic_and_replaces_an_earlier_model(models, tmp_path):
    folder = tmp_path / "m"
    save_model(models["paths"][0], folder)
    (folder / "notes.txt").write_text("kept")
    save_model(models["classifier"][0], folder)
    first = {
        name: (folder / name).read_bytes() for name in ("model.json", "weights.npz")
    }
    save_model(models["classifier"][0], folder)
    assert sorted(os.listdir(folder)) == ["model.json", "notes.txt", "weights.npz"]
    for name, data in first.items():
        assert (folder / name).read_bytes() == data
    assert json.loads(first["model.json"])["kind"] == "classifier"


def test_bfloat16_weights_round_trip(odd_digits, tmp_path, tiny):
    X, y = odd_digits
    clf = tiny(max_epochs=1).fit(X[:200], y[:200])
    clf.module_.to(torch.bfloat16)
    save_model(clf, tmp_path / "m")
    document = json.loads((tmp_path / "m" / "model.json").read_text())
    assert {t["dtype"] for t in document["classifier"]["tensors"]} == {
        "bfloat16",
        "int64",  # BatchNorm's num_batches_tracked
    }
    loaded = load_model(tmp_path / "m")
    restored = loaded.module_.state_dict()  # a fresh float32 network
    for key, value in clf.module_.state_dict().items():
        expected = value.float() if value.is_floating_point() else value
        assert torch.equal(restored[key], expected)


# -- tampering ------------------------------------------------------------------


@pytest.fixture
def saved(models, tmp_path):
    """A fresh copy of the saved main-case model, to tamper with."""
    folder = tmp_path / "model"
    save_model(models["fixed_threshold(pipeline)"][0], folder)
    return folder


def _edit_json(folder, edit):
    path = folder / "model.json"
    document = json.loads(path.read_text())
    edit(document)
    path.write_text(json.dumps(document))


def _set_sampler(document, name):
    document["pipeline"]["steps"][0]["class"] = name


def _set_param(name, value):
    def edit(document):
        document["classifier"]["params"][name] = value

    return edit


def _set_format_version(document):
    document["format_version"] = 2


@pytest.mark.parametrize(
    "edit, message",
    [
        (
            lambda d: _set_sampler(d, "os.system"),
            "names class 'os.system' for the sampler; only RandomOverSampler, "
            "RandomUnderSampler or 'passthrough' are accepted",
        ),
        (
            _set_param("shell_command", "rm -rf /"),
            "unknown parameter name 'shell_command'",
        ),
        (
            _set_param("optimizer", {"class": "os.system"}),
            "names class 'os.system' for the optimizer; only torch.optim.ASGD, ",
        ),
        (
            _set_param("optimizer", "builtins.eval"),
            "names class 'builtins.eval' for the optimizer",
        ),
        (
            _set_param("lr", {"class": "os.system"}),
            "classifier parameter lr names class 'os.system'; classes are accepted "
            "only for the parameters dataset, iterator_train, iterator_valid, "
            "optimizer",
        ),
        (_set_param("lr", -1.0), "invalid classifier parameters: The 'lr' parameter"),
        (
            _set_format_version,
            "format_version is 2; this skimbal reads format_version 1",
        ),
        (
            lambda d: d["threshold"].update({"class": "TunedThresholdClassifierCV"}),
            "names class 'TunedThresholdClassifierCV' for the threshold wrapper",
        ),
        (
            lambda d: d["pipeline"].update({"class": "subprocess.Popen"}),
            "names class 'subprocess.Popen' for the pipeline",
        ),
        (
            lambda d: d["classifier"]["params"].update(module__filters={"tuple": [8]}),
            "the weights in weights.npz do not fit the network",
        ),
        (
            lambda d: d["classifier"]["fitted"].update(input_kind_="code"),
            "input_kind_ must be 'pixels' or 'paths'",
        ),
        (lambda d: d.update(kind="pickle"), "kind is 'pickle'"),
    ],
)
def test_tampered_json_is_refused_with_a_clear_message(saved, edit, message):
    _edit_json(saved, edit)
    with pytest.raises(ModelFormatError) as caught:
        load_model(saved)
    text = str(caught.value)
    assert str(saved / "model.json") in text
    assert message in text


@pytest.fixture
def saved_ensemble(models, tmp_path):
    """A fresh copy of the saved thresholded ensemble, to tamper with."""
    folder = tmp_path / "ensemble"
    save_model(models["fixed_threshold(ensemble(pipeline))"][0], folder)
    return folder


def _set_member_param(name, value):
    def edit(document):
        document["members"][1]["classifier"]["params"][name] = value

    return edit


@pytest.mark.parametrize(
    "edit, message",
    [
        (
            lambda d: d["members"][0]["pipeline"]["steps"][0].update(
                {"class": "os.system"}
            ),
            "names class 'os.system' for the sampler",
        ),
        (_set_member_param("shell_command", "rm -rf /"), "unknown parameter name"),
        (lambda d: d.pop("members"), "needs a members list"),
        (lambda d: d.update(members=[]), "members must be a non-empty list"),
        (
            lambda d: d["members"].pop(),
            "holds arrays ['member1.",
        ),
        (
            lambda d: d.update(kind="fixed_threshold(pipeline)"),
            "kind 'fixed_threshold(pipeline)' needs pipeline to be an object",
        ),
        (
            lambda d: d["members"][1]["classifier"]["fitted"].update(
                classes_={"dtype": "<i8", "values": [0, 2]}
            ),
            "the members do not make one ensemble",
        ),
    ],
)
def test_tampered_ensemble_is_refused_with_a_clear_message(
    saved_ensemble, edit, message
):
    _edit_json(saved_ensemble, edit)
    with pytest.raises(ModelFormatError) as caught:
        load_model(saved_ensemble)
    text = str(caught.value)
    assert str(saved_ensemble / "model.json") in text
    assert message in text


def test_edited_weights_are_refused(saved):
    path = saved / "weights.npz"
    data = bytearray(path.read_bytes())
    data[-200] ^= 1  # one bit of some weight
    path.write_bytes(bytes(data))
    with pytest.raises(
        ModelFormatError,
        match="weights.npz does not match the sha256 recorded in .*model.json: the "
        "file was changed after saving",
    ):
        load_model(saved)


def test_weights_that_do_not_fit_are_refused_even_with_a_matching_sha(saved, models):
    other = saved.parent / "other"
    save_model(models["paths"][0], other)  # 3-channel input, another network
    shutil.copy(other / "weights.npz", saved / "weights.npz")
    sha = hashlib.sha256((saved / "weights.npz").read_bytes()).hexdigest()
    _edit_json(saved, lambda d: d.update(weights_sha256=sha))
    with pytest.raises(ModelFormatError, match="do not match|has dtype .* and shape"):
        load_model(saved)


def test_missing_files_are_named(saved):
    (saved / "weights.npz").unlink()
    with pytest.raises(ModelFormatError, match=r"weights.npz is missing"):
        load_model(saved)
    with pytest.raises(ModelFormatError, match=r"model.json does not exist"):
        load_model(saved.parent / "nowhere")


def test_invalid_json_and_duplicate_keys_are_refused(saved):
    path = saved / "model.json"
    text = path.read_text()
    path.write_text(
        text.replace(
            '"format": "skimbal-model"', '"format": "x", "format": "skimbal-model"'
        )
    )
    with pytest.raises(ModelFormatError, match="duplicate keys"):
        load_model(saved)
    path.write_text(text[:-10])
    with pytest.raises(ModelFormatError, match="not valid JSON"):
        load_model(saved)


def test_a_pickle_in_the_weights_file_is_never_unpickled(saved, tmp_path):
    marker = tmp_path / "code-ran"

    class RunsCode:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    # An object array member: np.load(allow_pickle=True) would unpickle it.
    with zipfile.ZipFile(saved / "weights.npz", "a") as archive:
        with archive.open("evil.npy", "w") as member:
            np.lib.format.write_array(
                member, np.array([RunsCode()], dtype=object), allow_pickle=True
            )
    sha = hashlib.sha256((saved / "weights.npz").read_bytes()).hexdigest()
    _edit_json(saved, lambda d: d.update(weights_sha256=sha))
    with pytest.raises(ModelFormatError, match="weights.npz"):
        load_model(saved)
    assert not marker.exists()


# -- what the safe format refuses to save -----------------------------------------


def _flip(image):
    return image.flip(-1)


class _MyAdam(torch.optim.Adam):
    pass


@pytest.fixture(scope="module")
def small(odd_digits):
    X, y = odd_digits
    return X[:150], y[:150]


@pytest.mark.parametrize(
    "params, message",
    [
        (
            {"criterion": FocalLoss},
            "criterion=<class 'skimbal.losses._focal.FocalLoss'>: the safe format "
            "stores only registered names for criterion (such as 'focal', with its "
            "arguments as criterion__<name>), not an nn.Module class or instance. "
            "Save such a model with joblib.dump instead",
        ),
        ({"augment": _flip}, "augment=<function _flip"),
        (
            {"callbacks": [("timer", EpochTimer())]},
            "the safe format stores only skimbal.callbacks.DeferredReweighting and "
            "AutoBalance callbacks",
        ),
        (
            {"random_state": np.random.RandomState(0)},
            "CNNClassifier parameter random_state is RandomState(MT19937)",
        ),
        (
            {"optimizer": _MyAdam},
            "_MyAdam: the safe format stores only torch.optim.ASGD, ",
        ),
    ],
)
def test_saving_what_has_no_safe_form_is_refused(
    small, tmp_path, tiny, params, message
):
    clf = tiny(max_epochs=1, **params).fit(*small)
    with pytest.raises(ValueError) as caught:
        save_model(clf, tmp_path / "m")
    assert message in str(caught.value)
    assert not (tmp_path / "m").exists()


def test_saving_a_criterion_instance_is_refused(small, tmp_path, tiny):
    clf = tiny(max_epochs=1).fit(*small)
    # Set after fit: skorch refuses an nn.Module passed to the constructor of
    # a subclass that sets parameters after skorch's __init__.
    object.__setattr__(clf, "criterion", torch.nn.CrossEntropyLoss())
    with pytest.raises(ValueError, match=r"criterion=CrossEntropyLoss\(\): the safe "):
        save_model(clf, tmp_path / "m")


def test_saving_an_unfitted_model_is_refused(tmp_path, tiny):
    for model in [
        tiny(),
        Pipeline([("sampler", RandomOverSampler()), ("clf", tiny())]),
        thresholded(tiny(), pos_label=1),
    ]:
        with pytest.raises(NotFittedError, match="save_model needs a fitted model"):
            save_model(model, tmp_path / "m")
    assert not (tmp_path / "m").exists()


def test_saving_other_estimators_is_refused(small, tmp_path, tiny):
    pipe = SklearnPipeline([("scale", StandardScaler()), ("clf", tiny(max_epochs=1))])
    with pytest.raises(ValueError, match="pipeline step 'scale' is a StandardScaler"):
        save_model(pipe.fit(*small), tmp_path / "m")
    with pytest.raises(ValueError, match="got StandardScaler. Save such a model with"):
        save_model(StandardScaler().fit(small[0]), tmp_path / "m")
    (tmp_path / "file").write_text("")
    with pytest.raises(ValueError, match="is a file; save_model writes a folder"):
        save_model(tiny(max_epochs=1).fit(*small), tmp_path / "file")


# -- pretrained backbones -------------------------------------------------------


@pytest.mark.parametrize("name", ["resnet18", "googlenet"])
def test_pretrained_backbone_loads_without_its_weights_file(
    image_paths, tiny_cnn, tmp_path, name
):
    from skimbal.models import TorchvisionBackbone

    weights_file = tmp_path / f"{name}.pt"
    torch.save(TorchvisionBackbone(name, num_classes=2).state_dict(), weights_file)
    X, y = image_paths
    # The shared tiny network's settings, with a backbone for its module.
    params = {
        key: value
        for key, value in tiny_cnn.get_params(deep=False).items()
        if not key.startswith("module__")
    }
    params.update(
        module=name,
        module__weights=str(weights_file),
        input_shape=None,
        image_size=32,
        max_epochs=1,
    )
    clf = CNNClassifier(**params).fit(X, y)
    if name == "googlenet":
        # Pretrained, it rescales its input (transform_input): that is not in
        # the state_dict, so the safe format cannot restore it.
        with pytest.raises(ValueError, match="cannot be rebuilt from its parameters"):
            save_model(clf, tmp_path / "m")
        return
    save_model(clf, tmp_path / "m")
    weights_file.unlink()  # load_model never reads it
    loaded = load_model(tmp_path / "m")
    assert loaded.module__weights == str(weights_file)
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))


SKORCH_ROUTE = """
import sys
import numpy as np
from skimbal import CNNClassifier

folder = sys.argv[1]
new = CNNClassifier(
    input_shape=(1, 8, 8), classes=[0, 1], module__filters=(4,), random_state=0
)
new.initialize()
new.load_params(f_params=folder + "/weights.pt")
np.save(folder + "/proba.npy", new.predict_proba(np.load(folder + "/X.npy")))
"""


@pytest.mark.slow
def test_skorch_save_params_route_in_a_fresh_process(odd_digits, tiny, tmp_path):
    X, y = odd_digits
    clf = tiny().fit(X, y)
    clf.save_params(f_params=str(tmp_path / "weights.pt"))
    np.save(tmp_path / "X.npy", X[:50])
    done = subprocess.run(
        [sys.executable, "-c", SKORCH_ROUTE, str(tmp_path)],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    np.testing.assert_array_equal(
        np.load(tmp_path / "proba.npy"), clf.predict_proba(X[:50])
    )
