"""The NumPy reference interpreter checked on its own, against hand-written NumPy with no JAX in the loop."""

from __future__ import annotations

import numpy as np

import rulec
from rulec.functions import elementwise_table
from rulec.reference.interpreter import Reference
from tests.conftest import with_bias

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


def test_feedback_alignment_is_its_equations():
    """feedback_alignment.rule: errors travel down through the fixed B, top-down, never into the input layer."""
    rule = rulec.load("stdlib_rules/feedback_alignment.rule")
    rng = np.random.default_rng(1)
    w = [rng.normal(size=(4, 4)), rng.normal(size=(5, 2))]
    feedback = [rng.normal(size=(4, 3)), rng.normal(size=(2, 4))]
    x, y = rng.normal(size=(6, 3)), np.sign(rng.normal(size=(6, 2)))
    new, _ = Reference(rule.program, (3, 4, 2), NUMPY_FUNCTIONS).step({"lr": np.asarray(0.1)},
                                                                      {"w": w, "B": feedback}, x, y)
    hidden = np.tanh(with_bias(x) @ w[0])
    output = np.tanh(with_bias(hidden) @ w[1])
    output_error = (output - y) * (1 - output ** 2)
    hidden_error = (1 - hidden ** 2) * (output_error @ feedback[1])
    np.testing.assert_allclose(new["w"][1], w[1] - 0.1 * with_bias(hidden).T @ output_error, atol=1e-12)
    np.testing.assert_allclose(new["w"][0], w[0] - 0.1 * with_bias(x).T @ hidden_error, atol=1e-12)
    for fixed, old in zip(new["B"], feedback):
        np.testing.assert_array_equal(fixed, old)


def test_oja_is_its_equations():
    """oja.rule: with the output clamped to the target, dw_ij = eta * mean over the batch of y_j (x_i - y_j w_ij),
    the bias unit a constant 1 among the x_i."""
    rule = rulec.load("stdlib_rules/oja.rule")
    rng = np.random.default_rng(2)
    w = [rng.normal(size=(4, 4)), rng.normal(size=(5, 2))]
    x, y = rng.normal(size=(6, 3)), np.sign(rng.normal(size=(6, 2)))
    new, _ = Reference(rule.program, (3, 4, 2), NUMPY_FUNCTIONS).step({"eta": np.asarray(0.05)}, {"w": w}, x, y)
    hidden = np.tanh(with_bias(x) @ w[0])
    for layer, (pre, post) in enumerate([(x, hidden), (hidden, y)]):
        expected = w[layer] + 0.05 * (with_bias(pre).T @ post / 6 - w[layer] * np.mean(post ** 2, axis=0))
        np.testing.assert_allclose(new["w"][layer], expected, atol=1e-12)
