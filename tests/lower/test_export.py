"""`rulec compile`: StableHLO that runs without the rule, and a stand-alone Python module equal to the lowering."""

from __future__ import annotations

import importlib.util
import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import rulec
from tests.conftest import STDLIB, load_stdlib, run_cli, state_arrays

SIZES = (5, 6, 4, 3)


def arguments(net, seed=0):
    genome = net.init_genome(jax.random.key(seed))
    state = net.init(jax.random.key(seed + 1))
    rng = np.random.default_rng(seed)
    x = jnp.asarray(rng.normal(size=(2, SIZES[0])), jnp.float32)
    y = jnp.asarray(np.where(rng.random((2, SIZES[-1])) < 0.5, -1.0, 1.0), jnp.float32)
    return genome, state, x, y


@pytest.fixture
def compile_to(tmp_path, monkeypatch, capsys):
    """Runs `rulec compile` in this process (a process of its own would import JAX again for each rule); the
    path of what it wrote."""
    def compile_(path, emit, *extra):
        out = tmp_path / f"artifact.{'py' if emit == 'python' else 'bin'}"
        code, _, err = run_cli("compile", str(path), "--emit", emit, "--layers", ",".join(map(str, SIZES)), "--batch",
                               "2", "-o", str(out), *extra, monkeypatch=monkeypatch, capsys=capsys)
        assert code == 0, err
        return out
    return compile_


# A relaxation loop lowers to `lax.scan`, which the Python printer does not write (see the test below).
PRINTABLE = [path for path in STDLIB if "\nrepeat " not in path.read_text()]


@pytest.mark.parametrize("path", PRINTABLE, ids=lambda p: p.stem)
def test_python_module_matches_the_lowering(compile_to, path):
    module_path = compile_to(path, "python")
    spec = importlib.util.spec_from_file_location("compiled_rule", module_path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    source = module_path.read_text()
    assert "import rulec" not in source and "from rulec" not in source  # stand-alone
    net = load_stdlib(path).network(SIZES)
    genome, state, x, y = arguments(net)
    # Traced as one program: run op by op, the module would compile each of its hundreds of operations apart.
    step, predict = jax.jit(module.step), jax.jit(module.predict)
    for ours, theirs in zip(state_arrays(net.step(genome, state, x, y)), state_arrays(step(genome, state, x, y))):
        np.testing.assert_allclose(ours, theirs, atol=1e-6)
    np.testing.assert_allclose(net.predict(genome, state, x), predict(genome, state, x), atol=1e-6)


def test_a_relaxation_loop_is_refused_by_the_python_printer_with_a_way_out(tmp_path):
    out = tmp_path / "ep.py"
    result = subprocess.run([sys.executable, "-m", "rulec", "compile", "stdlib_rules/equilibrium_propagation.rule",
                             "--set", "n_relax=2", "--emit", "python", "--layers", "5,4,3", "--batch", "2", "-o",
                             str(out)], capture_output=True, text=True)
    assert result.returncode != 0 and not out.exists()
    assert "the Python printer does not know the primitive `scan`; `--emit stablehlo` writes any rule" in result.stderr
    assert "Traceback" not in result.stderr


def test_stablehlo_runs_without_parsing_the_rule(compile_to):
    blob = compile_to("stdlib_rules/blur.rule", "stablehlo", "--set", "k=3").read_bytes()
    exported = jax.export.deserialize(bytearray(blob))  # no rule text involved from here on
    net = rulec.load("stdlib_rules/blur.rule", k=3).network(SIZES)
    genome, state, x, y = arguments(net)
    for ours, theirs in zip(state_arrays(net.step(genome, state, x, y)),
                            state_arrays(exported.call(genome, state, x, y))):
        np.testing.assert_allclose(ours, theirs, atol=1e-6)


def test_ir_prints_the_lowered_step(compile_to):
    text = compile_to("stdlib_rules/backprop.rule", "ir").read_text()
    assert text.startswith("{ lambda") and "dot_general" in text


def test_a_preset_is_folded_into_the_module(compile_to):
    """The folded module steps with the preset's genome whatever genome it is handed: given a random one, it
    gives the preset's step, which the random genome's step does not."""
    module_path = compile_to("stdlib_rules/blur_two_state.rule", "python", "--preset", "backprop")
    spec = importlib.util.spec_from_file_location("folded", module_path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    rule = rulec.load("stdlib_rules/blur_two_state.rule")
    net = rule.network(SIZES)
    random_genome, state, x, y = arguments(net)
    folded = jax.jit(module.step)(random_genome, state, x, y).synapses["w"]  # as one program, not op by op
    step = jax.jit(net.step)
    for ours, preset_step, random_step in zip(folded, step(rule.preset("backprop"), state, x, y).synapses["w"],
                                              step(random_genome, state, x, y).synapses["w"]):
        np.testing.assert_allclose(ours, preset_step, atol=1e-6)
        assert np.max(np.abs(np.asarray(ours) - np.asarray(random_step))) > 1e-3


def test_stablehlo_needs_an_output_file():
    result = subprocess.run([sys.executable, "-m", "rulec", "compile", "stdlib_rules/blur.rule", "--emit",
                             "stablehlo"], capture_output=True, text=True)
    assert result.returncode == 2 and "give an output file with -o" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_write_over_part_of_a_synapse_prints_as_python(tmp_path):
    # the update leaves the bias row alone: a write into part of the stored array, once a scatter the printer
    # did not know
    from rulec import export

    text = (STDLIB[0].parent / "backprop.rule").read_text().replace(
        "update (i in pre+bias, j in post)", "update (i in pre, j in post)")
    net = rulec.loads(text, "partial.rule").network(SIZES)
    module_path = tmp_path / "partial.py"
    module_path.write_text(export.emit_python(net, 2))
    spec = importlib.util.spec_from_file_location("partial_rule", module_path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    genome, state, x, y = arguments(net)
    after = net.step(genome, state, x, y)
    for ours, theirs in zip(state_arrays(after), state_arrays(module.step(genome, state, x, y))):
        np.testing.assert_allclose(ours, theirs, atol=1e-6)
    np.testing.assert_array_equal(after.synapses["w"][0][-1], state.synapses["w"][0][-1])  # the bias row kept
