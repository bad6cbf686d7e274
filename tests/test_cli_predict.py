"""`skimbal predict MODEL DATA`: saved models applied to files, end to end."""

import joblib
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from imblearn.over_sampling import RandomOverSampler
from imblearn.pipeline import Pipeline
from PIL import Image
from sklearn.base import clone
from sklearn.model_selection import FixedThresholdClassifier

from skimbal import CNNClassifier, save_model
from skimbal.cli import main
from skimbal.datasets import load_image_folder


def run(*args):
    return CliRunner().invoke(main, [str(arg) for arg in args])


@pytest.fixture(scope="module")
def tiny(tiny_cnn):
    """Copies of the shared tiny network with some parameters changed."""

    def make(**params):
        return clone(tiny_cnn).set_params(**params)

    return make


@pytest.fixture(scope="module")
def pixel_model(odd_digits, tiny, tmp_path_factory):
    """The comparison's kind of model, saved both ways, and 40 rows to predict."""
    X, y = odd_digits
    model = FixedThresholdClassifier(
        Pipeline(
            [
                ("sampler", RandomOverSampler(random_state=0)),
                ("clf", tiny()),
            ]
        ),
        threshold=0.3,
        pos_label=1,
        response_method="predict_proba",
    ).fit(X, y)
    folder = tmp_path_factory.mktemp("pixel_model")
    save_model(model, folder / "model")
    joblib.dump(model, folder / "model.joblib")
    rows = X[::25]
    np.save(folder / "rows.npy", rows)
    return model, folder, rows


@pytest.fixture(scope="module")
def image_model(tiny, tmp_path_factory):
    """A model trained on image paths, and a folder of new images."""
    root = tmp_path_factory.mktemp("images")
    rng = np.random.RandomState(0)
    for split, count in [("train", 12), ("new", 4)]:
        for label, level in [("dark", 30), ("light", 200)]:
            (root / split / label).mkdir(parents=True)
            for i in range(count):
                pixels = rng.randint(0, 40, size=(8, 8, 3)) + level
                image = Image.fromarray(pixels.astype(np.uint8))
                image.save(root / split / label / f"{i}.png")
    (root / "new" / "notes.md").write_text("not an image")
    X, y = load_image_folder(root / "train")
    model = tiny(input_shape=None, image_size=8, lr=0.01).fit(X, y)
    save_model(model, root / "model")
    return model, root


def _read(path):
    return pd.read_csv(path)


def test_predict_pixel_rows(pixel_model, tmp_path):
    model, folder, rows = pixel_model
    out = tmp_path / "predictions.csv"
    result = run("predict", folder / "model", folder / "rows.npy", "--out", out)
    assert result.exit_code == 0, result.output
    table = _read(out)
    assert list(table.columns) == ["sample", "prediction", "proba_0", "proba_1"]
    np.testing.assert_array_equal(table["sample"], np.arange(len(rows)))
    expected = model.predict(rows)
    np.testing.assert_array_equal(table["prediction"], expected)
    np.testing.assert_array_equal(
        table[["proba_0", "proba_1"]].to_numpy(), model.predict_proba(rows)
    )
    counts = [int(np.sum(expected == label)) for label in (0, 1)]
    assert (
        f"{len(rows)} samples predicted as 0: {counts[0]}, 1: {counts[1]}. "
        f"Written to {out}." in result.output
    )


@pytest.mark.parametrize("header", [False, True])
def test_predict_csv_rows_and_a_joblib_model(pixel_model, tmp_path, header):
    model, folder, rows = pixel_model
    data = tmp_path / "rows.csv"
    columns = [f"pixel{i}" for i in range(rows.shape[1])]
    pd.DataFrame(rows, columns=columns).to_csv(data, index=False, header=header)
    out = tmp_path / "p.csv"
    result = run("predict", folder / "model.joblib", data, "--out", out)
    assert result.exit_code == 0, result.output
    table = _read(out)
    X = rows.astype(np.float64)  # what a CSV gives
    np.testing.assert_array_equal(table["prediction"], model.predict(X))
    np.testing.assert_array_equal(
        table[["proba_0", "proba_1"]].to_numpy(), model.predict_proba(X)
    )


def test_predict_an_image_folder_a_list_and_one_image(image_model, tmp_path):
    model, root = image_model
    X, _ = load_image_folder(root / "new")
    expected = model.predict(X)
    out = tmp_path / "folder.csv"
    result = run("predict", root / "model", root / "new", "--out", out)
    assert result.exit_code == 0, result.output
    table = _read(out)
    assert list(table.columns) == [
        "sample",
        "prediction",
        "proba_dark",
        "proba_light",
    ]
    assert table["sample"].tolist() == X["path"].tolist()  # notes.md skipped
    np.testing.assert_array_equal(table["prediction"], expected)
    np.testing.assert_array_equal(
        table[["proba_dark", "proba_light"]].to_numpy(), model.predict_proba(X)
    )
    # A list of paths relative to its own folder gives the same.
    listing = root / "new" / "list.txt"
    relative = [path[len(str(root / "new")) + 1 :] for path in X["path"]]
    listing.write_text("\n".join(relative) + "\n\n")
    out_list = tmp_path / "list.csv"
    result = run("predict", root / "model", listing, "--out", out_list)
    assert result.exit_code == 0, result.output
    pd.testing.assert_frame_equal(_read(out_list), table)
    listing.unlink()
    result = run("predict", root / "model", X["path"][0], "--out", tmp_path / "1.csv")
    assert result.exit_code == 0, result.output
    assert _read(tmp_path / "1.csv")["prediction"].tolist() == [expected[0]]


def test_help_warns_about_pickles():
    result = run("predict", "--help")
    assert result.exit_code == 0
    assert "only load pickles you trust" in result.output


@pytest.mark.parametrize(
    "case, message",
    [
        ("paths_model_on_pixels", "Error: the model was trained on image paths, but"),
        ("pixel_model_on_images", "Error: the model was trained on pixel rows, but"),
        ("wrong_width", "Error: the model was trained on rows of 64 pixels, but"),
        ("unknown_data", "is neither a folder of images, a .txt list of image"),
        ("unknown_model", "is neither a folder written by skimbal.save_model nor"),
        ("tampered", "does not match the sha256 recorded in"),
        ("missing_model", "does not exist"),
        ("missing_listed_image", "Error: 1 of the 1 images listed in"),
        ("text_csv", "column 'label' is not numeric"),
        ("missing_out_folder", "Error: the folder of --out"),
    ],
)
def test_errors_are_one_line_and_come_before_any_work(
    pixel_model, image_model, tmp_path, monkeypatch, case, message
):
    _, folder, rows = pixel_model
    _, root = image_model
    model, data, out = folder / "model", folder / "rows.npy", tmp_path / "p.csv"
    if case == "paths_model_on_pixels":
        model = root / "model"
    elif case == "pixel_model_on_images":
        data = root / "new"
    elif case == "wrong_width":
        data = tmp_path / "narrow.npy"
        np.save(data, rows[:, :10])
    elif case == "unknown_data":
        data = tmp_path / "rows.parquet"
        data.write_text("")
    elif case == "unknown_model":
        model = tmp_path / "model.txt"
        model.write_text("")
    elif case == "tampered":
        model = tmp_path / "model"
        save_model(pixel_model[0], model)
        (model / "weights.npz").write_bytes(b"changed")
    elif case == "missing_model":
        model = tmp_path / "nowhere"
    elif case == "missing_listed_image":
        data = tmp_path / "list.txt"
        data.write_text("gone.png\n")
    elif case == "text_csv":
        data = tmp_path / "rows.csv"
        pd.DataFrame({"label": ["a", "b"], "x": [1, 2]}).to_csv(data, index=False)
    elif case == "missing_out_folder":
        out = tmp_path / "no" / "p.csv"

    def no_predicting(*args, **kwargs):
        raise AssertionError("predicted although the input was wrong")

    monkeypatch.setattr(CNNClassifier, "predict_proba", no_predicting)
    result = run("predict", model, data, "--out", out)
    assert result.exit_code != 0
    assert message in result.output
    if case not in ("unknown_data", "unknown_model", "missing_model"):
        assert result.output.startswith("Error: ")
        assert result.output.count("\n") == 1
    assert not out.exists()
