"""The offline datasets (rulec/data), the IDX reader on files the tests write (corrupt ones included), and the
transforms."""

from __future__ import annotations

import gzip

import numpy as np
import pytest

from rulec.data import datasets, synthetic
from rulec.data.errors import DataError
from rulec.data.idx import read_idx


def write_idx(path, array: np.ndarray, code: int = 0x08, compress: bool = False) -> None:
    header = bytes([0, 0, code, array.ndim]) + b"".join(n.to_bytes(4, "big") for n in array.shape)
    raw = header + array.astype(array.dtype.newbyteorder(">")).tobytes()
    path.write_bytes(gzip.compress(raw) if compress else raw)


@pytest.mark.parametrize("compress", [False, True])
def test_idx_round_trip(tmp_path, compress):
    images = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    write_idx(tmp_path / "images", images, compress=compress)
    np.testing.assert_array_equal(read_idx(tmp_path / "images"), images)


def test_idx_other_types(tmp_path):
    values = np.array([1.5, -2.25], dtype=np.float32)
    write_idx(tmp_path / "floats", values, code=0x0D)
    np.testing.assert_array_equal(read_idx(tmp_path / "floats"), values)


@pytest.mark.parametrize("content, message", [
    (b"", "not an IDX file"),
    (b"PK\x03\x04 a zip, not idx", "not an IDX file"),
    (bytes([0, 0, 0x08, 3, 0, 0, 0, 2]), "the IDX header is truncated"),
    (bytes([0, 0, 0x08, 1, 0, 0, 0, 5, 1, 2]), "the header promises (5,) (5 bytes of data) but the file holds 2"),
    (bytes([0, 0, 0x07, 1, 0, 0, 0, 1, 9]), "not an IDX file"),
    (gzip.compress(b"\x00\x00\x08", mtime=0)[:-6], "cannot read it"),
])
def test_corrupt_idx_files_are_clear_errors(tmp_path, content, message):
    path = tmp_path / "bad-idx"
    path.write_bytes(content)
    with pytest.raises(DataError) as caught:
        read_idx(path)
    assert message in caught.value.message and str(path) in caught.value.message


def test_an_idx_directory_is_loaded_and_checked(tmp_path):
    rng = np.random.default_rng(0)
    write_idx(tmp_path / "train-images-idx3-ubyte", rng.integers(0, 256, (6, 4, 4)).astype(np.uint8), compress=True)
    write_idx(tmp_path / "train-labels-idx1-ubyte", np.array([0, 1, 2, 0, 1, 2], dtype=np.uint8))
    write_idx(tmp_path / "t10k-images-idx3-ubyte", rng.integers(0, 256, (2, 4, 4)).astype(np.uint8))
    write_idx(tmp_path / "t10k-labels-idx1-ubyte", np.array([2, 1], dtype=np.uint8))
    data = datasets.idx_directory(tmp_path)
    assert data.x_train.shape == (6, 16) and data.classes == 3 and data.image_shape == (4, 4)
    assert 0 <= data.x_train.min() and data.x_train.max() <= 1
    write_idx(tmp_path / "t10k-labels-idx1-ubyte", np.array([2, 1, 0], dtype=np.uint8))
    with pytest.raises(DataError, match="do not match"):
        datasets.idx_directory(tmp_path)


def test_a_missing_idx_file_says_what_is_expected(tmp_path):
    with pytest.raises(DataError) as caught:
        datasets.idx_directory(tmp_path)
    assert "train-images-idx3-ubyte" in caught.value.hint


def test_missing_fashion_names_the_debian_package(tmp_path):
    with pytest.raises(DataError) as caught:
        datasets.fashion(tmp_path / "nowhere")
    assert "dataset-fashion-mnist" in caught.value.hint


@pytest.mark.skipif(not datasets.FASHION_DIR.exists(), reason="Debian's dataset-fashion-mnist is not installed")
def test_fashion_from_the_debian_package():
    data = datasets.load("fashion")
    assert data.x_train.shape == (60000, 784) and data.x_test.shape == (10000, 784) and data.classes == 10


def test_digits_and_mnist5k_load_offline_with_fixed_splits():
    digits = datasets.load("digits")
    assert digits.x_train.shape == (1438, 64) and digits.x_test.shape == (359, 64)
    mnist = datasets.load("mnist5k")
    assert mnist.x_train.shape == (4000, 784) and mnist.x_test.shape == (1000, 784) and mnist.classes == 10
    np.testing.assert_array_equal(datasets.load("mnist5k").y_test, mnist.y_test)


def test_transforms():
    mnist = datasets.load("mnist5k")
    small = datasets.transform(mnist, "crop20-resize10")
    assert small.x_train.shape == (4000, 100) and small.image_shape == (10, 10)
    assert datasets.transform(mnist, "resize14").x_test.shape == (1000, 196)
    with pytest.raises(DataError, match="needs 28x28 images"):
        datasets.transform(datasets.load("digits"), "resize14")


def test_signed_one_hot():
    np.testing.assert_array_equal(datasets.signed_one_hot(np.array([1, 0]), 3), [[-1, 1, -1], [1, -1, -1]])


@pytest.mark.parametrize("task", sorted(synthetic.TASKS))
def test_synthetic_tasks(task):
    data = datasets.load(task)
    assert data.x_train.shape[1] == 2 and np.abs(data.x_train).max() <= 1
    assert len(np.unique(data.y_train)) == data.classes >= 2


def test_rings_label_four_bands_of_radius():
    x, y = synthetic.generate("rings")
    radius = np.sqrt(x[:, 0] ** 2 + x[:, 1] ** 2)
    np.testing.assert_array_equal(y, (radius >= 0.4).astype(int) + (radius >= 0.65) + (radius >= 0.9))
    assert np.bincount(y).min() > 0.1 * len(y)


def test_quadrants_label_the_signs_and_sectors_five_equal_angles():
    x, y = synthetic.generate("quadrants")
    np.testing.assert_array_equal(y, np.where(x[:, 0] > 0, 2, 0) + np.where(x[:, 1] > 0, 1, 0))
    x, y = synthetic.generate("sectors")
    degrees = np.degrees(np.arctan2(x[:, 1], x[:, 0])) % 360  # sector 0 starts at 180 degrees
    np.testing.assert_array_equal(y, ((degrees - 180) % 360 // 72).astype(int))
    assert np.bincount(y, minlength=5).min() > 0.12 * len(y)


def test_unknown_dataset():
    with pytest.raises(DataError, match="unknown dataset `mnist`"):
        datasets.load("mnist")
