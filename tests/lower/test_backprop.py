"""Exact backprop: backprop.rule, and the two-state template under preset `backprop`, are SGD step for step.

The independent computation is `jax.grad` of the summed squared error of a plain sigmoid MLP, applied with
`optax.sgd`, starting from the same weights and seeing the same batches.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import rulec

STEPS = 50
ACTIVATIONS = {"backprop.rule": jnp.tanh, "blur_two_state.rule": jax.nn.sigmoid}


def mlp_loss(params, x, y, activation):
    h = x
    for weight, bias in params:
        h = activation(h @ weight + bias)
    return 0.5 * jnp.sum((h - y) ** 2)


def sgd_and_rule(path: str, sizes, preset: str | None):
    rule = rulec.load(path)
    net = rule.network(sizes)
    genome = rule.preset(preset) if preset else net.init_genome(jax.random.key(0))
    learning_rate = float(-genome["eta_w"]) if preset else float(genome["lr"])
    activation = ACTIVATIONS[path.rsplit("/", 1)[-1]]
    state = net.init(jax.random.key(1))
    initial = state.synapses["w"]
    params = [(w[:-1], w[-1]) for w in state.synapses["w"]]
    optimiser = optax.sgd(learning_rate)
    opt_state = optimiser.init(params)
    rng = np.random.default_rng(0)
    rule_step = jax.jit(net.step)

    @jax.jit
    def sgd_step(params, opt_state, x, y):
        updates, opt_state = optimiser.update(jax.grad(mlp_loss)(params, x, y, activation), opt_state)
        return optax.apply_updates(params, updates), opt_state

    for _ in range(STEPS):
        x = jnp.asarray(rng.normal(size=(16, sizes[0])), jnp.float32)
        y = jnp.asarray(np.where(rng.random((16, sizes[-1])) < 0.5, -1.0, 1.0), jnp.float32)
        state = rule_step(genome, state, x, y)
        params, opt_state = sgd_step(params, opt_state, x, y)
    return initial, state.synapses["w"], params


@pytest.mark.parametrize("sizes", [(6, 8, 3), (6, 8, 7, 5, 3)], ids=["1-hidden", "3-hidden"])
@pytest.mark.parametrize("path, preset", [("stdlib_rules/backprop.rule", None),
                                          ("stdlib_rules/blur_two_state.rule", "backprop")],
                         ids=["backprop.rule", "blur_two_state@backprop"])
def test_rule_is_sgd_for_fifty_steps(path, preset, sizes):
    initial, weights, params = sgd_and_rule(path, sizes, preset)
    difference = max(float(jnp.max(jnp.abs(w - jnp.concatenate([p[0], p[1][None]])))) for w, p in zip(weights, params))
    moved = max(float(jnp.max(jnp.abs(w - w0))) for w, w0 in zip(weights, initial))
    assert moved > 0.01  # training did change the weights
    assert difference <= 1e-5
