"""backprop_xent.rule (tanh, `loss'` of `loss xent`) and backprop_relu.rule (`maximum`, `[z > 0]` and a
hand-written `softmax`) are SGD on the softmax cross-entropy, step for step.

The independent computation is `jax.grad` of optax's softmax cross-entropy, summed over the batch, of a plain
MLP with the rule's hidden activation and linear outputs, on the distribution (t + 1) / 2 of the +-1 targets,
applied with `optax.sgd`.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import rulec
from tests.conftest import ROOT
from tests.lower.sgd_side_by_side import largest_gap_and_move, rule_and_sgd

STEPS = 30


def xent_loss(params, x, y, activation):
    h = x
    for weight, bias in params[:-1]:
        h = activation(h @ weight + bias)
    logits = h @ params[-1][0] + params[-1][1]
    return jnp.sum(optax.softmax_cross_entropy(logits, (y + 1) / 2))


def one_hot_targets(rng, batch: int, outputs: int) -> np.ndarray:
    return np.where(np.arange(outputs) == rng.integers(0, outputs, batch)[:, None], 1.0, -1.0)


@pytest.mark.parametrize("rule, activation, sizes", [("backprop_xent", jnp.tanh, (6, 8, 7, 4)),
                                                     ("backprop_relu", jax.nn.relu, (6, 8, 7, 4)),
                                                     ("backprop_relu", jax.nn.relu, (5, 11, 3))])
def test_backprop_is_sgd_on_the_softmax_cross_entropy(rule, activation, sizes):
    net = rulec.load(ROOT / "stdlib_rules" / f"{rule}.rule").network(sizes)
    genome = net.init_genome(jax.random.key(0))
    loss = functools.partial(xent_loss, activation=activation)
    difference, moved = largest_gap_and_move(*rule_and_sgd(net, genome, float(genome["lr"]), loss, one_hot_targets,
                                                           STEPS))
    assert moved > 0.01
    assert difference <= 1e-5
