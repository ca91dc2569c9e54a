"""backprop_xent.rule (tanh, `loss'` of `loss xent`) and backprop_relu.rule (`maximum`, `[z > 0]` and a
hand-written `softmax`) are SGD on the softmax cross-entropy, step for step.

The independent computation is `jax.grad` of optax's softmax cross-entropy, summed over the batch, of a plain
MLP with the rule's hidden activation and linear outputs, on the distribution (t + 1) / 2 of the +-1 targets,
applied with `optax.sgd`.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import rulec
from tests.conftest import ROOT

STEPS = 30


def xent_loss(params, x, y, activation):
    h = x
    for weight, bias in params[:-1]:
        h = activation(h @ weight + bias)
    logits = h @ params[-1][0] + params[-1][1]
    return jnp.sum(optax.softmax_cross_entropy(logits, (y + 1) / 2))


@pytest.mark.parametrize("rule, activation, sizes", [("backprop_xent", jnp.tanh, (6, 8, 7, 4)),
                                                     ("backprop_relu", jax.nn.relu, (6, 8, 7, 4)),
                                                     ("backprop_relu", jax.nn.relu, (5, 11, 3))])
def test_backprop_is_sgd_on_the_softmax_cross_entropy(rule, activation, sizes):
    net = rulec.load(ROOT / "stdlib_rules" / f"{rule}.rule").network(sizes)
    genome = net.init_genome(jax.random.key(0))
    state = net.init(jax.random.key(1))
    initial = state["w"]
    params = [(w[:-1], w[-1]) for w in state["w"]]
    optimiser = optax.sgd(float(genome["lr"]))
    opt_state = optimiser.init(params)
    rng = np.random.default_rng(0)
    rule_step = jax.jit(net.step)

    @jax.jit
    def sgd_step(params, opt_state, x, y):
        updates, opt_state = optimiser.update(jax.grad(xent_loss)(params, x, y, activation), opt_state)
        return optax.apply_updates(params, updates), opt_state

    for _ in range(STEPS):
        x = jnp.asarray(rng.normal(size=(16, sizes[0])), jnp.float32)
        y = jnp.asarray(-np.ones((16, sizes[-1])), jnp.float32).at[np.arange(16), rng.integers(0, sizes[-1], 16)].set(1.0)
        state = rule_step(genome, state, x, y)
        params, opt_state = sgd_step(params, opt_state, x, y)
    difference = max(float(jnp.max(jnp.abs(w - jnp.concatenate([p[0], p[1][None]])))) for w, p in zip(state["w"], params))
    moved = max(float(jnp.max(jnp.abs(w - w0))) for w, w0 in zip(state["w"], initial))
    assert moved > 0.01
    assert difference <= 1e-5
