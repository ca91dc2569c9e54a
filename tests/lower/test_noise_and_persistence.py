"""Draws inside a step and persistent state: determinism, streams, and what the stdlib rules built on them claim."""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np

import rulec
from rulec.functions import elementwise_table
from rulec.reference.interpreter import Reference
from rulec.api import source_major
from tests.conftest import ROOT, reference_run, state_arrays

SIZES = (4, 5, 3)
NOISY = """rule noisy
genome
  lr = 0.1
neuron a[2]
neuron r persistent = 0.5
synapse w : pre+bias -> post ~ uniform(-1, 1)
bias 1
input (i in input)
  a[i, 0] := x[i]
forward (i in pre+bias, j in post)
  let xi[j] = normal(0, 1)
  let u[j] = uniform(-1, 2)
  let keep[j] = bernoulli(0.25)
  a[j, 0] := tanh(sum(i) w[i, j] * a[i, 0]) + xi[j] * keep[j]
  a[j, 1] := u[j] + step
  r[j] := 0.5 * r[j] + mean(batch) a[j, 1]
update (i in pre+bias, j in post)
  w[i, j] := w[i, j] - lr * mean(batch) a[i, 0] * a[j, 0]
"""


def batch(seed: int, sizes=SIZES, size: int = 8):
    rng = np.random.default_rng(seed)
    x = jnp.asarray(rng.normal(size=(size, sizes[0])), jnp.float32)
    return x, jnp.asarray(np.where(rng.random((size, sizes[-1])) < 0.5, -1.0, 1.0), jnp.float32)


def run(net, genome, seed: int, steps: int = 3):
    state = net.init(jax.random.key(seed))
    for t in range(steps):
        state = net.step(genome, state, *batch(t))
    return state


def test_the_same_seed_gives_the_same_run_bit_for_bit_and_another_seed_another():
    rule = rulec.loads(NOISY, "noisy.rule")
    net = rule.network(SIZES)
    genome = rule.init_genome(jax.random.key(0))
    first, again, other = run(net, genome, 1), run(net, genome, 1), run(net, genome, 2)
    for a, b in zip(state_arrays(first), state_arrays(again)):
        np.testing.assert_array_equal(a, b)
    assert int(first.step) == 3
    # The same synapses with another seed's key: the draws, and so the update, differ.
    drawn = net.step(genome, first, *batch(9))
    redrawn = net.step(genome, dataclasses.replace(first, key=other.key), *batch(9))
    assert not np.allclose(drawn.synapses["w"][1], redrawn.synapses["w"][1])


def test_vmap_over_keys_gives_each_member_its_own_stream():
    rule = rulec.loads(NOISY, "noisy.rule")
    net = rule.network(SIZES)
    genome = rule.init_genome(jax.random.key(0))
    states = jax.vmap(net.init)(jax.random.split(jax.random.key(3), 4))
    x, y = batch(0)
    stepped = jax.vmap(net.step, in_axes=(None, 0, None, None))(genome, states, x, y)
    persistent = np.asarray(stepped.neurons["r"][1])  # [members, neurons]: the mean of each member's draws
    assert len({tuple(row) for row in persistent.round(6)}) == 4
    alone = net.step(genome, jax.tree.map(lambda a: a[2], states), x, y)
    np.testing.assert_allclose(alone.neurons["r"][1], persistent[2], rtol=1e-6)


def test_draws_and_persistent_state_agree_with_the_reference_across_steps():
    rule = rulec.loads(NOISY, "noisy.rule")
    net = rule.network(SIZES)
    genome = rule.init_genome(jax.random.key(0))
    with jax.enable_x64(True):
        state = net.init(jax.random.key(5), jnp.float64)
        xs, ys = zip(*(batch(t) for t in range(3)))
        reference = Reference(rule.program, SIZES, elementwise_table(np))
        expected, _ = reference_run(reference, genome, state, xs, ys)
        for x, y in zip(xs, ys):
            state = net.step(genome, state, jnp.asarray(x, jnp.float64), jnp.asarray(y, jnp.float64))
    for ours, theirs in zip(state.neurons["r"], expected.neurons["r"]):
        np.testing.assert_allclose(ours, theirs, atol=1e-9)
    # r <- r / 2 + mean(u + step): from 0.5, with u uniform on [-1, 2] (mean 0.5) and steps 0, 1, 2.
    means = 0.5 * (0.5 * (0.5 * 0.5 + 0.5) + 1.5) + 2.5
    np.testing.assert_allclose(np.asarray(state.neurons["r"][1]), means, atol=0.6)
    np.testing.assert_array_equal(state.neurons["r"][0], 0.5)  # never written on the input layer: kept as it was


# ---- the stdlib rules ---------------------------------------------------------------------------------------------

def cosine(a, b) -> float:
    a, b = np.ravel(a), np.ravel(b)
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def tanh_mse_gradient(weights, x, y):
    """The gradient of mean over the batch of sum((h - y)^2 / 2) for a tanh network: jax.grad, not the rule."""

    def loss(weights):
        h = x
        for w in weights:
            h = jnp.tanh(jnp.concatenate([h, jnp.ones((h.shape[0], 1))], axis=1) @ w)
        return jnp.mean(jnp.sum((h - y) ** 2 / 2, axis=1))

    return jax.grad(loss)(weights)


def test_node_perturbation_averaged_over_draws_follows_the_gradient():
    rule = rulec.load("stdlib_rules/node_perturbation.rule")
    net = rule.network(SIZES)
    genome = rule.init_genome(jax.random.key(0))
    state = net.init(jax.random.key(1))
    x, y = batch(0)
    keys = jax.random.split(jax.random.key(2), 1024)
    updates = jax.vmap(lambda key: net.step(genome, dataclasses.replace(state, key=key), x, y).synapses["w"])(keys)
    gradient = tanh_mse_gradient(state.synapses["w"], x, y)
    steps = [u - w[None] for u, w in zip(updates, state.synapses["w"])]
    few = [cosine(s[:4].mean(0), -g) for s, g in zip(steps, gradient)]
    many = [cosine(s.mean(0), -g) for s, g in zip(steps, gradient)]
    assert min(many) > 0.9, many
    assert all(m > f for m, f in zip(many, few)), (few, many)


def test_weight_mirror_aligns_the_feedback_weights_with_the_forward_transpose():
    rule = rulec.load("stdlib_rules/weight_mirror.rule")
    # Unpruned: nothing reads the feedback weights into the input layer, so a pruned unroll leaves them be.
    net = rule.network((8, 6, 4), prune=False)
    genome = rule.init_genome(jax.random.key(0))
    state = net.init(jax.random.key(1))
    before = [cosine(b, w[:-1].T) for b, w in zip(state.synapses["B"], state.synapses["w"])]
    unroll = jax.jit(net.unroll)
    xs = jax.random.normal(jax.random.key(4), (100, 16, 8))
    ys = jnp.where(jax.random.uniform(jax.random.key(5), (100, 16, 4)) < 0.5, -1.0, 1.0)
    state = unroll(genome, state, xs, ys)
    after = [cosine(b, w[:-1].T) for b, w in zip(state.synapses["B"], state.synapses["w"])]
    assert max(abs(c) for c in before) < 0.5 and min(after) > 0.95, (before, after)


def test_bcm_threshold_tracks_the_mean_squared_activity():
    rule = rulec.load("stdlib_rules/bcm.rule")
    net = rule.network((8, 6, 4))
    genome = rule.init_genome(jax.random.key(0))
    state = net.init(jax.random.key(1))
    rate = float(genome["rate"])
    step = jax.jit(net.step)
    for t in range(60):
        x, y = batch(t, (8, 6, 4), 32)
        w = np.asarray(state.synapses["w"][0])  # the hidden layer's weights the step reads, [1, 9, 6]
        activity = np.maximum(np.c_[np.asarray(x), np.ones(32)] @ w.reshape(9, 6), 0)
        expected = np.asarray(state.neurons["theta"][1]) + rate * ((activity ** 2).mean(0) - state.neurons["theta"][1])
        state = step(genome, state, x, y)
        np.testing.assert_allclose(state.neurons["theta"][1], expected, rtol=1e-4, atol=1e-6)
    # After many steps of slowly changing weights, theta is the running mean of y^2, not its start of 1.
    np.testing.assert_allclose(state.neurons["theta"][1], (activity ** 2).mean(0), rtol=0.5)
    assert not np.allclose(state.neurons["theta"][1], 1.0)


STOCHASTIC = (ROOT / "stdlib_rules" / "backprop.rule").read_text().replace(
    "  a[j, 0] := tanh(z[j])\n",
    "  let p[j] = sigmoid(z[j])\n  let s[j] = bernoulli(p[j])\n  a[j, 0] := s[j] * tanh(z[j])\n")


def test_a_per_neuron_probability_draws_per_neuron_and_agrees_with_the_reference():
    rule = rulec.loads(STOCHASTIC, "stochastic.rule")
    net = rule.network([3, 4, 2])
    genome, state = rule.init_genome(jax.random.key(0)), net.init(jax.random.key(1))
    rng = np.random.default_rng(0)
    xs = rng.normal(size=(2, 6, 3))
    ys = np.where(rng.random((2, 6, 2)) < 0.5, -1.0, 1.0)
    reference = Reference(rule.program, (3, 4, 2), elementwise_table(np))
    ref_state, _ = reference_run(reference, genome, state, xs, ys)
    for x, y in zip(xs, ys):
        state = net.step(genome, state, jnp.asarray(x, jnp.float32), jnp.asarray(y, jnp.float32))
    for ours, theirs in zip(state.synapses["w"], ref_state.synapses["w"]):
        np.testing.assert_allclose(np.asarray(source_major(ours)), theirs, atol=1e-5)


def test_a_probability_of_zero_or_one_per_neuron_is_followed_exactly():
    # p[j] is 1 where z > 0 and 0 elsewhere: the draw must be that mask, neuron by neuron, example by example
    rule = rulec.loads(STOCHASTIC.replace("sigmoid(z[j])", "z[j] > 0"), "masked.rule")
    net = rule.network([3, 4, 2])
    genome, state = rule.init_genome(jax.random.key(0)), net.init(jax.random.key(1))
    x = np.random.default_rng(1).normal(size=(8, 3)).astype(np.float32)
    w0, w1 = (np.asarray(source_major(a), np.float64) for a in state.synapses["w"])
    z0 = x @ w0[:-1] + w0[-1]
    hidden = (z0 > 0) * np.tanh(z0)
    z1 = hidden @ w1[:-1] + w1[-1]
    np.testing.assert_allclose(np.asarray(net.predict(genome, state, jnp.asarray(x))), (z1 > 0) * np.tanh(z1),
                               atol=1e-5)
