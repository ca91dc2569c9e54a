"""Skip synapses (`input -> output`): stored once, read and updated only where the pair's post layer is the
output layer; the step of backprop_skip.rule is one SGD step, computed independently with jax.grad."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

import rulec
import rulec.api
from rulec.api import source_major
from tests.conftest import ROOT

RULE = ROOT / "stdlib_rules" / "backprop_skip.rule"


def test_a_skip_synapse_is_stored_once_joining_the_input_to_the_output():
    state = rulec.load(RULE).network([6, 5, 4, 3]).init(jax.random.key(0))
    assert [np.shape(source_major(a)) for a in state["s"]] == [(6, 3)]


def test_one_step_is_sgd_on_the_network_with_its_shortcut():
    sizes = [5, 4, 4, 3]
    with jax.enable_x64(True):
        rule = rulec.load(RULE)
        net = rule.network(sizes)
        genome = {"lr": jnp.asarray(0.05)}
        state = net.init(jax.random.key(1), jnp.float64)
        rng = np.random.default_rng(0)
        x = jnp.asarray(rng.normal(size=(7, 5)))
        y = jnp.asarray(np.where(rng.random((7, 3)) < 0.5, -1.0, 1.0))
        params = {"w": [source_major(a) for a in state["w"]], "s": source_major(state["s"][0])}

        def loss(p):
            h = x
            for layer, w in enumerate(p["w"]):
                z = h @ w[:-1] + w[-1]  # the bias unit is the last source row
                h = jnp.tanh(z + (x @ p["s"] if layer == len(p["w"]) - 1 else 0.0))
            return 0.5 * jnp.sum((h - y) ** 2)

        grads = jax.grad(loss)(params)
        stepped = net.step(genome, state, x, y)
        for new, old, g in zip(stepped["w"], params["w"], grads["w"]):
            np.testing.assert_allclose(source_major(new), old - 0.05 * g, atol=1e-10)
        np.testing.assert_allclose(source_major(stepped["s"][0]), params["s"] - 0.05 * grads["s"], atol=1e-10)
        assert float(jnp.max(jnp.abs(grads["s"]))) > 1e-3  # the skip synapse does carry a gradient



def test_a_per_synapse_genome_entry_over_the_skip_layers_has_the_skip_synapses_one_instance():
    """A zero gain `g[input, output]` on the skip update freezes the skip synapse and nothing else."""
    text = RULE.read_text().replace("  lr = 0.001", "  lr = 0.001\n  g[input, output] = 0").replace(
        "s[r, j] := s[r, j] - lr *", "s[r, j] := s[r, j] - g[r, j] * lr *")
    net = rulec.api.loads(text, "gain.rule").network([6, 5, 3])
    genome = net.init_genome(jax.random.key(0))
    assert [np.shape(a) for a in genome["g"]] == [(6, 3)]
    state = net.init(jax.random.key(1))
    rng = np.random.default_rng(0)
    x, y = jnp.asarray(rng.normal(size=(4, 6)), jnp.float32), jnp.ones((4, 3))
    stepped = net.step(dict(genome, lr=jnp.asarray(0.5)), state, x, y)
    np.testing.assert_array_equal(stepped["s"][0], state["s"][0])
    assert not np.allclose(stepped["w"][1], state["w"][1])
