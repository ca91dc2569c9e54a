"""Exact backprop: backprop.rule, and the two-state template under preset `backprop`, are SGD step for step.

The independent computation is `jax.grad` of the summed squared error of a plain sigmoid MLP, applied with
`optax.sgd`, starting from the same weights and seeing the same batches.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import rulec
from tests.lower.sgd_side_by_side import largest_gap_and_move, rule_and_sgd

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
    return rule_and_sgd(net, genome, learning_rate, functools.partial(mlp_loss, activation=activation),
                        lambda rng, batch, outputs: np.where(rng.random((batch, outputs)) < 0.5, -1.0, 1.0), STEPS)


@pytest.mark.parametrize("sizes", [(6, 8, 3), (6, 8, 7, 5, 3)], ids=["1-hidden", "3-hidden"])
@pytest.mark.parametrize("path, preset", [("stdlib_rules/backprop.rule", None),
                                          ("stdlib_rules/blur_two_state.rule", "backprop")],
                         ids=["backprop.rule", "blur_two_state@backprop"])
def test_rule_is_sgd_for_fifty_steps(path, preset, sizes):
    difference, moved = largest_gap_and_move(*sgd_and_rule(path, sizes, preset))
    assert moved > 0.01  # training did change the weights
    assert difference <= 1e-5
