"""A persistent scalar (`persistent avg = 0.25`): one number per network, read by every phase, written once a step
in the update's instance at the output layer. The JAX lowering against the reference interpreter, the value a read
sees, and a population's own scalars under vmap."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import rulec
from rulec.api import source_major
from rulec.functions import elementwise_table
from rulec.reference.interpreter import Reference
from tests.conftest import reference_run

SIZES = (3, 4, 2)
AVERAGED = """rule averaged
genome
  lr = 0.1; rate = 0.5
neuron a
persistent avg = 0.25
synapse w : pre+bias -> post ~ uniform(-1, 1) / sqrt(fan_in)
bias 1
loss mse
input (i in input)
  a[i] := x[i]
forward (i in pre+bias, j in post)
  a[j] := tanh(sum(i) w[i, j] * a[i]) + avg
update (i in pre+bias, j in post)
  w[i, j] := w[i, j] - lr * (1 + avg) * mean(batch) a[i] * (a[j] - target[j])  for j in output
  avg := avg + rate * (mean(batch) sum(j) loss(a[j], target[j]) - avg)
  w[i, j] := w[i, j] - lr * avg * mean(batch) a[i]  for j in output
"""


@pytest.fixture(scope="module")
def rule():
    return rulec.loads(AVERAGED, "averaged.rule")


def batches(count: int):
    rng = np.random.default_rng(0)
    return (rng.normal(size=(count, 5, SIZES[0])),
            np.where(rng.random((count, 5, SIZES[-1])) < 0.5, -1.0, 1.0))


def test_the_lowering_agrees_with_the_reference_across_steps(rule):
    net = rule.network(SIZES)
    genome = rule.init_genome(jax.random.key(0))
    xs, ys = batches(3)
    with jax.enable_x64(True):
        state = net.init(jax.random.key(1), jnp.float64)
        assert state.neurons["avg"].shape == () and float(state.neurons["avg"]) == 0.25
        expected, _ = reference_run(Reference(rule.program, SIZES, elementwise_table(np)), genome, state, xs, ys)
        for x, y in zip(xs, ys):
            state = net.step(genome, state, jnp.asarray(x), jnp.asarray(y))
    np.testing.assert_allclose(np.asarray(state.neurons["avg"]), expected.neurons["avg"], atol=1e-9)
    for ours, theirs in zip(state.synapses["w"], expected.synapses["w"]):
        np.testing.assert_allclose(np.asarray(source_major(ours)), theirs, atol=1e-9)


def test_reads_before_the_write_see_the_last_step_and_reads_after_it_the_new_value(rule):
    # One step by hand: forward adds the old average; the first update scales by it, the second by the new one.
    net = rule.network(SIZES)
    genome = {"lr": 0.1, "rate": 0.5}
    xs, ys = batches(1)
    x, y = xs[0], ys[0]
    with jax.enable_x64(True):
        state = net.init(jax.random.key(1), jnp.float64)
        stepped = net.step(genome, state, jnp.asarray(x), jnp.asarray(y))
    (w0, w1) = (np.asarray(source_major(a)) for a in state.synapses["w"])
    hidden = np.tanh(x @ w0[:-1] + w0[-1]) + 0.25
    output = np.tanh(hidden @ w1[:-1] + w1[-1]) + 0.25
    new = 0.25 + 0.5 * (np.mean(np.sum((output - y) ** 2, axis=1) / 2) - 0.25)
    assert float(stepped.neurons["avg"]) == pytest.approx(new, abs=1e-9)
    with_bias = np.concatenate([hidden, np.ones((len(x), 1))], axis=1)
    expected = w1 - 0.1 * 1.25 * with_bias.T @ (output - y) / len(x)
    expected -= 0.1 * new * with_bias.mean(axis=0)[:, None]
    np.testing.assert_allclose(np.asarray(source_major(stepped.synapses["w"][1])), expected, atol=1e-9)
    np.testing.assert_array_equal(stepped.synapses["w"][0], state.synapses["w"][0])  # written at the output only


def test_each_member_of_a_population_keeps_its_own_scalar(rule):
    net = rule.network(SIZES)
    genome = rule.init_genome(jax.random.key(0))
    states = jax.vmap(net.init)(jax.random.split(jax.random.key(3), 4))
    assert states.neurons["avg"].shape == (4,)
    xs, ys = batches(1)
    x, y = jnp.asarray(xs[0], jnp.float32), jnp.asarray(ys[0], jnp.float32)
    stepped = jax.vmap(net.step, in_axes=(None, 0, None, None))(genome, states, x, y)
    assert len(set(np.asarray(stepped.neurons["avg"]).round(6))) == 4  # each member's own synapses, own loss
    alone = net.step(genome, jax.tree.map(lambda a: a[2], states), x, y)
    assert float(alone.neurons["avg"]) == pytest.approx(float(stepped.neurons["avg"][2]), rel=1e-6)
