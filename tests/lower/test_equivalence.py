"""The JAX lowering against the NumPy reference interpreter: every stdlib rule, random genomes, three shapes."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from rulec.api import source_major
from rulec.functions import elementwise_table
from rulec.reference.interpreter import Reference
from tests.conftest import load_stdlib, reference_run

SHAPES = [(3, 2), (6, 5, 3), (6, 5, 4, 3)]
NUMPY_FUNCTIONS = elementwise_table(np)


def run_both(path, sizes, dtype, steps=5, seed=0):
    rule = load_stdlib(path)
    net = rule.network(sizes)
    genome = net.init_genome(jax.random.key(seed), dtype)
    state = net.init(jax.random.key(seed + 1), dtype)
    reference = Reference(rule.program, sizes, NUMPY_FUNCTIONS)
    rng = np.random.default_rng(seed)
    xs = rng.normal(size=(steps, 8, sizes[0]))
    ys = np.where(rng.random((steps, 8, sizes[-1])) < 0.5, -1.0, 1.0)
    ref_state, _ = reference_run(reference, genome, state, xs, ys)
    step = jax.jit(net.step)
    for x, y in zip(xs, ys):
        state = step(genome, state, jnp.asarray(x, dtype), jnp.asarray(y, dtype))
    return state, ref_state


def max_difference(state, ref_state) -> float:
    """The largest difference in the synapses and persistent neurons of the lowering and the reference."""
    pairs = [(source_major(a), b) for name in ref_state.synapses
             for a, b in zip(state.synapses[name], ref_state.synapses[name])]
    # Persistent neurons (an array per layer) and persistent scalars (one array each), leaf by leaf.
    pairs += list(zip(jax.tree.leaves(state.neurons), jax.tree.leaves(ref_state.neurons), strict=True))
    return max(float(np.max(np.abs(np.asarray(a, np.float64) - b))) for a, b in pairs)


@pytest.mark.parametrize("sizes", SHAPES, ids=lambda s: "-".join(map(str, s)))
def test_jax_matches_the_reference_in_float64(stdlib_rule, sizes):
    with jax.enable_x64(True):
        state, ref_state = run_both(stdlib_rule, sizes, jnp.float64)
    assert max_difference(state, ref_state) < 1e-5


@pytest.mark.parametrize("sizes", SHAPES[1:2], ids=lambda s: "-".join(map(str, s)))
def test_jax_float32_tracks_the_reference(stdlib_rule, sizes):
    state, ref_state = run_both(stdlib_rule, sizes, jnp.float32)
    assert all(a.dtype == jnp.float32 for arrays in state.synapses.values() for a in arrays)
    assert max_difference(state, ref_state) < 1e-4
