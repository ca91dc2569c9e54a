"""sanger.rule computes what Sanger (1989) says: its units learn the principal components, in order."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

import rulec
from rulec.api import source_major
from tests.conftest import ROOT


def test_sanger_weights_converge_to_the_top_principal_components_in_order():
    rng = np.random.default_rng(0)
    inputs, units, steps, batch = 6, 3, 2000, 32
    components, _ = np.linalg.qr(rng.normal(size=(inputs, inputs)))
    variances = np.array([5.0, 3.0, 2.0, 1.0, 0.5, 0.25])  # distinct, so each component is defined
    xs = rng.normal(size=(steps, batch, inputs)) * np.sqrt(variances) @ components.T
    net = rulec.load(ROOT / "stdlib_rules" / "sanger.rule").network((inputs, units))
    genome, state = net.init_genome(jax.random.key(0)), net.init(jax.random.key(1))
    state = net.unroll(genome, state, jnp.asarray(xs, jnp.float32), jnp.zeros((steps, batch, units), jnp.float32))
    weights = np.asarray(source_major(state["w"][0]))  # [inputs, units]
    cosines = np.abs(np.sum(weights * components[:, :units], axis=0)) / np.linalg.norm(weights, axis=0)
    assert np.all(cosines >= 0.99), cosines
    assert np.allclose(np.linalg.norm(weights, axis=0), 1.0, atol=0.02)
