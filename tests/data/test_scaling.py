"""Input scaling (rulec/data/inputs.py, `--inputs`): each mode against its statistics computed in plain NumPy."""

from __future__ import annotations

import numpy as np
import pytest

from rulec.data import datasets
from rulec.data.errors import DataError
from rulec.data.inputs import standardise


@pytest.fixture(scope="module")
def tiny() -> datasets.Dataset:
    """Features of very different scales, the last constant in the training split but not in the test split."""
    rng = np.random.default_rng(0)
    x_train = (rng.normal(size=(50, 4)) * [1.0, 10.0, 0.01, 0.0] + [0.0, 5.0, -3.0, 7.0]).astype(np.float32)
    x_test = (rng.normal(size=(20, 4)) * 3.0 + 1.0).astype(np.float32)
    return datasets.Dataset("tiny", x_train, np.zeros(50, np.int64), x_test, np.zeros(20, np.int64), 2)


def test_feature_scaling_uses_each_features_training_statistics(tiny):
    scaled = standardise(tiny, "feature")
    train = tiny.x_train.astype(np.float64)
    mean, std = train.mean(axis=0), train.std(axis=0)
    # the nearly constant feature (deviation 0.01) and the constant one are divided by a tenth of the global deviation
    floor = 0.1 * train.std()
    assert std[2] < floor and std[3] == 0 and std[:2].min() > floor
    std[2:] = floor
    np.testing.assert_allclose(scaled.x_train, (train - mean) / std, rtol=1e-5, atol=1e-4)  # float32 arithmetic
    np.testing.assert_allclose(scaled.x_test, (tiny.x_test - mean) / std, rtol=1e-5, atol=1e-4)  # train statistics
    np.testing.assert_allclose(scaled.x_train[:, :2].std(axis=0), 1.0, rtol=1e-4)
    assert np.all(scaled.x_train[:, 3] == 0) and np.isfinite(scaled.x_test).all()
    assert scaled.x_train.dtype == scaled.x_test.dtype == np.float32


def test_a_rarely_lit_pixel_does_not_blow_up_an_unseen_image():
    """A pixel lit in one training image of 1000 has a deviation of 0.016: divided by it, an unseen image that lights
    it fully would give an input of 63; it is divided by a tenth of the global deviation instead."""
    x_train = np.zeros((1000, 3), np.float32)
    x_train[:, :2] = np.random.default_rng(0).uniform(size=(1000, 2))
    x_train[0, 2] = 0.5
    x_test = np.array([[0.5, 0.5, 1.0]], np.float32)
    data = datasets.Dataset("rare", x_train, np.zeros(1000, np.int64), x_test, np.zeros(1, np.int64), 2)
    rare = standardise(data, "feature").x_test[0, 2]
    assert x_train[:, 2].std() < 0.1 * x_train.std()  # so its own deviation is not used
    assert rare == pytest.approx((1.0 - x_train[:, 2].mean()) / (0.1 * x_train.std()), rel=1e-5)
    assert rare < 0.5 * (1.0 - x_train[:, 2].mean()) / x_train[:, 2].std()


def test_global_scaling_uses_one_mean_and_deviation_and_raw_changes_nothing(tiny):
    scaled = standardise(tiny, "global")
    mean, std = tiny.x_train.astype(np.float64).mean(), tiny.x_train.astype(np.float64).std()
    np.testing.assert_allclose(scaled.x_test, (tiny.x_test - mean) / std, rtol=1e-5, atol=1e-5)
    assert standardise(tiny, "raw") is tiny
    with pytest.raises(DataError, match="unknown input scaling `pixel`"):
        standardise(tiny, "pixel")
