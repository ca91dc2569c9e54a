"""Lateral synapses (`post -> post`): storage per layer, what a lateral term reads, and what the stdlib rule that
uses them claims: anti-Hebbian lateral synapses decorrelate the outputs of a layer."""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np

import rulec
from rulec.api import source_major
from tests.conftest import ROOT

RULE = ROOT / "stdlib_rules" / "lateral_decorrelation.rule"


def off_diagonal_correlation(y: np.ndarray) -> float:
    """The mean absolute correlation coefficient between distinct neurons of `y` [batch, neurons]."""
    c = np.corrcoef(y, rowvar=False)
    return float(np.mean(np.abs(c[~np.eye(len(c), dtype=bool)])))


def correlated_inputs(rng, mixing, n):
    return jnp.asarray(rng.normal(size=(n, mixing.shape[0])) @ mixing, jnp.float32)


def test_a_lateral_synapse_is_stored_once_per_layer_above_the_input():
    state = rulec.load(RULE).network([6, 5, 4]).init(jax.random.key(0))
    assert [np.shape(a) for a in state["m"]] == [(5, 5), (4, 4)]
    assert all(float(jnp.max(jnp.abs(a))) == 0.0 for a in state["m"])


def test_the_lateral_term_reads_the_layer_written_before_it():
    """y = z - (M^T - diag M) z, with z the feedforward drive the previous equation wrote; computed in NumPy."""
    net = rulec.load(RULE).network([4, 3])
    genome = net.init_genome(jax.random.key(0))
    rng = np.random.default_rng(0)
    state = net.init(jax.random.key(1))
    m = rng.normal(size=(3, 3))
    state = dataclasses.replace(state, synapses={**state.synapses, "m": [jnp.asarray(m, jnp.float32)]})
    x = rng.normal(size=(5, 4))
    w = np.asarray(source_major(state["w"][0]), np.float64)
    z = x @ w
    expected = z - z @ (m - np.diag(np.diag(m)))
    out = net.predict(genome, state, jnp.asarray(x, jnp.float32))
    np.testing.assert_allclose(np.asarray(out), expected, rtol=1e-4, atol=1e-5)


def test_anti_hebbian_lateral_synapses_decorrelate_the_output_layer():
    rule = rulec.load(RULE)
    net = rule.network([8, 5])
    genome = rule.init_genome(jax.random.key(0))
    state = net.init(jax.random.key(1))
    rng = np.random.default_rng(0)
    mixing = (rng.normal(size=(8, 8)) + 1.5) / 5  # a shared component correlates every input, so every output
    probe = correlated_inputs(rng, mixing, 2000)
    before = off_diagonal_correlation(np.asarray(net.predict(genome, state, probe)))
    xs = correlated_inputs(rng, mixing, 400 * 64).reshape(400, 64, 8)
    state = jax.jit(net.unroll)(genome, state, xs, jnp.zeros((400, 64, 5)))
    after = off_diagonal_correlation(np.asarray(net.predict(genome, state, probe)))
    assert before > 0.3
    assert after < 0.2 * before
