"""Gradient-field analysis (paper eq. 10), LaTeX and PNG of the equations."""

from __future__ import annotations

import subprocess
import sys

import jax
import numpy as np
import pytest

import rulec
from rulec.frontend import check_file
from rulec.symbolic.analysis import NUMERIC_SHAPE, numeric_symmetry, symbolic_symmetry
from rulec.symbolic.latex import document, expr
from rulec.syntax import parse
from tests.conftest import ROOT, STDLIB


def analyse(path, genome_of, **dims):
    rule = rulec.load(ROOT / path, **dims)
    genome = genome_of(rule)
    net = rule.network(NUMERIC_SHAPE)
    symbolic = symbolic_symmetry(rule.program, jax.tree.map(np.asarray, genome))
    numeric = numeric_symmetry(net, genome, net.init(jax.random.key(1)))
    return symbolic, numeric


def test_backprop_is_a_gradient_field():
    symbolic, numeric = analyse("stdlib_rules/backprop.rule", lambda r: r.init_genome(jax.random.key(0)))
    assert symbolic.symmetric and numeric.symmetric
    assert numeric.weights == (2 + 1) * 20 + (20 + 1) * 2  # the paper's 102 weights per channel
    assert numeric.asymmetry < 1e-12


def test_a_random_blur_genome_is_not():
    symbolic, numeric = analyse("stdlib_rules/blur_two_state.rule", lambda r: r.init_genome(jax.random.key(0)))
    assert not symbolic.symmetric and symbolic.witness.startswith("dΔw0")
    assert not numeric.symmetric
    assert numeric.asymmetry > 1e6 * numeric.noise


def test_analyze_command_reports_both_figures():
    result = subprocess.run([sys.executable, "-m", "rulec", "analyze", "stdlib_rules/blur_two_state.rule",
                             "--preset", "backprop"], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert "noise floor" in result.stdout and "consistent with a gradient field" in result.stdout


@pytest.mark.parametrize("path", STDLIB, ids=lambda p: p.stem)
def test_every_rule_renders_to_latex(path):
    text = document(check_file(path))
    assert text.count("\\begin{align*}") == text.count("\\end{align*}") >= 3


def test_latex_of_a_blur_forward_equation():
    rule = parse("rule r\nforward (i in pre, j in post)\n  a[j, c] := relu_tanh(eta * sum(i, d) w[i, j, c] * "
                 "nu_h[d, c] * a[i, d])\n")
    value = rule.phases[0].body[0].value
    assert expr(value) == ("\\operatorname{relu\\_tanh}\\left(\\eta \\sum_{i, d} w_{i j c} \\nu^{h}_{d c} "
                           "a_{i d}\\right)")


def test_png_is_written(tmp_path):
    out = tmp_path / "rule.png"
    result = subprocess.run([sys.executable, "-m", "rulec", "compile", "stdlib_rules/blur.rule", "--emit", "png",
                             "-o", str(out)], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
