"""Genome specialisation changes the program, never the numbers."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import rulec
from rulec.ir import nodes as ir
from rulec.ir.nodes import walk
from rulec.ir.specialize import specialize
from rulec.syntax.ast import PhaseKind
from tests.conftest import load_stdlib, state_arrays

SIZES = (5, 7, 6, 3)


def test_specialised_steps_equal_generic_steps(stdlib_rule):
    rule = load_stdlib(stdlib_rule)
    generic = rule.network(SIZES)
    genome = generic.init_genome(jax.random.key(0))
    special = rule.network(SIZES, specialize=genome)
    state = generic.init(jax.random.key(1))
    rng = np.random.default_rng(0)
    for _ in range(3):
        x = jnp.asarray(rng.normal(size=(4, SIZES[0])), jnp.float32)
        y = jnp.asarray(np.where(rng.random((4, SIZES[-1])) < 0.5, -1.0, 1.0), jnp.float32)
        a, b = generic.step(genome, state, x, y), special.step(genome, state, x, y)
        for u, v in zip(state_arrays(a), state_arrays(b)):
            np.testing.assert_allclose(u, v, rtol=1e-5, atol=1e-5)
        state = a


def loads(program, kind):
    return [e for p in program.phases for s in p.statements for e in walk(s.value)
            if isinstance(e, ir.Load) and e.kind is kind]


def test_backprop_preset_leaves_no_genome_and_no_state_sums():
    rule = rulec.load("stdlib_rules/blur_two_state.rule")
    program = specialize(rule.program, jax.tree.map(np.asarray, rule.preset("backprop")))
    assert loads(program, ir.Source.GENOME) == []
    forward = program.phase(PhaseKind.FORWARD)
    reductions = [e for s in forward.statements for e in walk(s.value) if isinstance(e, ir.Reduce)]
    # one contraction per state, over neurons only: sum(i) w[i, j] * a[i, 0]
    assert reductions and all(r.axes == ("i",) for r in reductions)
    assert all(len([f for f in walk(r.body) if isinstance(f, ir.Load)]) == 2 for r in reductions)


@pytest.mark.parametrize("k", [2, 3])
def test_zero_entries_drop_terms(k):
    rule = rulec.load("stdlib_rules/blur.rule", k=k)
    genome = jax.tree.map(np.asarray, rule.init_genome(jax.random.key(0)))
    genome["nu"] = np.eye(k, dtype=np.float32)
    program = specialize(rule.program, genome)
    forward = program.phases[1]
    z = [s for s in forward.statements if isinstance(s, ir.Let)]
    assert len(z) == k  # unrolled over the k states
    for let in z:
        reductions = [e for e in walk(let.value) if isinstance(e, ir.Reduce)]
        assert len(reductions) == 1  # the identity mixing keeps one term of the k
