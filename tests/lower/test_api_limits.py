"""The API has no hidden limits: the initialiser draws as many keys as a network needs, and a specialised network
refuses a genome argument it would otherwise ignore."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import rulec
from rulec import api

SIZES = (4, 6, 3)


def test_the_sampler_draws_past_the_first_keys_and_keeps_their_draws():
    draws = 3 * api.FIRST_KEYS
    sample = api._sampler(jax.random.key(7))
    values = np.array([sample("normal", 0.0, 1.0, ()) for _ in range(draws)])
    first = jax.random.split(jax.random.key(7), api.FIRST_KEYS)  # the keys of a network within the first batch
    np.testing.assert_array_equal(values[:api.FIRST_KEYS], [jax.random.normal(k, ()) for k in first])
    assert len(np.unique(values)) == draws  # no key is used twice


def test_abcd_hebbian_on_19_layers_initialises_and_steps():
    rule = rulec.load("stdlib_rules/abcd_hebbian.rule")
    sizes = (3,) + (4,) * 17 + (2,)
    net = rule.network(sizes)
    genome, state = net.init_genome(jax.random.key(0)), net.init(jax.random.key(1))
    assert len(genome["A"]) == len(state.synapses["w"]) == 18
    # Each per-synapse array has its own draw: no two of the 17 hidden-to-hidden ones are equal.
    hidden = [np.asarray(a).tobytes() for a in genome["A"][1:]]
    assert len(set(hidden)) == len(hidden)
    x, y = jnp.ones((2, 3)), -jnp.ones((2, 2))
    assert net.predict(genome, net.step(genome, state, x, y), x).shape == (2, 2)


@pytest.fixture(scope="module")
def specialised():
    rule = rulec.load("stdlib_rules/blur.rule", k=2)
    genome = rule.network(SIZES).init_genome(jax.random.key(0))
    net = rule.network(SIZES, specialize=genome)
    x, y = jnp.ones((5, SIZES[0])), -jnp.ones((5, SIZES[-1]))
    return net, genome, net.init(jax.random.key(1)), x, y


def test_a_specialised_network_takes_its_genome_none_or_equal_values(specialised):
    net, genome, state, x, y = specialised
    expected = net.step(genome, state, x, y)
    for same in (None, jax.tree.map(jnp.array, genome)):
        np.testing.assert_array_equal(net.step(same, state, x, y).synapses["w"][0], expected.synapses["w"][0])
    # Under `jit` XLA fuses the whole step and may reorder its float32 sums, so it agrees with the eager step to
    # rounding (a difference of 9e-10 on weights of order 1 has been seen), not bit for bit. 1e-6 is a few float32
    # ulps of such weights, and far below the size of one update (eta_w = -0.001 times sums over the batch).
    np.testing.assert_allclose(jax.jit(net.step)(genome, state, x, y).synapses["w"][0], expected.synapses["w"][0],
                               rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("call", ["step", "predict", "unroll"])
def test_a_specialised_network_refuses_another_genome(specialised, call):
    net, genome, state, x, y = specialised
    other = jax.tree.map(lambda a: a + 1, genome)
    arguments = {"step": (x, y), "predict": (x,), "unroll": (x[None], y[None])}[call]
    with pytest.raises(ValueError, match="specialised to another genome, which is folded into its program"):
        getattr(net, call)(other, state, *arguments)
    with pytest.raises(ValueError, match="specialised to a genome of entries"):
        getattr(net, call)({"nu": genome["nu"]}, state, *arguments)


@pytest.mark.parametrize("jit", [False, True])
def test_a_specialised_network_refuses_a_gradient_with_respect_to_its_genome(specialised, jit):
    """The gradient would be zero, since the genome passed is not the one computed with."""
    net, genome, state, x, y = specialised

    def loss(g):
        trained = net.unroll(g, state, x[None], y[None])
        return jnp.sum(net.predict(g, trained, x))

    gradient = jax.grad(loss)
    with pytest.raises(ValueError, match="derivative with respect to the genome it is passed would be zero"):
        (jax.jit(gradient) if jit else gradient)(genome)
