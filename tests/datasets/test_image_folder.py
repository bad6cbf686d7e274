"""Tests for skimbal.datasets.load_image_folder."""

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from skimbal._images import is_path_column
from skimbal.datasets import load_image_folder


def _save(path, fmt=None):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (4, 4), (10, 20, 30)).save(path, format=fmt)


@pytest.fixture(scope="module")
def class_folders(tmp_path_factory):
    root = tmp_path_factory.mktemp("by_class")
    for relative in [
        "dog/b.png",
        "dog/a.jpg",
        "dog/puppies/c.png",  # nested: still a dog
        "cat/z.JPG",  # extensions compare case-insensitively
        "cat/y.bmp",
        "cat/.hidden.png",  # hidden file
        "cat/.thumbs/x.png",  # hidden folder
        ".git/objects/w.png",  # hidden top-level folder
    ]:
        _save(root / relative, fmt="PNG")
    (root / "cat" / "notes.txt").write_text("not an image")
    (root / "README.md").write_text("top-level non-images are ignored")
    return root


@pytest.fixture(scope="module")
def flat_folder(tmp_path_factory):
    root = tmp_path_factory.mktemp("flat")
    for name in ["dog.1.jpg", "cat.2.jpg", "cat.10.jpg", "cat.1.jpeg", "dog.7.png"]:
        _save(root / name)
    (root / ".DS_Store").write_bytes(b"\x00")
    (root / "labels.csv").write_text("ignored")
    return root


def _relative(X, root):
    return [os.path.relpath(path, root) for path in X["path"]]


def test_class_folder_layout(class_folders):
    X, y = load_image_folder(class_folders)
    assert isinstance(X, pd.DataFrame) and list(X.columns) == ["path"]
    assert _relative(X, class_folders) == [
        os.path.join("cat", "y.bmp"),
        os.path.join("cat", "z.JPG"),
        os.path.join("dog", "a.jpg"),
        os.path.join("dog", "b.png"),
        os.path.join("dog", "puppies", "c.png"),
    ]
    assert isinstance(y, np.ndarray)
    assert y.tolist() == ["cat", "cat", "dog", "dog", "dog"]
    assert all(isinstance(path, str) and os.path.isabs(path) for path in X["path"])
    assert X.index.tolist() == list(range(5))


def test_flat_layout(flat_folder):
    X, y = load_image_folder(str(flat_folder))
    assert _relative(X, flat_folder) == [
        "cat.1.jpeg",
        "cat.10.jpg",
        "cat.2.jpg",
        "dog.1.jpg",
        "dog.7.png",
    ]
    assert y.tolist() == ["cat", "cat", "cat", "dog", "dog"]


def test_order_is_reproducible(class_folders):
    X1, y1 = load_image_folder(class_folders)
    X2, y2 = load_image_folder(Path(class_folders))
    pd.testing.assert_frame_equal(X1, X2)
    np.testing.assert_array_equal(y1, y2)


def test_relative_root_gives_absolute_paths(flat_folder, monkeypatch):
    monkeypatch.chdir(flat_folder.parent)
    X, _ = load_image_folder(flat_folder.name)
    assert X["path"].iloc[0] == str(flat_folder / "cat.1.jpeg")


def test_output_is_a_path_column(class_folders):
    X, _ = load_image_folder(class_folders)
    assert is_path_column(X)


def test_extensions_select_files(class_folders, flat_folder):
    X, y = load_image_folder(class_folders, extensions=(".png", ".bmp"))
    assert y.tolist() == ["cat", "dog", "dog"]
    with pytest.raises(ValueError, match=r"class folders \['cat'\]"):
        load_image_folder(class_folders, extensions=(".png",))
    X, y = load_image_folder(flat_folder, extensions=".PNG")
    assert _relative(X, flat_folder) == ["dog.7.png"]


def test_missing_root(tmp_path):
    root = tmp_path / "nowhere"
    with pytest.raises(FileNotFoundError, match="nowhere"):
        load_image_folder(root)


def test_root_is_a_file(flat_folder):
    with pytest.raises(NotADirectoryError, match="dog.1.jpg"):
        load_image_folder(flat_folder / "dog.1.jpg")


def test_root_type():
    with pytest.raises(TypeError, match="root=3"):
        load_image_folder(3)


def test_no_images(tmp_path):
    (tmp_path / "notes.txt").write_text("x")
    (tmp_path / "empty_folder").mkdir()
    (tmp_path / ".hidden").mkdir()
    _save(tmp_path / ".hidden" / "a.png")
    with pytest.raises(ValueError, match="found no image files") as info:
        load_image_folder(tmp_path)
    message = str(info.value)
    assert str(tmp_path) in message
    assert "one sub-folder per class" in message and "cat.1.jpg" in message


def test_flat_file_without_label_prefix(tmp_path):
    _save(tmp_path / "cat.1.jpg")
    _save(tmp_path / "photo.jpg")
    with pytest.raises(ValueError, match="has no label prefix") as info:
        load_image_folder(tmp_path)
    assert str(tmp_path / "photo.jpg") in str(info.value)


def test_mixed_layout(tmp_path):
    _save(tmp_path / "cat.1.jpg")
    _save(tmp_path / "dog" / "2.jpg")
    with pytest.raises(ValueError, match="mixes images directly in it") as info:
        load_image_folder(tmp_path)
    assert "cat.1.jpg" in str(info.value) and "'dog'" in str(info.value)


def test_flat_layout_ignores_folders_without_images(tmp_path):
    _save(tmp_path / "cat.1.jpg")
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / "run.txt").write_text("x")
    _, y = load_image_folder(tmp_path)
    assert y.tolist() == ["cat"]


def test_class_folder_without_images(tmp_path):
    _save(tmp_path / "cat" / "1.jpg")
    (tmp_path / "dog").mkdir()
    (tmp_path / "dog" / "notes.txt").write_text("x")
    with pytest.raises(ValueError, match=r"class folders \['dog'\]"):
        load_image_folder(tmp_path)


@pytest.mark.parametrize("extensions", [(), ("png",), (".png", 3), 5])
def test_bad_extensions(tmp_path, extensions):
    with pytest.raises(ValueError, match="extensions must be"):
        load_image_folder(tmp_path, extensions=extensions)
