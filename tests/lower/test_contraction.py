"""The two forms of a contraction with a state-mixing matrix (rulec/lower/contraction.py) give the reference's
numbers for large k, and the FLOP model picks mixing the activations first on BLUR's contractions."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import rulec
from rulec.api import source_major
from rulec.functions import elementwise_table
from rulec.reference.interpreter import Reference
from tests.ir.test_liveness import random_like

SIZES = (6, 5, 4, 3)


@pytest.mark.parametrize("form", ["mix", "fold"])
@pytest.mark.parametrize("k", [4, 8])
def test_both_forms_match_the_reference(k, form):
    rule = rulec.load("stdlib_rules/blur.rule", k=k)
    net = rule.network(SIZES, contraction=form)
    rng = np.random.default_rng(k)
    with jax.enable_x64(True):
        genome, state = random_like(net.init_genome, rng), random_like(net.init, rng)
        x, y = jnp.asarray(rng.normal(size=(8, SIZES[0]))), jnp.asarray(np.sign(rng.normal(size=(8, SIZES[-1]))))
        ours = jax.jit(net.step)(genome, state, x, y)
        reference = Reference(rule.program, SIZES, elementwise_table(np))
        theirs, _ = reference.step(jax.tree.map(np.asarray, genome),
                                   {n: [np.asarray(source_major(a)) for a in v] for n, v in state.synapses.items()},
                                   x, y)
    for name in theirs:
        for a, b in zip(ours.synapses[name], theirs[name]):
            np.testing.assert_allclose(source_major(a), b, atol=1e-9)


def test_the_model_mixes_activations_first_on_blur():
    """Folding into the weights costs k times the FLOPs of the per-channel matmuls; `auto` must not pick it."""
    rule = rulec.load("stdlib_rules/blur.rule", k=4)
    programs = []
    for form in ("auto", "mix", "fold"):
        net = rule.network((784, 256, 10), contraction=form)
        genome, state = (jax.eval_shape(lambda: init(jax.random.key(0))) for init in (net.init_genome, net.init))
        x, y = jax.ShapeDtypeStruct((128, 784), jnp.float32), jax.ShapeDtypeStruct((128, 10), jnp.float32)
        programs.append(str(jax.make_jaxpr(net.step)(genome, state, x, y)))
    assert programs[0] == programs[1] != programs[2]


def test_an_unknown_form_is_refused():
    with pytest.raises(ValueError, match="contraction must be one of auto, mix, fold, got 'big'"):
        rulec.load("stdlib_rules/blur.rule", k=2).network((3, 2), contraction="big")
