"""backprop.rule on a convolutional network is exactly SGD: step for step, its kernels equal those of `optax.sgd`
on `jax.grad` of the same network written with `lax.conv_general_dilated` (two convolutions, stride 1 and 2, a
dense read-out), from the same weights and on the same batches. Tiny images and few steps: the identity is exact,
so it shows at any size."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import rulec

LAYERS = [(4, 4, 1), rulec.Conv(2, 3, stride=1), rulec.Conv(3, 3, stride=2), 3]
STEPS = 3
BATCH = 2


def to_lax(kernel, conv: rulec.Conv):
    """A rule kernel [in-channels x k x k + bias, out] -> (HWIO kernel, bias)."""
    channels = (kernel.shape[0] - 1) // conv.kernel ** 2
    weights = kernel[:-1].reshape(channels, conv.kernel, conv.kernel, conv.channels)
    return jnp.transpose(weights, (1, 2, 0, 3)), kernel[-1]


def convnet_loss(params, x, y):
    h = x.reshape(x.shape[0], *LAYERS[0])
    for (kernel, bias), conv in zip(params[:-1], LAYERS[1:-1]):
        h = jnp.tanh(jax.lax.conv_general_dilated(h, kernel, (conv.stride,) * 2, "SAME",
                                                  dimension_numbers=("NHWC", "HWIO", "NHWC")) + bias)
    weight, bias = params[-1]
    h = jnp.tanh(h.reshape(h.shape[0], -1) @ weight + bias)
    return 0.5 * jnp.sum((h - y) ** 2)


def largest_gap(dtype) -> tuple[float, float]:
    """(the largest difference between the rule's weights and SGD's over all steps, the largest change)."""
    rule = rulec.load("stdlib_rules/backprop.rule")
    net = rule.network(LAYERS)
    genome = net.init_genome(jax.random.key(0), dtype)
    state = net.init(jax.random.key(1), dtype)
    initial = state.synapses["w"]
    params = [to_lax(w, conv) for w, conv in zip(initial[:-1], LAYERS[1:-1])] + [(initial[-1][:-1], initial[-1][-1])]
    optimiser = optax.sgd(float(genome["lr"]))
    opt_state = optimiser.init(params)
    rng = np.random.default_rng(0)
    gap = 0.0
    rule_step = jax.jit(net.step)

    @jax.jit
    def sgd_step(params, opt_state, x, y):
        updates, opt_state = optimiser.update(jax.grad(convnet_loss)(params, x, y), opt_state)
        return optax.apply_updates(params, updates), opt_state

    for _ in range(STEPS):
        x = jnp.asarray(rng.normal(size=(BATCH, net.sizes[0])), dtype)
        y = jnp.asarray(np.where(rng.random((BATCH, net.sizes[-1])) < 0.5, -1.0, 1.0), dtype)
        state = rule_step(genome, state, x, y)
        params, opt_state = sgd_step(params, opt_state, x, y)
        ours = [to_lax(w, conv) for w, conv in zip(state.synapses["w"][:-1], LAYERS[1:-1])]
        ours.append((state.synapses["w"][-1][:-1], state.synapses["w"][-1][-1]))
        gap = max([gap] + [float(jnp.max(jnp.abs(a - b))) for a, b in zip(jax.tree.leaves(ours),
                                                                           jax.tree.leaves(params))])
    moved = max(float(jnp.max(jnp.abs(a - b))) for a, b in zip(state.synapses["w"], initial))
    return gap, moved


@pytest.mark.parametrize("dtype, tolerance", [("float32", 1e-5), ("float64", 1e-10)])
def test_backprop_on_a_convnet_is_sgd(dtype, tolerance):
    with jax.enable_x64(dtype == "float64"):
        gap, moved = largest_gap(jnp.dtype(dtype))
    assert moved > 1e-3
    assert gap <= tolerance


def test_the_sgd_baseline_on_a_convnet_is_backprop_on_the_same_convnet():
    """`rulec train`'s SGD baseline on convolutional --layers is the rule's network: from backprop.rule's weights,
    at its rate and loss (tanh-mse), its test accuracy follows the rule's curve on digits."""
    from rulec.data import datasets
    from rulec.data.inputs import DEFAULT_INPUTS, standardise
    from rulec.runtime.train import batch_indices, train_baseline, train_rule

    data = standardise(datasets.load("digits"), DEFAULT_INPUTS)
    layers = [data.image, rulec.Conv(3, 3, stride=2), 10]
    rule = rulec.load("stdlib_rules/backprop.rule")
    net = rule.network(layers)
    genome, state = net.init_genome(jax.random.key(0)), net.init(jax.random.key(1))
    indices = batch_indices(len(data.x_train), 20, 16, 0)
    curve, _ = train_rule(net, genome, state, data, indices)
    kernel, dense = state.synapses["w"]
    params = [to_lax(kernel, layers[1]), (dense[:-1], dense[-1])]
    baseline = train_baseline("sgd", params, data, indices, [float(genome["lr"])], "tanh-mse", net.geometry)[0]
    np.testing.assert_allclose(curve.accuracy, baseline, atol=1.5 / len(data.x_test))  # at most one example
    assert curve.accuracy[-1] > curve.accuracy[0]
