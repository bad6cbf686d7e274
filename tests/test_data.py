"""Pixel rows become the network's float32 images, one by one or a batch at once."""

import math

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

from skimbal._data import (
    PixelRows,
    RandomAffineImages,
    affine_theta,
    as_prepared,
    class_balanced_sampler,
    pixels_to_dataset,
    to_dataset,
)


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


# -- the batched random affine augmentation ----------------------------------


@pytest.mark.parametrize(
    "angle, zoom, shift_x, shift_y",
    [
        (0, 1.0, 3, 0),
        (0, 1.0, 0, -2),
        (10, 1.0, 0, 0),
        (-10, 1.1, 2, -3),
        (7, 0.9, -1, 1),
    ],
)
def test_affine_theta_matches_torchvision_affine(angle, zoom, shift_x, shift_y):
    from torchvision.transforms.v2 import InterpolationMode
    from torchvision.transforms.v2 import functional as TF

    image = torch.zeros(1, 1, 20, 28)  # not square: the axes scale differently
    image[0, 0, 3:8, 5:20] = 1.0
    image[0, 0, 10:18, 20:24] = 0.5
    expected = TF.affine(
        image[0],
        angle=angle,
        translate=[shift_x, shift_y],
        scale=zoom,
        shear=[0.0, 0.0],
        interpolation=InterpolationMode.BILINEAR,
    )
    theta = affine_theta(
        torch.tensor([math.radians(angle)]),
        torch.tensor([zoom]),
        torch.tensor([float(shift_x)]),
        torch.tensor([float(shift_y)]),
        20,
        28,
    )
    grid = torch.nn.functional.affine_grid(theta, [1, 1, 20, 28], align_corners=False)
    got = torch.nn.functional.grid_sample(image, grid, align_corners=False)
    torch.testing.assert_close(got[0], expected, atol=1e-5, rtol=0)


def test_random_affine_draws_one_map_per_image():
    images = torch.rand(1, 1, 12, 12).repeat(6, 1, 1, 1)
    torch.manual_seed(0)
    out = RandomAffineImages().batch(images)
    assert out.shape == images.shape
    assert len({tuple(row.flatten().tolist()) for row in out}) == 6
    assert not any(torch.equal(row, images[0]) for row in out)
    identity = RandomAffineImages(degrees=0, translate=0, scale=(1, 1))
    torch.testing.assert_close(identity.batch(images), images, atol=1e-6, rtol=0)


def test_pixel_rows_augment_a_fetched_batch_in_one_call():
    X = np.random.default_rng(0).integers(0, 256, (5, 64), dtype=np.uint8)
    rows = PixelRows(X, np.arange(5), (1, 8, 8), transform=RandomAffineImages())
    torch.manual_seed(3)
    fetched = rows.__getitems__([4, 0, 2])
    torch.manual_seed(3)
    expected = RandomAffineImages().batch(
        torch.from_numpy(X[[4, 0, 2]].reshape(3, 1, 8, 8).astype(np.float32) / 255)
    )
    for (image, label), want, index in zip(fetched, expected, [4, 0, 2], strict=True):
        torch.testing.assert_close(image, want)
        assert int(label) == index


# -- validated X to datasets -----------------------------------------------------


def _invert(image):
    return 1 - image


def test_to_dataset_pixels_augment_training_items_only():
    X = np.arange(8, dtype=np.float32).reshape(2, 4) / 8
    plain = to_dataset(X, np.array([0, 1]), image_shape=(1, 2, 2))
    assert plain.eval_dataset is None
    torch.testing.assert_close(plain[1][0], torch.from_numpy(X[1].reshape(1, 2, 2)))
    augmented = to_dataset(X, np.array([0, 1]), image_shape=(1, 2, 2), augment=_invert)
    torch.testing.assert_close(augmented[1][0], 1 - plain[1][0])
    torch.testing.assert_close(augmented.without_augmentation()[1][0], plain[1][0])
    # At predict time there are no labels: zeros stand in for them.
    np.testing.assert_array_equal(to_dataset(X, None, image_shape=(1, 2, 2)).labels, 0)


def test_to_dataset_paths_resize_and_normalise(tmp_path):
    from PIL import Image

    file = tmp_path / "white.png"
    Image.new("RGB", (10, 6), (255, 255, 255)).save(file)
    paths = np.array([str(file)], dtype=object)
    image, _ = to_dataset(paths, None, image_shape=(1, 4, 3))[0]
    assert image.shape == (1, 4, 3) and float(image.min()) == 1.0
    normalised = to_dataset(
        paths, np.array([0]), image_shape=(3, 4, 3), normalization=((0.5,), (0.25,))
    )
    torch.testing.assert_close(normalised[0][0], torch.full((3, 4, 3), 2.0))
    assert normalised.eval_dataset is None
    augmented = to_dataset(paths, np.array([0]), image_shape=(3, 4, 3), augment=True)
    assert augmented.eval_dataset is not None  # validation sees no augmentation


def test_class_balanced_sampler_draws_classes_equally():
    labels = np.array([0] * 90 + [1] * 10)
    sampler = class_balanced_sampler(labels)
    assert sampler.num_samples == 100 and sampler.replacement
    generator = torch.Generator().manual_seed(0)
    sampler.generator = generator
    drawn = labels[list(sampler)]
    assert 0.4 < drawn.mean() < 0.6


def test_as_prepared_turns_subsets_back():
    from torch.utils.data import Subset

    X = np.arange(12, dtype=np.float32).reshape(6, 2)
    dataset = to_dataset(X, np.arange(6) % 2, image_shape=(1, 1, 2), augment=_invert)
    train = as_prepared(Subset(dataset, [4, 1]))
    np.testing.assert_array_equal(train.labels, [0, 1])
    torch.testing.assert_close(train[0][0], 1 - torch.from_numpy(X[4]).reshape(1, 1, 2))
    valid = as_prepared(Subset(dataset, [4, 1]), validation=True)
    torch.testing.assert_close(valid[0][0], torch.from_numpy(X[4]).reshape(1, 1, 2))
    assert as_prepared(None) is None
