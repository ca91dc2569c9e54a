"""Kolen-Pollack and sign symmetry compute what their papers say, checked against NumPy computations of the same."""

from __future__ import annotations

import jax
import numpy as np

import rulec
from tests.conftest import ROOT

SIZES = (3, 4, 2)


def batch(seed: int = 0, size: int = 8) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(size, SIZES[0])).astype(np.float32)
    y = -np.ones((size, SIZES[-1]), np.float32)
    y[np.arange(size), rng.integers(0, SIZES[-1], size)] = 1
    return x, y


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.sum(a * b) / (np.linalg.norm(a) * np.linalg.norm(b)))


def test_kolen_pollack_backward_weights_converge_to_the_forward_transpose():
    rule = rulec.load(ROOT / "stdlib_rules" / "kolen_pollack.rule")
    net = rule.network(SIZES)
    state = net.init(jax.random.key(0))
    genome = {"lr": np.float32(0.5), "decay": np.float32(0.05)}
    step = jax.jit(net.step)

    def gaps(state) -> list[float]:  # |W - B^T| per layer, the bias row of W left out (B has none)
        return [float(np.linalg.norm(np.asarray(w)[:-1].T - np.asarray(b))) for w, b in zip(state["w"], state["B"])]

    first = gaps(state)
    cosines = []
    for t in range(1, 101):
        state = step(genome, state, *batch(t))
        # the shared update cancels in W - B^T, which only decays: |W - B^T| = (1 - decay)^t |W0 - B0^T|
        np.testing.assert_allclose(gaps(state), [g * 0.95 ** t for g in first], rtol=1e-3, atol=1e-6)
        cosines.append(min(cosine(np.asarray(w)[:-1].T, np.asarray(b)) for w, b in zip(state["w"], state["B"])))
    assert cosines[0] < 0.9 and cosines[-1] > 0.999


def test_sign_symmetry_sends_the_error_back_through_the_signs_of_the_forward_weights():
    rule = rulec.load(ROOT / "stdlib_rules" / "sign_symmetry.rule")
    net = rule.network(SIZES)
    state = net.init(jax.random.key(1))
    x, y = batch()
    new = net.step({"lr": np.float32(0.1), "gain": np.float32(0.5)}, state, x, y)

    w1, w2 = (np.asarray(w, np.float64) for w in state["w"])
    with_bias = lambda a: np.concatenate([a, np.ones((len(a), 1))], axis=1)  # noqa: E731 (the bias row is last)
    z1 = with_bias(x) @ w1
    h = np.tanh(z1)
    z2 = with_bias(h) @ w2
    delta_out = (np.tanh(z2) - y) * (1 - np.tanh(z2) ** 2)
    delta_hidden = (1 - np.tanh(z1) ** 2) * (0.5 * delta_out @ np.sign(w2[:-1]).T)  # gain sign(W)^T, not W^T
    np.testing.assert_allclose(new["w"][1], w2 - 0.1 * with_bias(h).T @ delta_out, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(new["w"][0], w1 - 0.1 * with_bias(x).T @ delta_hidden, rtol=1e-4, atol=1e-5)
    backprop_hidden = (1 - np.tanh(z1) ** 2) * (0.5 * delta_out @ w2[:-1].T)
    assert not np.allclose(new["w"][0], w1 - 0.1 * with_bias(x).T @ backprop_hidden, rtol=1e-3, atol=1e-4)
