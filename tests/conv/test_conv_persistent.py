"""Persistent state on a convolutional network: a persistent scalar (one number per network, written once a step
at the update's output instance, which is dense) runs and equals the NumPy reference; a persistent neuron, on any
layer, is refused with a located error."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import rulec
from rulec.diagnostics import RuleError
from rulec.functions import elementwise_table
from rulec.reference.interpreter import Reference
from tests.conftest import reference_run
from tests.lower.test_equivalence import max_difference

BACKPROP = """rule persistent_on_conv
genome
  lr = 0.1; rate = 0.5
loss mse
neuron a[2]
{declaration}
synapse w : pre+bias -> post ~ uniform(-1, 1) / sqrt(fan_in)
bias 1
input (i in input)
  a[i, 0] := x[i]
forward (i in pre+bias, j in post)
  let z[j] = sum(i) w[i, j] * a[i, 0]
  a[j, 0] := tanh(z[j])
  a[j, 1] := tanh'(z[j])
feedback (j in output)
  a[j, 1] := loss'(a[j, 0], target[j]) * a[j, 1]
backward (i in pre, j in post)
  a[i, 1] := a[i, 1] * sum(j) w[i, j] * a[j, 1]
update (i in pre+bias, j in post)
  w[i, j] := w[i, j] - lr / (1 + {read}) * sum(batch) a[i, 0] * a[j, 1]
  {write}
"""
LAYERS = [(4, 4, 1), rulec.Conv(2, 2), 3]  # stride 1: overlapping patches, padded after the image
# The learning rate shrinks with a running average of the output's energy, read by every pair, convolutions too.
SCALAR = BACKPROP.format(declaration="persistent energy = 0", read="energy",
                         write="energy := energy + rate * (mean(batch) sum(j) a[j, 0]^2 - energy)")
# The same, kept per output neuron: a persistent neuron, though only the dense output layer writes it.
NEURON = BACKPROP.format(declaration="neuron energy persistent = 0", read="energy[j]",
                         write="energy[j] := energy[j] + rate * (mean(batch) a[j, 0]^2 - energy[j])  for j in output")


def test_a_persistent_scalar_on_a_convnet_equals_the_reference():
    rule = rulec.loads(SCALAR)
    with jax.enable_x64(True):
        net = rule.network(LAYERS)
        genome = net.init_genome(jax.random.key(0), jnp.float64)
        state = net.init(jax.random.key(1), jnp.float64)
        rng = np.random.default_rng(0)
        xs = rng.normal(size=(2, 2, net.sizes[0]))  # two steps of a batch of 2: the second reads the moved scalar
        ys = np.where(rng.random((2, 2, net.sizes[-1])) < 0.5, -1.0, 1.0)
        expected, _ = reference_run(Reference(rule.program, net.geometry, elementwise_table(np)), genome, state,
                                    xs, ys)
        step = jax.jit(net.step)
        for x, y in zip(xs, ys):
            state = step(genome, state, jnp.asarray(x), jnp.asarray(y))
    assert np.shape(state.neurons["energy"]) == () and float(state.neurons["energy"]) > 0
    assert max_difference(state, expected) < 1e-10


def test_a_persistent_neuron_on_a_convnet_is_refused_at_its_declaration():
    rule = rulec.loads(NEURON)
    rule.network([16, 4, 3])  # an MLP takes it
    with pytest.raises(RuleError) as refused:
        rule.network(LAYERS)
    (diagnostic,) = refused.value.diagnostics
    assert diagnostic.code == "convolution" and diagnostic.span.line == 6
    assert "the persistent neuron `energy` cannot live on a convolutional layer" in diagnostic.message
