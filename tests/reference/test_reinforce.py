"""reinforce.rule computes Williams' REINFORCE step, checked against NumPy with the same Bernoulli draws."""

from __future__ import annotations

import numpy as np

import rulec
from rulec.functions import elementwise_table
from rulec.ir.nodes import Role
from rulec.reference.interpreter import Reference
from tests.conftest import ROOT

SIZES = (3, 4, 2)


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def test_one_step_is_the_reinforce_update_with_a_running_baseline():
    rule = rulec.load(ROOT / "stdlib_rules" / "reinforce.rule")
    rng = np.random.default_rng(0)
    x = rng.normal(size=(6, SIZES[0]))
    t = -np.ones((6, SIZES[-1]))
    t[np.arange(6), rng.integers(0, SIZES[-1], 6)] = 1
    w0, w1 = rng.normal(size=(SIZES[0] + 1, SIZES[1])), rng.normal(size=(SIZES[1] + 1, SIZES[2]))
    fired = {layer: rng.random((6, size)) < 0.5 for layer, size in enumerate(SIZES)}  # the draws, per layer
    genome, baseline = {"lr": 0.7, "lr_out": 0.3, "rate": 0.2}, -0.4

    def draw(e, roles, shape):
        assert e.distribution == "bernoulli" and shape == fired[roles[Role.POST]].shape
        return fired[roles[Role.POST]].astype(float)

    reference = Reference(rule.program, SIZES, elementwise_table(np), draw=draw)
    synapses, neurons = reference.step(genome, {"w": [w0, w1]}, x, t, persistent={"baseline": baseline})

    with_bias = lambda a: np.concatenate([a, np.ones((len(a), 1))], axis=1)  # noqa: E731
    p = sigmoid(with_bias(x) @ w0)
    s = fired[1].astype(float)
    y = np.tanh(with_bias(s) @ w1)
    reward = -np.sum((y - t) ** 2, axis=1) / 2  # the negative summed squared error, per example
    hidden = w0 + 0.7 * with_bias(x).T @ ((reward - baseline)[:, None] * (s - p)) / len(x)
    output = w1 - 0.3 * with_bias(s).T @ ((y - t) * (1 - y ** 2)) / len(x)
    np.testing.assert_allclose(synapses["w"][0], hidden, atol=1e-12)
    np.testing.assert_allclose(synapses["w"][1], output, atol=1e-12)
    # The baseline moved once, after both layers read the old one.
    np.testing.assert_allclose(neurons["baseline"], baseline + 0.2 * (reward.mean() - baseline), atol=1e-12)
