"""Feedback alignment, sign symmetry and Kolen-Pollack on a convolutional network, from their unchanged files:
FA's B is a fixed random kernel, SS reads the sign of the forward kernel, KP's B converges to the transposed
kernel."""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np

import rulec

LAYERS = [(4, 4, 1), rulec.Conv(2, 2, stride=2), rulec.Conv(3, 2), 3]


def batches(steps: int, net, seed: int = 0):
    rng = np.random.default_rng(seed)
    xs = jnp.asarray(rng.normal(size=(steps, 2, net.sizes[0])), jnp.float32)
    ys = jnp.asarray(np.where(rng.random((steps, 2, net.sizes[-1])) < 0.5, -1.0, 1.0), jnp.float32)
    return xs, ys


def test_feedback_alignment_feeds_back_through_a_fixed_random_kernel():
    rule = rulec.load("stdlib_rules/feedback_alignment.rule")
    net = rule.network(LAYERS)
    state = net.init(jax.random.key(0))
    after = net.unroll(net.init_genome(jax.random.key(1)), state, *batches(2, net), remat=False)
    assert [b.shape for b in state.synapses["B"]] == [(2, 4), (3, 8), (3, 12)]  # [out channels, receptive field]
    for before, now in zip(state.synapses["B"], after.synapses["B"]):
        np.testing.assert_array_equal(before, now)
    assert max(float(jnp.max(jnp.abs(a - b))) for a, b in zip(state.synapses["w"], after.synapses["w"])) > 0


def test_sign_symmetry_reads_the_sign_of_the_forward_kernel():
    """With every weight at +-gain, gain * sign(w) is w: a step of sign symmetry is a step of backprop."""
    sign_symmetry = rulec.load("stdlib_rules/sign_symmetry.rule")
    backprop = rulec.load("stdlib_rules/backprop.rule")
    net = sign_symmetry.network(LAYERS)
    genome = net.init_genome(jax.random.key(0))
    state = net.init(jax.random.key(1))
    signed = {"w": [genome["gain"] * jnp.where(jax.random.normal(jax.random.key(n), w.shape) < 0, -1.0, 1.0)
                    for n, w in enumerate(state.synapses["w"])]}
    state = dataclasses.replace(state, synapses=signed)
    x, y = (a[0] for a in batches(1, net))
    ours = net.step(genome, state, x, y)
    reference = backprop.network(LAYERS).step({"lr": genome["lr"]}, state, x, y)
    for a, b in zip(ours.synapses["w"], reference.synapses["w"]):
        np.testing.assert_allclose(a, b, atol=1e-6)
    assert max(float(jnp.max(jnp.abs(a - b))) for a, b in zip(ours.synapses["w"], state.synapses["w"])) > 1e-4


def cosine(a, b) -> float:
    return float(jnp.sum(a * b) / (jnp.linalg.norm(a) * jnp.linalg.norm(b)))


def test_kolen_pollack_backward_kernel_converges_to_the_transposed_kernel():
    """W and B get the same update and the same decay, so W^T - B decays geometrically; with a decay of 0.1 and
    a rate (0.5) at which the updates outweigh what is left of the initial difference, the cosine reaches 1."""
    rule = rulec.load("stdlib_rules/kolen_pollack.rule")
    net = rule.network(LAYERS)
    genome = dict(net.init_genome(jax.random.key(0)), decay=jnp.float32(0.1), lr=jnp.float32(0.5))
    state = net.init(jax.random.key(1))
    cosines = lambda s: [cosine(w[:-1].T, b) for w, b in zip(s.synapses["w"], s.synapses["B"])]  # noqa: E731
    before = cosines(state)
    step = jax.jit(net.step)  # the complete step: an unroll would leave the input pair's unread B as it was
    for x, y in zip(*batches(60, net)):
        state = step(genome, state, x, y)
    assert max(abs(c) for c in before) < 0.6
    assert min(cosines(state)) > 0.99
