"""The NumPy reference interpreter checked on its own, against hand-written NumPy with no JAX in the loop."""

from __future__ import annotations

import numpy as np

import rulec
from rulec.functions import elementwise_table
from rulec.reference.interpreter import Reference

NUMPY_FUNCTIONS = elementwise_table(np)


def test_the_reference_reproduces_a_finite_difference_gradient_step():
    """An independent check of the reference itself, with no JAX: backprop.rule is one SGD step."""
    rule = rulec.load("stdlib_rules/backprop.rule")
    rng = np.random.default_rng(0)
    weights = [rng.normal(size=(4, 4)), rng.normal(size=(5, 2))]
    x, y = rng.normal(size=(5, 3)), np.sign(rng.normal(size=(5, 2)))
    new, _ = Reference(rule.program, (3, 4, 2), NUMPY_FUNCTIONS).step({"lr": np.asarray(0.1)}, {"w": weights}, x, y)

    def loss(w0, w1):
        hidden = np.tanh(np.c_[x, np.ones(5)] @ w0)
        return 0.5 * np.sum((np.tanh(np.c_[hidden, np.ones(5)] @ w1) - y) ** 2)

    for layer in range(2):
        gradient = np.zeros_like(weights[layer])
        for index in np.ndindex(weights[layer].shape):
            plus, minus = [w.copy() for w in weights], [w.copy() for w in weights]
            plus[layer][index] += 1e-6
            minus[layer][index] -= 1e-6
            gradient[index] = (loss(*plus) - loss(*minus)) / 2e-6
        np.testing.assert_allclose(new["w"][layer], weights[layer] - 0.1 * gradient, atol=1e-8)
