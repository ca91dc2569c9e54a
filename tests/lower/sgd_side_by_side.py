"""A rule's network stepped beside `optax.sgd` on `jax.grad` of a loss, from the same weights and on the same
batches: the independent computation of the exact-backprop tests."""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np
import optax


def rule_and_sgd(net, genome, learning_rate: float, loss: Callable, targets: Callable, steps: int):
    """(initial weights, the rule's weights, SGD's (weight, bias) pairs) after `steps` steps of batch 16;
    `loss(params, x, y)` is SGD's loss, `targets(rng, batch, outputs)` draws the +-1 targets."""
    state = net.init(jax.random.key(1))
    initial = state.synapses["w"]
    params = [(w[:-1], w[-1]) for w in initial]
    optimiser = optax.sgd(learning_rate)
    opt_state = optimiser.init(params)
    rng = np.random.default_rng(0)
    rule_step = jax.jit(net.step)

    @jax.jit
    def sgd_step(params, opt_state, x, y):
        updates, opt_state = optimiser.update(jax.grad(loss)(params, x, y), opt_state)
        return optax.apply_updates(params, updates), opt_state

    for _ in range(steps):
        x = jnp.asarray(rng.normal(size=(16, net.sizes[0])), jnp.float32)
        y = jnp.asarray(targets(rng, 16, net.sizes[-1]), jnp.float32)
        state = rule_step(genome, state, x, y)
        params, opt_state = sgd_step(params, opt_state, x, y)
    return initial, state.synapses["w"], params


def largest_gap_and_move(initial, weights, params) -> tuple[float, float]:
    """The largest difference between the rule's weights and SGD's, and the largest change of the rule's."""
    gap = max(float(jnp.max(jnp.abs(w - jnp.concatenate([p[0], p[1][None]])))) for w, p in zip(weights, params))
    moved = max(float(jnp.max(jnp.abs(w - w0))) for w, w0 in zip(weights, initial))
    return gap, moved
