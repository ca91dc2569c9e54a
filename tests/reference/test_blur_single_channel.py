"""blur_single_channel.rule's default preset is what its header says: feedback alignment towards relu_tanh targets,
through one weight per connection read by every state, checked against NumPy with no JAX in the reference."""

from __future__ import annotations

import jax
import numpy as np

import rulec
from tests.conftest import ROOT, with_bias

RULE = ROOT / "stdlib_rules" / "blur_single_channel.rule"
SIZES = (3, 4, 4, 2)


def relu_tanh(z: np.ndarray) -> np.ndarray:
    return np.maximum(np.tanh(z), 0.0)


def test_the_depth_preset_is_feedback_alignment_towards_relu_tanh_targets():
    rule = rulec.load(RULE)
    genome = rule.preset()
    eta, eta_w = float(genome["eta"]), float(genome["eta_w"])
    net = rule.network(SIZES)
    state = net.init(jax.random.key(0))
    rng = np.random.default_rng(0)
    x = rng.normal(size=(8, SIZES[0])).astype(np.float32)
    y = -np.ones((8, SIZES[-1]), np.float32)
    y[np.arange(8), rng.integers(0, SIZES[-1], 8)] = 1
    new = net.step(genome, state, x, y)

    w = [np.asarray(v, np.float64) for v in state["w"]]
    feedback = [np.asarray(v, np.float64) for v in state["wb"]]
    activity = [x.astype(np.float64)]
    for weights in w[:-1]:
        activity.append(relu_tanh(eta * with_bias(activity[-1]) @ weights))
    output = np.tanh(eta * with_bias(activity[-1]) @ w[-1])
    # errors[l]: target less activity at the upper layer of pair l; a hidden unit's target is relu_tanh of its
    # activity plus the error above sent down through the fixed feedback, and its activity is read as relu_tanh of
    # itself (the backward pass rewrites every state with its forget term, f = 1).
    errors = [y - output]
    for layer in range(len(SIZES) - 2, 0, -1):
        target = relu_tanh(activity[layer] + eta * errors[0] @ feedback[layer])
        errors.insert(0, target - relu_tanh(activity[layer]))
    pre = [activity[0]] + [relu_tanh(a) for a in activity[1:]]  # the input layer is never written backward
    for layer, weights in enumerate(w):
        step = eta_w / (SIZES[layer] + 1) * with_bias(pre[layer]).T @ errors[layer] / len(x)
        np.testing.assert_allclose(np.asarray(new["w"][layer]), weights + step, rtol=1e-5, atol=1e-6)
    for fixed, old in zip(new["wb"], feedback):
        np.testing.assert_array_equal(np.asarray(fixed, np.float64), old)


def test_the_depth_preset_trains_two_hidden_layers():
    """digits, 64-32-32-10, 100 steps: 0.955 when the preset was chosen (blur_scaled's depth-general genome: 0.83)."""
    result = rulec.train(RULE, data="digits", hidden=(32, 32), steps=100, baselines=())
    assert result.accuracy[100] > 0.9, result.accuracy
