"""`rulec compile` on a convolutional network: the stand-alone Python module and StableHLO equal the lowering,
specialisation (`--genome-set`) folds the genome, and dead-state elimination still prunes."""

from __future__ import annotations

import importlib.util

import jax
import jax.numpy as jnp
import numpy as np

import rulec
from tests.conftest import run_cli, state_arrays

LAYERS = "4x4x1,conv2k2s2,3"


def compile_to(tmp_path, monkeypatch, capsys, path, emit, *extra) -> tuple:
    out = tmp_path / f"artifact.{'py' if emit == 'python' else 'bin'}"
    code, stdout, stderr = run_cli("compile", path, "--emit", emit, "--layers", LAYERS, "--batch", "2", "-o", str(out),
                                   *extra, monkeypatch=monkeypatch, capsys=capsys)
    assert code == 0, stderr
    return out, stdout + stderr


def arguments(net):
    genome = net.init_genome(jax.random.key(0))
    state = net.init(jax.random.key(1))
    rng = np.random.default_rng(0)
    x = jnp.asarray(rng.normal(size=(2, 16)), jnp.float32)
    y = jnp.asarray(np.where(rng.random((2, 3)) < 0.5, -1.0, 1.0), jnp.float32)
    return genome, state, x, y


def test_the_python_module_of_a_convnet_is_the_lowering(tmp_path, monkeypatch, capsys):
    module_path, log = compile_to(tmp_path, monkeypatch, capsys, "stdlib_rules/feedback_alignment.rule", "python")
    spec = importlib.util.spec_from_file_location("compiled_conv", module_path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    net = rulec.load("stdlib_rules/feedback_alignment.rule").network(LAYERS)
    genome, state, x, y = arguments(net)
    for ours, theirs in zip(state_arrays(net.step(genome, state, x, y)),
                            state_arrays(module.step(genome, state, x, y))):
        np.testing.assert_allclose(ours, theirs, atol=1e-6)
    assert "is skipped (never read afterwards)" in log  # dead-state elimination on a convnet


def test_stablehlo_of_a_specialised_convnet(tmp_path, monkeypatch, capsys):
    blob, _ = compile_to(tmp_path, monkeypatch, capsys, "stdlib_rules/blur_two_state.rule", "stablehlo", "--preset",
                         "backprop", "--genome-set", "eta_w=-0.01")
    exported = jax.export.deserialize(bytearray(blob.read_bytes()))
    rule = rulec.load("stdlib_rules/blur_two_state.rule")
    net = rule.network(LAYERS)
    _, state, x, y = arguments(net)
    genome = dict(rule.preset("backprop", sizes=net.geometry), eta_w=jnp.float32(-0.01))
    for ours, theirs in zip(state_arrays(net.step(genome, state, x, y)),
                            state_arrays(exported.call(genome, state, x, y))):
        np.testing.assert_allclose(ours, theirs, atol=1e-6)
