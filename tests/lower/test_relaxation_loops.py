"""Relaxation loops in the lowering: equilibrium propagation's update against jax.grad, the reference and the
lowering on an inline loop, and a program whose size does not grow with the loop's count."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import rulec
from rulec.functions import elementwise_table
from rulec.reference.interpreter import Reference
from tests.conftest import ROOT, reference_run

EP = ROOT / "stdlib_rules" / "equilibrium_propagation.rule"

# A rule whose loop holds all three settling phases, reads a state before its phase writes it (the previous
# iteration's), and has a two-state neuron and a bias.
INLINE = """rule settle
dim n = 4
genome
  g = 0.5; lr = 0.1
neuron a[2]
neuron up[2]
synapse w : pre+bias -> post ~ uniform(-1, 1) / sqrt(fan_in)
bias 1

input (i in input)
  a[i, c] := x[i]

repeat n
  forward (i in pre+bias, j in post)
    a[j, c] := (1 - g) * a[j, c] + g * tanh(sum(i) w[i, j] * a[i, c] + up[j, c])
  feedback (j in output)
    a[j, 1] := a[j, 1] + 0.1 * (target[j] - a[j, 1])
  backward (i in pre, j in post)
    up[i, c] := sum(j) w[i, j] * a[j, c]
end

update (i in pre+bias, j in post)
  w[i, j] := w[i, j] + lr * mean(batch) (a[i, 1] * a[j, 1] - a[i, 0] * a[j, 0])
"""


def free_loss(weights, x, t, iterations=100, eps=0.5, bias=1.0):
    """The loss at the free fixed point, mean over the batch of 1/2 |s_out - t|^2, reached by plain gradient
    descent on the Hopfield energy E(s) = 1/2 sum s^2 - sum rho(s_post) W rho([s_pre, bias]), rho = tanh (jax.grad of E,
    all layers at once), unrolled so that jax.grad of the loss goes through it."""
    def energy(hidden_and_out):
        layers = [x] + hidden_and_out
        total = sum(0.5 * jnp.sum(s ** 2) for s in hidden_and_out)
        for w, below, above in zip(weights, layers, layers[1:]):
            pre = jnp.concatenate([jnp.tanh(below), jnp.full(below.shape[:-1] + (1,), jnp.tanh(bias))], axis=-1)
            total -= jnp.sum((pre @ w) * jnp.tanh(above))
        return total

    def relax(states, _):
        return [s - eps * g for s, g in zip(states, jax.grad(energy)(states))], None

    states = jax.lax.scan(relax, [jnp.zeros((x.shape[0], w.shape[1])) for w in weights], None, iterations)[0]
    return jnp.mean(0.5 * jnp.sum((states[-1] - t) ** 2, axis=-1))


def test_equilibrium_propagation_follows_the_gradient_at_the_free_fixed_point():
    """For a small beta the contrastive update is -lr times the gradient of the loss at the free fixed point
    (Scellier & Bengio 2017, theorem 1): cosine >= 0.95 for every weight matrix of a 4-5-3 network."""
    with jax.enable_x64(True):
        rule = rulec.load(EP, n_relax=40)
        net = rule.network((4, 5, 3))
        state = net.init(jax.random.key(3), jnp.float64)
        genome = {"beta": jnp.asarray(1e-3), "eps": jnp.asarray(0.5), "lr": jnp.asarray(1.0)}
        rng = np.random.default_rng(0)
        x = jnp.asarray(rng.normal(size=(6, 4)))
        t = jnp.asarray(np.where(rng.random((6, 3)) < 0.5, -1.0, 1.0))
        after = jax.jit(net.step)(genome, state, x, t)
        weights = list(state.synapses["w"])
        gradient = jax.jit(jax.grad(free_loss))(weights, x, t)
        for old, new, g in zip(weights, after.synapses["w"], gradient):
            update = np.ravel(new - old)
            cosine = float(update @ -np.ravel(g) / (np.linalg.norm(update) * np.linalg.norm(g)))
            assert cosine >= 0.95, cosine


@pytest.mark.parametrize("sizes", [(3, 2), (5, 4, 3), (4, 5, 4, 3)], ids=lambda s: "-".join(map(str, s)))
def test_the_lowering_matches_the_reference_on_an_inline_loop(sizes):
    rule = rulec.loads(INLINE, "settle.rule")
    net = rule.network(sizes)
    with jax.enable_x64(True):
        genome = net.init_genome(jax.random.key(0), jnp.float64)
        state = net.init(jax.random.key(1), jnp.float64)
        rng = np.random.default_rng(0)
        xs = rng.normal(size=(2, 5, sizes[0]))
        ys = np.where(rng.random((2, 5, sizes[-1])) < 0.5, -1.0, 1.0)
        reference = Reference(rule.program, sizes, elementwise_table(np))
        ref_state, _ = reference_run(reference, genome, state, xs, ys)
        step = jax.jit(net.step)
        for x, y in zip(xs, ys):
            state = step(genome, state, jnp.asarray(x), jnp.asarray(y))
        for ours, theirs in zip(state.synapses["w"], ref_state.synapses["w"]):
            np.testing.assert_allclose(np.asarray(ours), theirs, atol=1e-10)
        # predict settles the free state with forward and backward; feedback, which reads the target, is left out
        prediction = jax.jit(net.predict)(genome, state, jnp.asarray(xs[0]))
        _, neurons = reference.step(genome, ref_state.synapses, xs[0], None,
                                    rulec.ir.liveness.predict_phases(rule.program))
        np.testing.assert_allclose(np.asarray(prediction), neurons["a"][-1][..., 0], atol=1e-10)


def test_the_program_does_not_grow_with_the_loop_count():
    sizes = (6, 5, 4, 3)
    lengths = []
    for n in (2, 50):
        net = rulec.loads(INLINE, "settle.rule", n=n).network(sizes)
        genome, state = (jax.eval_shape(lambda: init(jax.random.key(0))) for init in (net.init_genome, net.init))
        x, y = jax.ShapeDtypeStruct((4, 6), jnp.float32), jax.ShapeDtypeStruct((4, 3), jnp.float32)
        lengths.append(len(jax.jit(net.step).lower(genome, state, x, y).as_text()))
    assert lengths[0] == lengths[1] - len("50") + len("2")  # only the trip count's digits differ


def test_the_update_phase_moves_a_persistent_neuron_once_a_step_after_the_loop():
    text = INLINE.replace("neuron up[2]\n", "neuron up[2]\nneuron theta persistent = 0\n") + \
        "  theta[j] := theta[j] + 0.5 * (mean(batch) a[j, 0] - theta[j])\n"
    rule = rulec.loads(text, "threshold.rule", n=2)
    assert not [d for d in rule.warnings if d.code == "persistent-in-loop"]
    sizes = (3, 4, 2)
    net = rule.network(sizes)
    genome, state = rule.init_genome(jax.random.key(0)), net.init(jax.random.key(1))
    rng = np.random.default_rng(0)
    xs, ys = rng.normal(size=(1, 5, 3)), np.where(rng.random((1, 5, 2)) < 0.5, -1.0, 1.0)
    _, neurons = reference_run(Reference(rule.program, sizes, elementwise_table(np)), genome, state, xs, ys)
    after = net.step(genome, state, jnp.asarray(xs[0], jnp.float32), jnp.asarray(ys[0], jnp.float32))
    for layer in (1, 2):  # each layer above the input once, from the settled a: 0 + 0.5 * (mean - 0)
        expected = 0.5 * neurons["a"][layer][..., 0].mean(axis=0)
        np.testing.assert_allclose(neurons["theta"][layer], expected, atol=1e-12)
        np.testing.assert_allclose(np.asarray(after.neurons["theta"][layer]), expected, atol=1e-5)
    np.testing.assert_array_equal(np.asarray(after.neurons["theta"][0]), 0)
