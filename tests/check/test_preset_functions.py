"""Presets that follow the dims: `identity`, `zeros`, `ones`, `fill(v)`, `diag(...)` fit any k."""

from __future__ import annotations

import numpy as np
import pytest

import rulec
from rulec.diagnostics import RuleError
from rulec.syntax.printer import print_rule
from rulec.syntax.parse import parse
from tests.conftest import ROOT

RULE = """rule p
dim k = 2
genome
  nu[k, k] ~ normal(0, 1)
  mu[k, k] ~ normal(0, 1)
  h[k] ~ normal(0, 1)
  A[pre+bias, post] ~ normal(0, 1)
  g = 1.0
preset mixed default
  nu = identity; mu = diag(1, -1); h = fill(0.5); A = ones; g = zeros
neuron a[k]
synapse w[k] : pre+bias -> post ~ uniform(-1, 1)
bias 1
input (i in input)
  a[i, 0] := x[i]
forward (i in pre+bias, j in post)
  a[j, c] := tanh(g * sum(i, d) w[i, j, c] * nu[d, c] * mu[d, c] * h[c] * a[i, d])
update (i in pre+bias, j in post)
  w[i, j, c] := w[i, j, c] + 0.1 * sum(batch) A[i, j] * a[i, c] * a[j, c]
"""


@pytest.mark.parametrize("k", [2, 3, 5])
def test_preset_functions_build_their_values_for_every_k(k):
    genome = rulec.loads(RULE, "p.rule", k=k).preset(sizes=(3, 2))
    np.testing.assert_array_equal(genome["nu"], np.eye(k))
    np.testing.assert_array_equal(genome["mu"], np.diag([1.0] + [-1.0] * (k - 1)))  # the last value repeats
    np.testing.assert_array_equal(genome["h"], np.full(k, 0.5))
    assert [a.shape for a in genome["A"]] == [(4, 2)] and float(np.min(genome["A"][0])) == 1.0
    assert float(genome["g"]) == 0.0


def test_preset_functions_print_back_as_written():
    printed = print_rule(parse(RULE))
    entries = ("nu = identity", "mu = diag(1, -1)", "h = fill(0.5)", "A = ones")
    assert all(f"  {entry}\n" in printed for entry in entries)
    assert print_rule(parse(printed)) == printed


def located_error(old: str, new: str) -> tuple[int, int, str, str | None, str]:
    assert old in RULE
    text = RULE.replace(old, new, 1)
    with pytest.raises(RuleError) as caught:
        rulec.loads(text, "p.rule")
    first = caught.value.diagnostics[0]
    line = text.split("\n")[first.span.line - 1]
    culprit = line[first.span.column - 1:first.span.end_column - 1]
    return first.span.line, first.span.column - line.index(new), culprit, first.hint, first.code


@pytest.mark.parametrize("old, new, culprit, hint, code", [
    ("nu = identity", "nu = identiy", "identiy", "did you mean `identity`?", "preset-function"),
    ("h = fill(0.5)", "h = fill()", "fill()", "write it as `fill(0.5)`", "preset-function"),
    ("g = zeros", "g = identity", "identity", "`g` has shape []", "preset-shape"),
    ("h = fill(0.5)", "h = diag(1)", "diag(1)", "`h` has shape [2]", "preset-shape"),
    ("mu = diag(1, -1)", "mu = diag(1, -1, 2)", "diag(1, -1, 2)", "`mu` has shape [2, 2]", "preset-shape"),
    ("A = ones", "A = identity", "identity", "use `zeros`, `ones` or `fill(...)`", "preset-shape"),
])
def test_a_preset_function_that_does_not_fit_is_located(old, new, culprit, hint, code):
    # the error points at the value, on the preset's line, just after `name = `
    line, column_in_entry, text, got_hint, got_code = located_error(old, new)
    assert (line, column_in_entry) == (10, new.index("=") + 3)
    assert (text, got_hint, got_code) == (culprit, hint, code)


def test_the_error_message_names_the_problem():
    with pytest.raises(RuleError) as caught:
        rulec.loads(RULE.replace("mu = diag(1, -1)", "mu = diag(1, -1, 2)"), "p.rule")
    assert caught.value.message == "`diag` is given 3 values, but the diagonal has 2"


def test_a_literal_preset_breaks_under_another_k_where_identity_does_not():
    rulec.loads(RULE, "p.rule", k=3)
    with pytest.raises(RuleError) as caught:
        rulec.loads(RULE.replace("nu = identity", "nu = [[1, 0], [0, 1]]"), "p.rule", k=3)
    assert caught.value.message == "preset `mixed` gives `nu` shape [2, 2], but it is declared with shape [3, 3]"


def test_the_stdlib_template_follows_k_where_it_says_identity():
    rule = rulec.load(ROOT / "stdlib_rules" / "blur_two_state.rule")
    np.testing.assert_array_equal(rule.preset()["mu"], np.eye(2))
    np.testing.assert_array_equal(rule.preset()["nu_h"], np.eye(2))


@pytest.mark.parametrize("k", [2, 3, 5])
def test_block_fills_the_top_left_corner_for_every_k(k):
    text = RULE.replace("mu = diag(1, -1)", "mu = block([[0, -1], [2, 1]])").replace("h = fill(0.5)", "h = block([3])")
    genome = rulec.loads(text, "p.rule", k=k).preset(sizes=(3, 2))
    expected = np.zeros((k, k))
    expected[:2, :2] = [[0, -1], [2, 1]]
    np.testing.assert_array_equal(genome["mu"], expected)
    np.testing.assert_array_equal(genome["h"], [3.0] + [0.0] * (k - 1))
    printed = print_rule(parse(text))
    assert "  mu = block([[0, -1], [2, 1]])\n" in printed and print_rule(parse(printed)) == printed


@pytest.mark.parametrize("new, culprit, message", [
    ("mu = block([[0, -1, 1]])", "block([[0, -1, 1]])",
     "`block` is given a 1 x 3 corner, which does not fit inside the entry's shape [2, 2]"),
    ("mu = block([0, 1])", "block([0, 1])",
     "`block` is given a 2 corner, which does not fit inside the entry's shape [2, 2]"),
    ("mu = block(1)", "1", "`block` takes a matrix"),
    ("mu = block([[0], [1, 2]])", "[[0], [1, 2]]", "the rows of this matrix differ in length"),
    ("mu = diag(1, [2])", "[2]", "`diag` takes numbers"),
])
def test_block_and_the_number_functions_refuse_the_wrong_argument_where_it_is(new, culprit, message):
    text = RULE.replace("mu = diag(1, -1)", new)
    with pytest.raises(RuleError) as caught:
        rulec.loads(text, "p.rule")
    first = caught.value.diagnostics[0]
    line = text.split("\n")[first.span.line - 1]
    assert (line[first.span.column - 1:first.span.end_column - 1], first.message) == (culprit, message)


@pytest.mark.parametrize("rule", ["blur_symmetric", "blur_oja"])
def test_the_delta_presets_hold_for_every_k(rule):
    for k in (2, 3, 6):
        genome = rulec.load(ROOT / "stdlib_rules" / f"{rule}.rule", k=k).preset()
        assert genome["mu"].shape == (k, k) and float(genome["mu"][0, 1]) == -1.0
        assert float(np.abs(genome["mu_h"][2:]).sum()) == 0.0


def test_a_block_outside_its_entrys_bounds_is_refused_and_one_inside_is_not():
    bounded = RULE.replace("mu[k, k] ~ normal(0, 1)", "mu[k, k] = 0 in [-1, 1]")
    rulec.loads(bounded.replace("mu = diag(1, -1)", "mu = block([[0, -1], [1, 0]])"), "p.rule")
    with pytest.raises(RuleError) as caught:
        rulec.loads(bounded.replace("mu = diag(1, -1)", "mu = block([[0, -2], [1, 0]])"), "p.rule")
    assert caught.value.message == "preset `mixed` sets `mu` outside its bounds [-1, 1]"
