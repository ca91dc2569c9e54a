"""`target` in a phase that `predict` runs reads 0 there, in the lowering and the reference alike, with a
warning located at the read (`predict-target`) that a comment can allow for a label-conditioned forward pass."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

import rulec
from rulec.api import source_major
from rulec.functions import elementwise_table
from rulec.ir.lint import lint
from rulec.reference.interpreter import Reference
from tests.conftest import ROOT

# backprop whose output units are nudged towards the target in the forward pass
NUDGED = (ROOT / "stdlib_rules" / "backprop.rule").read_text().replace(
    "  a[j, 0] := tanh(z[j])\n", "  a[j, 0] := tanh(z[j])  for j in hidden\n"
    "  a[j, 0] := tanh(z[j] + 0.5 * target[j])  for j in output\n")


def test_predict_reads_the_target_as_zero_and_agrees_with_the_reference():
    rule = rulec.loads(NUDGED, "nudged.rule")
    [warning] = [d for d in rule.warnings if d.code == "predict-target"]
    assert (warning.span.line, NUDGED.splitlines()[warning.span.line - 1][warning.span.column - 1:][:9]) == (
        next(n for n, line in enumerate(NUDGED.splitlines(), 1) if "0.5 * target" in line), "target[j]")
    net = rule.network([3, 4, 2])
    genome, state = rule.init_genome(jax.random.key(2)), net.init(jax.random.key(0))
    x = np.asarray(jax.random.normal(jax.random.key(1), (5, 3)), np.float64)
    prediction = jax.jit(net.predict)(genome, state, jnp.asarray(x))
    synapses = {"w": [np.asarray(source_major(a), np.float64) for a in state.synapses["w"]]}
    reference = Reference(rule.program, (3, 4, 2), elementwise_table(np))
    expected = reference.predict({k: np.asarray(v, np.float64) for k, v in genome.items()}, synapses, x)
    np.testing.assert_allclose(np.asarray(prediction), expected, atol=1e-5)
    w0, w1 = synapses["w"]
    hidden = np.tanh(x @ w0[:-1] + w0[-1])
    np.testing.assert_allclose(expected, np.tanh(hidden @ w1[:-1] + w1[-1]), atol=1e-12)


def test_an_allow_comment_keeps_the_warning_quiet():
    text = NUDGED.replace("0.5 * target[j])  for j in output\n", "0.5 * target[j])  for j in output  # allow predict-target: label-free predict\n")
    assert [d.code for d in lint(rulec.loads(text, "nudged.rule").program)] == []
