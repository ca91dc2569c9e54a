"""`--data cifar10 --data-dir D` reads CIFAR-10's binary version from plain bytes; tests write small files in the
same format (a label byte, then the red, green and blue planes of 32 x 32)."""

from __future__ import annotations

import numpy as np
import pytest

from rulec.data import datasets
from rulec.data.errors import DataError
from tests.conftest import run_cli


def write_cifar(path, labels, seed: int) -> np.ndarray:
    """Writes records for `labels`; returns their images [count, 3, 32, 32] as bytes."""
    planes = np.random.default_rng(seed).integers(0, 256, size=(len(labels), 3, 32, 32), dtype=np.uint8)
    records = np.concatenate([np.asarray(labels, np.uint8)[:, None], planes.reshape(len(labels), -1)], axis=1)
    path.write_bytes(records.tobytes())
    return planes


@pytest.fixture
def cifar_dir(tmp_path):
    folder = tmp_path / "cifar-10-batches-bin"
    folder.mkdir()
    train = write_cifar(folder / "data_batch_1.bin", [0, 1, 2, 3, 4, 5, 6, 7, 8, 9] * 2, seed=0)
    write_cifar(folder / "test_batch.bin", [3, 1, 4, 1, 5], seed=1)
    return tmp_path, train


def test_the_binary_version_reads_as_height_width_channels(cifar_dir):
    directory, planes = cifar_dir
    data = datasets.load("cifar10", directory)
    assert data.image == (32, 32, 3) and data.classes == 10 and len(data.x_train) == 20
    assert list(data.y_test) == [3, 1, 4, 1, 5]
    first = data.x_train[0].reshape(32, 32, 3)
    np.testing.assert_allclose(first[5, 7], planes[0, :, 5, 7] / 255.0, rtol=1e-6)  # pixel (5, 7): r, g, b


def test_a_python_pickle_version_is_refused_not_unpickled(tmp_path):
    (tmp_path / "data_batch_1.bin").write_bytes(b"\x80\x04\x95" + b"x" * 100)
    (tmp_path / "test_batch.bin").write_bytes(b"\x80\x04\x95" + b"x" * 100)
    with pytest.raises(DataError, match="not a whole number of CIFAR-10 records"):
        datasets.load("cifar10", tmp_path)


def test_without_a_directory_it_says_what_to_pass():
    with pytest.raises(DataError, match="needs --data-dir"):
        datasets.load("cifar10", None)


def test_datasets_give_their_image_shape():
    assert datasets.load("digits").image == (8, 8, 1)
    assert datasets.load("xor").image is None


def test_train_runs_a_convnet_on_cifar10(cifar_dir, monkeypatch, capsys):
    directory, _ = cifar_dir
    code, _, err = run_cli("train", "stdlib_rules/backprop.rule", "--data", "cifar10", "--data-dir", str(directory),
                           "--layers", "conv2k4s4,8", "--steps", "2", "--batch", "4", "--baseline", "none",
                           monkeypatch=monkeypatch, capsys=capsys)
    assert code == 0, err
    assert "32x32x3-conv2k4s4-8-10" in err
