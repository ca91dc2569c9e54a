"""Every stdlib rule on a tiny convolutional network: the JAX lowering against the NumPy reference, which cuts
patches with explicit index tables; a rule that cannot run on a convolution is refused with a located error.

Two convolutions, so that a hidden layer's patches are folded back (backward phases never write the input): a
stride-2 one without padding, then a stride-1 one whose overlapping patches are padded after the image."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import rulec
from rulec.diagnostics import RuleError
from rulec.functions import elementwise_table
from rulec.reference.interpreter import Reference
from tests.conftest import load_stdlib, reference_run
from tests.lower.test_equivalence import max_difference

LAYERS = [(4, 4, 1), rulec.Conv(2, 2, stride=2), rulec.Conv(2, 2), 3]
REFUSED = {"bcm": "persistent neuron", "backprop_skip": "binds `r in input`",
           "weight_mirror": "a draw over the pre index", "reinforce": "binds `k in output` besides its pair"}


def test_jax_matches_the_reference_on_a_convnet(stdlib_rule):
    rule = load_stdlib(stdlib_rule)
    if stdlib_rule.stem in REFUSED:
        with pytest.raises(RuleError) as refused:
            rule.network(LAYERS)
        assert {d.code for d in refused.value.diagnostics} == {"convolution"}
        assert REFUSED[stdlib_rule.stem] in refused.value.diagnostics[0].message
        return
    assert difference_from_reference(rule, signed_targets=True) < 1e-8


def difference_from_reference(rule, signed_targets: bool = False) -> float:
    """The largest difference between two jitted steps of `rule` on LAYERS, in float64, and the NumPy reference's;
    the targets are +-1 or, without `signed_targets`, normal draws."""
    with jax.enable_x64(True):
        net = rule.network(LAYERS)
        genome = net.init_genome(jax.random.key(0), jnp.float64)
        state = net.init(jax.random.key(1), jnp.float64)
        reference = Reference(rule.program, net.geometry, elementwise_table(np))
        rng = np.random.default_rng(0)
        xs = rng.normal(size=(2, 2, net.sizes[0]))  # two steps of a batch of 2
        shape = (2, 2, net.sizes[-1])
        ys = np.where(rng.random(shape) < 0.5, -1.0, 1.0) if signed_targets else rng.normal(size=shape)
        ref_state, _ = reference_run(reference, genome, state, xs, ys)
        step = jax.jit(net.step)  # the complete step: an unroll leaves the synapses nothing reads as they were
        for x, y in zip(xs, ys):
            state = step(genome, state, jnp.asarray(x), jnp.asarray(y))
    return max_difference(state, ref_state)
