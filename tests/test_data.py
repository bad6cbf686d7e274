"""Pixel rows become the network's float32 images, one by one or a batch at once."""

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

from skimbal._data import pixels_to_dataset


@pytest.mark.parametrize("dtype", [np.uint8, np.float32, np.float64])
def test_batched_fetch_equals_fetching_each_sample(dtype):
    rng = np.random.default_rng(0)
    X = rng.integers(0, 256, size=(20, 12)).astype(dtype)
    X.setflags(write=False)  # the caller's array must never be written to
    y = rng.integers(0, 3, size=20)
    dataset = pixels_to_dataset(X, y, (3, 2, 2)).subset(np.arange(5, 20))
    indices = [7, 0, 7, 3]
    batch = dataset.__getitems__(indices)
    singles = [dataset[i] for i in indices]
    assert len(batch) == len(singles)
    for (image, label), (single_image, single_label) in zip(
        batch, singles, strict=True
    ):
        assert image.dtype == torch.float32 and image.shape == (3, 2, 2)
        assert torch.equal(image, single_image)
        assert int(label) == int(single_label)
    scale = 255 if dtype == np.uint8 else 1
    expected = X[[12, 5, 12, 8]].reshape(4, 3, 2, 2).astype(np.float32) / scale
    np.testing.assert_allclose(torch.stack([b[0] for b in batch]), expected, rtol=1e-6)


def test_data_loader_batches_are_the_same_either_way():
    X = np.arange(64 * 4, dtype=np.uint8).reshape(64, 4)
    y = np.arange(64) % 2
    dataset = pixels_to_dataset(X, y, (1, 2, 2))

    class OneByOne(torch.utils.data.Dataset):
        def __len__(self):
            return len(dataset)

        def __getitem__(self, index):
            return dataset[index]

    batched = list(DataLoader(dataset, batch_size=10))
    one_by_one = list(DataLoader(OneByOne(), batch_size=10))
    for (X_a, y_a), (X_b, y_b) in zip(batched, one_by_one, strict=True):
        assert torch.equal(X_a, X_b) and torch.equal(y_a, y_b)


def test_batched_fetch_applies_the_augmentation_to_each_sample():
    X = np.zeros((6, 4), dtype=np.float32)
    calls = []

    def mark(image):
        calls.append(image.shape)
        return image + 1

    dataset = pixels_to_dataset(X, np.zeros(6, int), (1, 2, 2), transform=mark)
    batch = dataset.__getitems__([0, 1, 2])
    assert calls == [(1, 2, 2)] * 3
    assert all(torch.equal(image, torch.ones(1, 2, 2)) for image, _ in batch)
    plain = dataset.without_augmentation().__getitems__([0, 1])
    assert all(torch.equal(image, torch.zeros(1, 2, 2)) for image, _ in plain)
