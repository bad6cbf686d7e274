"""Tests for lazy image decoding: skimbal._images."""

import os
import pickle
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from PIL import Image
from torchvision.transforms import v2

from skimbal import _images
from skimbal._images import (
    ImagePathDataset,
    check_image_paths,
    is_path_column,
    load_image,
    make_image_transform,
    path_column_values,
)

# Constant colour whose channels divide 255 exactly: 0.2, 0.4, 0.8 in [0, 1].
COLOR = (51, 102, 204)


@pytest.fixture(autouse=True)
def seed():
    torch.manual_seed(0)


@pytest.fixture(scope="module")
def image_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("images")
    size = (30, 20)  # PIL sizes are (width, height)
    Image.new("RGB", size, COLOR).save(root / "rgb.png")
    Image.new("RGB", size, COLOR).save(root / "rgb.jpg", quality=95)
    Image.new("RGBA", size, (*COLOR, 100)).save(root / "rgba.png")
    Image.new("L", size, 100).save(root / "gray.png")
    Image.new("LA", size, (100, 50)).save(root / "gray_alpha.png")
    Image.new("1", size, 1).save(root / "bilevel.png")
    palette = Image.new("RGB", size, COLOR).convert("P")
    palette.save(root / "palette.png", transparency=0)
    palette.save(root / "palette.gif")
    # 16-bit grayscale: 128 * 257 maps to exactly 128 in 8 bits.
    Image.fromarray(np.full(size[::-1], 128 * 257, dtype=np.uint16)).save(
        root / "gray16.png"
    )
    # A left-to-right ramp: any crop or flip changes it.
    ramp = np.tile(np.linspace(0, 255, 30, dtype=np.uint8), (20, 1))
    Image.fromarray(ramp).convert("RGB").save(root / "ramp.png")
    rng = np.random.default_rng(0)
    (root / "corrupt.png").write_bytes(rng.integers(0, 256, 500).astype(np.uint8))
    (root / "text.jpg").write_text("this is not an image\n")
    jpeg = (root / "rgb.jpg").read_bytes()
    (root / "truncated.jpg").write_bytes(jpeg[: len(jpeg) // 2])
    return root


def test_mode_images_exist(image_dir):
    with Image.open(image_dir / "gray16.png") as image:
        assert image.mode.startswith("I")
    with Image.open(image_dir / "palette.png") as image:
        assert image.mode == "P"


@pytest.mark.parametrize(
    "name",
    [
        "rgb.png",
        "rgb.jpg",
        "rgba.png",
        "gray.png",
        "gray_alpha.png",
        "bilevel.png",
        "palette.png",
        "palette.gif",
        "gray16.png",
    ],
)
@pytest.mark.parametrize("channels", [1, 3])
def test_any_mode_becomes_requested_channels(image_dir, name, channels):
    transform = make_image_transform(image_size=8, channels=channels)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # e.g. PIL's palette-transparency warning
        x = transform(load_image(image_dir / name))
    assert x.shape == (channels, 8, 8)
    assert x.dtype == torch.float32
    assert 0 <= x.min() and x.max() <= 1


def test_colour_values_survive_conversion(image_dir):
    rgb = make_image_transform(image_size=4, channels=3)
    gray = make_image_transform(image_size=4, channels=1)
    expected_rgb = torch.tensor(COLOR) / 255
    for name in ["rgb.png", "rgba.png", "palette.png"]:  # alpha is dropped
        x = rgb(load_image(image_dir / name))
        torch.testing.assert_close(x[:, 0, 0], expected_rgb)
    assert gray(load_image(image_dir / "gray.png"))[0, 0, 0] == pytest.approx(100 / 255)
    assert gray(load_image(image_dir / "gray16.png"))[0, 0, 0] == pytest.approx(
        128 / 255
    )
    assert rgb(load_image(image_dir / "gray16.png"))[:, 0, 0].tolist() == (
        pytest.approx([128 / 255] * 3)
    )


@pytest.mark.parametrize(
    "image_size, expected", [(7, (7, 7)), ((10, 6), (10, 6)), ([5, 12], (5, 12))]
)
def test_resize_to_height_width(image_dir, image_size, expected):
    transform = make_image_transform(image_size=image_size, channels=3)
    x = transform(load_image(image_dir / "ramp.png"))  # 20 high, 30 wide
    assert tuple(x.shape[1:]) == expected


def test_normalisation_matches_hand_computation(image_dir):
    transform = make_image_transform(
        image_size=5, channels=3, mean=(0.5, 0.5, 0.5), std=(0.25, 0.5, 0.1)
    )
    x = transform(load_image(image_dir / "rgb.png"))
    # (0.2 - 0.5) / 0.25, (0.4 - 0.5) / 0.5, (0.8 - 0.5) / 0.1
    expected = torch.tensor([-1.2, -0.2, 3.0]).view(3, 1, 1).expand(3, 5, 5)
    torch.testing.assert_close(x, expected)


def test_single_value_stats_for_grayscale(image_dir):
    transform = make_image_transform(image_size=3, channels=1, mean=[0.2], std=[0.5])
    x = transform(load_image(image_dir / "gray.png"))
    torch.testing.assert_close(x, torch.full((1, 3, 3), (100 / 255 - 0.2) / 0.5))


def test_no_augmentation_is_deterministic(image_dir):
    transform = make_image_transform(image_size=(12, 16), channels=3)
    image = load_image(image_dir / "ramp.png")
    first = transform(image)
    for seed in range(5):
        torch.manual_seed(seed)
        assert torch.equal(transform(image), first)
    assert not any(
        isinstance(t, v2.RandomResizedCrop | v2.RandomHorizontalFlip)
        for t in transform.transforms
    )


def test_augmentation_only_when_asked(image_dir):
    transform = make_image_transform(image_size=(12, 16), channels=3, augment=True)
    kinds = [type(t) for t in transform.transforms]
    assert v2.RandomResizedCrop in kinds and v2.RandomHorizontalFlip in kinds
    image = load_image(image_dir / "ramp.png")
    outputs = [transform(image) for _ in range(8)]
    assert all(x.shape == (3, 12, 16) for x in outputs)
    assert any(not torch.equal(x, outputs[0]) for x in outputs[1:])


def test_augmented_transform_keeps_normalisation(image_dir):
    transform = make_image_transform(
        image_size=6, channels=3, mean=(0.5,) * 3, std=(0.25,) * 3, augment=True
    )
    # A constant image stays constant under any crop or flip.
    x = transform(load_image(image_dir / "rgb.png"))
    torch.testing.assert_close(x[:, 2, 3], (torch.tensor(COLOR) / 255 - 0.5) / 0.25)


def test_transform_pickles(image_dir):
    transform = make_image_transform(
        image_size=6, channels=1, mean=[0.5], std=[0.5], augment=True
    )
    clone = pickle.loads(pickle.dumps(transform))
    image = load_image(image_dir / "rgb.png")
    torch.manual_seed(1)
    expected = transform(image)
    torch.manual_seed(1)
    assert torch.equal(clone(image), expected)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"image_size": 0, "channels": 3}, "image_size=0"),
        ({"image_size": (4, 4, 4), "channels": 3}, r"image_size=\(4, 4, 4\)"),
        ({"image_size": 4.5, "channels": 3}, "image_size=4.5"),
        ({"image_size": True, "channels": 3}, "image_size=True"),
        ({"image_size": 4, "channels": 2}, "channels=2"),
        ({"image_size": 4, "channels": 3, "mean": (0.5,) * 3}, "std=None"),
        (
            {"image_size": 4, "channels": 3, "mean": (0.5, 0.5), "std": (1, 1)},
            r"mean=\(0.5, 0.5\)",
        ),
        (
            {"image_size": 4, "channels": 1, "mean": [0.5], "std": [0]},
            "std must be positive",
        ),
    ],
)
def test_transform_argument_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_image_transform(**kwargs)


def test_augment_must_be_bool():
    with pytest.raises(TypeError, match="augment='yes'"):
        make_image_transform(image_size=4, channels=3, augment="yes")


# -- decoding errors ---------------------------------------------------------


def test_missing_file_names_path(tmp_path):
    path = tmp_path / "gone.png"
    with pytest.raises(FileNotFoundError, match="gone.png"):
        load_image(path)


@pytest.mark.parametrize("name", ["corrupt.png", "text.jpg", "truncated.jpg"])
def test_undecodable_file_names_path(image_dir, name):
    path = str(image_dir / name)
    with pytest.raises(ValueError, match="cannot decode image file") as info:
        load_image(path)
    assert repr(path) in str(info.value)
    assert info.value.__cause__ is not None  # PIL's error is chained


def test_too_many_pixels_is_an_error(image_dir, monkeypatch):
    monkeypatch.setattr(_images, "MAX_IMAGE_PIXELS", 100)
    path = str(image_dir / "rgb.png")
    with pytest.raises(ValueError, match=r"30 x 20 = 600 pixels") as info:
        load_image(path)
    message = str(info.value)
    assert repr(path) in message and "MAX_IMAGE_PIXELS=100" in message


@pytest.mark.parametrize("pil_limit", [400, 100])  # PIL warns, PIL raises
def test_pil_decompression_bomb_checks_become_errors(image_dir, monkeypatch, pil_limit):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", pil_limit)
    path = str(image_dir / "rgb.png")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match="too large to decode") as info:
            load_image(path)
    assert repr(path) in str(info.value)


def test_image_within_limit_loads(image_dir, monkeypatch):
    monkeypatch.setattr(_images, "MAX_IMAGE_PIXELS", 600)
    assert load_image(image_dir / "rgb.png").size == (30, 20)


def test_load_image_returns_decoded_image(image_dir):
    image = load_image(image_dir / "palette.gif")
    assert image.mode == "P"
    assert image.convert("RGB").getpixel((0, 0)) == COLOR


# -- existence check ---------------------------------------------------------


def test_check_image_paths_passes_for_existing_files(image_dir):
    assert check_image_paths([image_dir / "rgb.png", str(image_dir / "gray.png")]) is (
        None
    )
    check_image_paths(pd.DataFrame({"path": [str(image_dir / "rgb.png")]}))


def test_check_image_paths_names_missing_files(image_dir):
    paths = [image_dir / "rgb.png", image_dir / "a.png", image_dir / "b.png"]
    with pytest.raises(FileNotFoundError, match="2 of 3 image files") as info:
        check_image_paths(paths)
    assert "a.png" in str(info.value) and "b.png" in str(info.value)


def test_check_image_paths_counts_beyond_the_first_five(tmp_path):
    paths = [tmp_path / f"{i}.png" for i in range(8)]
    with pytest.raises(FileNotFoundError, match="8 of 8 .* and 3 more"):
        check_image_paths(paths)


def test_check_image_paths_treats_folder_as_missing(tmp_path):
    with pytest.raises(FileNotFoundError, match="1 of 1"):
        check_image_paths([tmp_path])


@pytest.mark.parametrize(
    "paths, error, match",
    [
        (["a.png", 3], TypeError, "entry 1 is 3"),
        ("a.png", TypeError, "not a single path"),
        (np.array([["a.png", "b.png"]]), ValueError, "column of image paths"),
    ],
)
def test_check_image_paths_rejects_non_paths(paths, error, match):
    with pytest.raises(error, match=match):
        check_image_paths(paths)


# -- path columns ------------------------------------------------------------


@pytest.mark.parametrize(
    "X",
    [
        pd.DataFrame({"path": ["a.png", "b.png"]}),
        pd.DataFrame({"file": [Path("a.png"), "b.png"]}),
        pd.DataFrame({"path": pd.Series(["a.png"], dtype="string")}),
        np.array([["a.png"], ["b.png"]], dtype=object),
        np.array([["a.png"], ["b.png"]]),
    ],
)
def test_is_path_column_true(X):
    assert is_path_column(X)
    values = path_column_values(X)
    assert values.ndim == 1 and values.dtype == object
    assert all(isinstance(value, str) for value in values)
    assert values[0] == "a.png"


@pytest.mark.parametrize(
    "X",
    [
        np.zeros((3, 1)),
        np.zeros((3, 1, 8, 8)),
        np.array(["a.png", "b.png"], dtype=object),
        np.array([["a.png", "b.png"]], dtype=object),
        np.array([["a.png"], [None]], dtype=object),
        np.empty((0, 1), dtype=object),
        pd.DataFrame({"path": ["a.png"], "other": ["b.png"]}),
        pd.DataFrame({"x": [1.0, 2.0]}),
        pd.Series(["a.png"]),
        [["a.png"]],
    ],
)
def test_is_path_column_false(X):
    assert not is_path_column(X)
    with pytest.raises(ValueError, match="column of image paths"):
        path_column_values(X)


# -- dataset -----------------------------------------------------------------


@pytest.fixture(scope="module")
def labelled_paths(image_dir):
    names = ["rgb.png", "rgba.png", "gray.png", "palette.png", "gray16.png", "ramp.png"]
    return np.array([str(image_dir / name) for name in names], dtype=object), np.array(
        [0, 1, 0, 1, 2, 0]
    )


def test_dataset_items(labelled_paths):
    paths, y = labelled_paths
    dataset = ImagePathDataset(
        paths, y, transform=make_image_transform(image_size=8, channels=3)
    )
    assert len(dataset) == 6
    x, target = dataset[4]
    assert x.shape == (3, 8, 8)
    assert target.dtype == torch.long and target.ndim == 0 and target.item() == 2


def test_dataset_without_y_yields_placeholder(labelled_paths):
    paths, _ = labelled_paths
    dataset = ImagePathDataset(
        paths, transform=make_image_transform(image_size=4, channels=1)
    )
    x, target = dataset[0]
    assert x.shape == (1, 4, 4)
    assert target.dtype == torch.long and target.item() == 0


def test_dataset_accepts_path_column_and_float_labels(labelled_paths):
    paths, y = labelled_paths
    X = pd.DataFrame({"path": paths})
    dataset = ImagePathDataset(
        X, y.astype(float), transform=make_image_transform(image_size=4, channels=3)
    )
    assert dataset.paths.tolist() == paths.tolist()
    assert dataset.y.dtype == np.int64 and dataset[1][1].item() == 1


def test_dataloader_with_workers_decodes_in_order(labelled_paths):
    paths, y = labelled_paths
    dataset = ImagePathDataset(
        paths, y, transform=make_image_transform(image_size=8, channels=3)
    )
    loader = torch.utils.data.DataLoader(dataset, batch_size=4, num_workers=2)
    batches = list(loader)
    assert [tuple(xb.shape) for xb, _ in batches] == [(4, 3, 8, 8), (2, 3, 8, 8)]
    assert torch.cat([yb for _, yb in batches]).tolist() == y.tolist()
    torch.testing.assert_close(batches[0][0][0], dataset[0][0])


def test_dataset_pickles(labelled_paths):
    paths, y = labelled_paths
    dataset = ImagePathDataset(
        paths, y, transform=make_image_transform(image_size=8, channels=1)
    )
    clone = pickle.loads(pickle.dumps(dataset))
    assert torch.equal(clone[2][0], dataset[2][0])
    assert clone[2][1] == dataset[2][1]


def test_dataset_error_names_corrupt_file(image_dir):
    path = str(image_dir / "corrupt.png")
    dataset = ImagePathDataset(
        [path], [0], transform=make_image_transform(image_size=4, channels=3)
    )
    with pytest.raises(ValueError, match="cannot decode image file") as info:
        dataset[0]
    assert repr(path) in str(info.value)


@pytest.mark.parametrize(
    "y, error, match",
    [
        (["cat", "dog"], TypeError, "LabelEncoder"),
        ([0.5, 1.0], TypeError, "integer class indices"),
        ([-1, 0], TypeError, "non-negative"),
        ([0, 1, 1], ValueError, "one entry per path"),
    ],
)
def test_dataset_rejects_bad_y(y, error, match):
    with pytest.raises(error, match=match):
        ImagePathDataset(
            ["a.png", "b.png"],
            y,
            transform=make_image_transform(image_size=4, channels=3),
        )


def test_dataset_requires_callable_transform():
    with pytest.raises(TypeError, match="transform must be a callable"):
        ImagePathDataset(["a.png"], transform=None)
    with pytest.raises(TypeError):
        ImagePathDataset(
            ["a.png"], None, make_image_transform(image_size=4, channels=3)
        )


def test_paths_are_not_checked_at_construction(tmp_path):
    # Existence is check_image_paths' job; the dataset only reads on access.
    missing = os.path.join(tmp_path, "later.png")
    dataset = ImagePathDataset(
        [missing], transform=make_image_transform(image_size=4, channels=3)
    )
    with pytest.raises(FileNotFoundError, match="later.png"):
        dataset[0]


# -- validation and shape of path input ------------------------------------------


def test_validate_path_column_records_the_column(image_dir):
    from sklearn.base import BaseEstimator

    from skimbal._images import validate_path_column

    estimator = BaseEstimator()
    X = pd.DataFrame({"file": [str(image_dir / "rgb.png"), image_dir / "gray.png"]})
    paths, y = validate_path_column(estimator, X, ["a", "b"], reset=True)
    assert paths.tolist() == [str(image_dir / "rgb.png"), str(image_dir / "gray.png")]
    assert y.tolist() == ["a", "b"]
    assert estimator.n_features_in_ == 1
    assert estimator.feature_names_in_.tolist() == ["file"]
    with pytest.raises(FileNotFoundError, match="nope.png"):
        validate_path_column(
            estimator,
            pd.DataFrame({"file": [str(image_dir / "nope.png")]}),
            reset=False,
        )


@pytest.mark.parametrize(
    "input_shape, image_size, expected",
    [
        (None, None, (3, 64, 64)),
        (None, 32, (3, 32, 32)),
        (None, (24, 16), (3, 24, 16)),
        ((1, 20, 10), None, (1, 20, 10)),
        ((1, 20, 10), (20, 10), (1, 20, 10)),
        ([1, 8, 8], 8, (1, 8, 8)),
    ],
)
def test_path_image_shape(input_shape, image_size, expected):
    from skimbal._images import path_image_shape

    shape = path_image_shape(
        input_shape, image_size, in_channels=3, default_size=(64, 64)
    )
    assert shape == expected


def test_path_image_shape_contradiction():
    from skimbal._images import path_image_shape

    with pytest.raises(ValueError, match="contradicts input_shape"):
        path_image_shape((1, 8, 8), 16, in_channels=3, default_size=(64, 64))
