"""The embedding API composes with jit, vmap and grad, as design section 4 promises."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import rulec
from rulec.diagnostics import RuleError

SIZES = (6, 10, 3)


def batches(steps, batch=8, seed=0):
    rng = np.random.default_rng(seed)
    xs = rng.normal(size=(steps, batch, SIZES[0]))
    labels = rng.integers(0, SIZES[-1], size=(steps, batch))
    ys = np.where(np.eye(SIZES[-1])[labels] > 0, 1.0, -1.0)
    return jnp.asarray(xs, jnp.float32), jnp.asarray(ys, jnp.float32)


def test_population_unroll_and_meta_gradient():
    """jit(vmap(unroll)) over a population of genomes and synapse inits, then grad of a meta-loss."""
    rule = rulec.load("stdlib_rules/blur.rule", k=2)
    net = rule.network(SIZES)
    population = 4
    genomes = jax.vmap(rule.init_genome)(jax.random.split(jax.random.key(0), population))
    states = jax.vmap(net.init)(jax.random.split(jax.random.key(1), population))
    xs, ys = batches(6)

    unrolled = jax.jit(jax.vmap(net.unroll, in_axes=(0, 0, None, None)))(genomes, states, xs, ys)
    assert unrolled.synapses["w"][0].shape == (population, 2, SIZES[0] + 1, SIZES[1])

    def meta_loss(genome, state):
        final = net.unroll(genome, state, xs, ys)
        logits = net.predict(genome, final, xs[-1])
        return optax.softmax_cross_entropy(logits, (ys[-1] + 1) / 2).mean()

    grads = jax.jit(jax.vmap(jax.grad(meta_loss)))(genomes, states)
    assert set(grads) == set(genomes)
    assert grads["nu"].shape == (population, 2, 2)
    assert all(bool(jnp.all(jnp.isfinite(g))) for g in jax.tree.leaves(grads))
    assert float(jnp.abs(grads["nu"]).sum()) > 0


def test_unroll_equals_repeated_steps():
    rule = rulec.load("stdlib_rules/blur_symmetric.rule", k=2)
    net = rule.network(SIZES)
    genome, state = rule.init_genome(jax.random.key(0)), net.init(jax.random.key(1))
    xs, ys = batches(4)
    looped = state
    for x, y in zip(xs, ys):
        looped = net.step(genome, looped, x, y)
    scanned = jax.jit(net.unroll)(genome, state, xs, ys)
    for a, b in zip(looped.synapses["w"], scanned.synapses["w"]):
        np.testing.assert_allclose(a, b, atol=1e-6)


def test_float64_is_available():
    with jax.enable_x64(True):
        rule = rulec.load("stdlib_rules/backprop.rule")
        net = rule.network(SIZES)
        state = net.init(jax.random.key(0), jnp.float64)
        genome = net.init_genome(jax.random.key(1), jnp.float64)
        x, y = batches(1)
        new = net.step(genome, state, jnp.asarray(x[0], jnp.float64), jnp.asarray(y[0], jnp.float64))
        assert new.synapses["w"][0].dtype == jnp.float64


def test_specialized_network_gives_the_same_steps():
    rule = rulec.load("stdlib_rules/blur_two_state.rule")
    genome = rule.preset("backprop")
    generic, special = rule.network(SIZES), rule.network(SIZES, specialize=genome)
    state = generic.init(jax.random.key(0))
    x, y = batches(1)
    a = generic.step(genome, state, x[0], y[0])
    b = special.step(None, state, x[0], y[0])
    np.testing.assert_allclose(a.synapses["w"][0], b.synapses["w"][0], atol=1e-6)


def test_loads_from_text_and_dims_override():
    rule = rulec.loads(open("stdlib_rules/blur.rule").read(), "blur.rule", k=3)
    assert rule.dims == {"k": 3}
    assert rule.init_genome(jax.random.key(0))["nu"].shape == (3, 3)


def test_per_synapse_genomes_come_from_the_network():
    rule = rulec.load("stdlib_rules/abcd_hebbian.rule")
    with pytest.raises(RuleError, match="per-synapse genome"):
        rule.init_genome(jax.random.key(0))
    genome = rule.network(SIZES).init_genome(jax.random.key(0))
    assert [a.shape for a in genome["A"]] == [(SIZES[0] + 1, SIZES[1]), (SIZES[1] + 1, SIZES[2])]


def test_unknown_preset_is_a_rule_error():
    with pytest.raises(RuleError, match="has no preset `nope`"):
        rulec.load("stdlib_rules/blur_two_state.rule").preset("nope")


def test_load_reports_located_errors():
    with pytest.raises(RuleError) as caught:
        rulec.loads("rule r\nneuron a\n", "r.rule")
    assert caught.value.span.location.startswith("r.rule:")


@pytest.mark.parametrize("steps", [7, 9])
def test_rematerialised_unroll_gives_the_same_values_and_gradients(steps):
    rule = rulec.load("stdlib_rules/blur.rule", k=2)
    net = rule.network(SIZES)
    genome, state = rule.init_genome(jax.random.key(0)), net.init(jax.random.key(1))
    xs, ys = batches(steps)

    def meta_loss(genome, remat):
        final = net.unroll(genome, state, xs, ys, remat=remat)
        return jnp.sum(net.predict(genome, final, xs[0]) ** 2)

    plain, remat = jax.grad(meta_loss)(genome, False), jax.grad(meta_loss)(genome, True)
    for a, b in zip(jax.tree.leaves(plain), jax.tree.leaves(remat)):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)
