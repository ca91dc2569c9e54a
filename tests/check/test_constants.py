"""Constants are folded and checked once, at check time; later stages use the folded initialisers."""

from __future__ import annotations

import jax
import numpy as np
import pytest

import rulec
from rulec.check.constants import FLOAT32_MAX
from rulec.diagnostics import RuleError
from rulec.frontend import check_text
from rulec.syntax import ast
from rulec.syntax.printer import print_rule
from tests.conftest import ROOT

BLUR = (ROOT / "stdlib_rules" / "blur.rule").read_text()


def blur_with(old: str, new: str) -> str:
    assert old in BLUR
    return BLUR.replace(old, new, 1)


def located(text: str, dims=None) -> tuple[str, int, int, str]:
    with pytest.raises(RuleError) as caught:
        check_text(text, "c.rule", dims)
    first = caught.value.diagnostics[0]
    span = first.span
    line = text.split("\n")[span.line - 1]
    end = span.end_column - 1 if span.end_line == span.line else len(line)
    return first.message, span.line, span.column, line[span.column - 1:end]


@pytest.mark.parametrize("expression, message, culprit", [
    ("1 / 0", "this constant is infinite", "1 / 0"),
    ("1e400", "this number is too large to represent", "1e400"),
    ("0 / 0", "this constant is not a number (NaN)", "0 / 0"),
    ("2 * (1 / 0)", "this constant is infinite", "1 / 0"),  # the operator that made it, reported once
    ("log(0) + 1", "this constant is infinite", "log(0)"),
    ("sqrt(0 - 1)", "this constant is not a number (NaN)", "sqrt(0 - 1)"),
    ("10 ^ 400", "this constant is infinite", "10 ^ 400"),
    ("1e39", "this constant, 1e+39, overflows float32", "1e39"),
    ("1e20 * 1e20", "this constant, 1e+40, overflows float32", "1e20 * 1e20"),
    ("1 / (k - 4)", "this constant is infinite", "1 / (k - 4)"),
])
def test_a_bad_genome_constant_is_located_on_the_expression_that_made_it(expression, message, culprit):
    text = blur_with("f = 1.0; eta", f"f = {expression}; eta")
    found, line, column, span_text = located(text)
    assert (found, span_text) == (message, culprit)
    assert text.split("\n")[line - 1].index(culprit) == column - 1


def test_a_dim_override_can_make_a_constant_bad():
    text = blur_with("f = 1.0; eta", "f = 1 / (k - 3); eta")
    check_text(text)  # k = 4 in the file
    assert located(text, {"k": 3})[0] == "this constant is infinite"


@pytest.mark.parametrize("old, new, culprit", [
    ("nu[k, k]   ~ normal(0, 1)", "nu[k, k]   ~ normal(0, 1 / 0)", "1 / 0"),  # an initialiser argument
    ("~ uniform(-1, 1) / sqrt(fan_in)", "~ uniform(-1, 1e400) / sqrt(fan_in)", "1e400"),
    ("bias 1", "bias 1e400", "bias 1e400"),
])
def test_initialiser_arguments_and_the_bias_are_checked(old, new, culprit):
    message, _, _, span_text = located(blur_with(old, new))
    assert span_text == culprit
    assert message in ("this constant is infinite", "this number is too large to represent")


def test_preset_literals_and_equation_constants_are_checked():
    backprop = (ROOT / "stdlib_rules" / "backprop.rule").read_text()
    message, _, _, culprit = located(backprop.replace("- lr * sum", "- (1 / 0) * lr * sum"))
    assert (message, culprit) == ("this constant is infinite", "1 / 0")
    message, _, _, culprit = located(backprop.replace("- lr * sum", "- lr * 1e39 * sum"))
    assert (message, culprit) == ("this constant, 1e+39, overflows float32", "1e39")
    two_state = (ROOT / "stdlib_rules" / "blur_two_state.rule").read_text()
    message, _, _, culprit = located(two_state.replace("  nu   = [[1, 1]", "  nu   = [[1e300, 1]"))
    assert (message, culprit) == ("this constant, 1e+300, overflows float32", "1e300")


def test_the_largest_float32_is_accepted():
    check_text(blur_with("f = 1.0; eta", f"f = {FLOAT32_MAX!r}; eta"))


def test_later_stages_use_the_folded_initialisers():
    text = blur_with("f = 1.0; eta", "f = 2 ^ 3 / k - sqrt(k); eta").replace(
        "nu[k, k]   ~ normal(0, 1)", "nu[k, k]   ~ normal(1 + 1, k / 8)")
    rule = rulec.loads(text, k=2)
    by_name = {entry.name: entry.init for entry in rule.program.genome}
    assert by_name["f"] == ast.Number(2.0 ** 3 / 2 - np.sqrt(2), by_name["f"].span)
    assert [arg.value for arg in by_name["nu"].args] == [2.0, 0.25]
    genome = rule.init_genome(jax.random.key(0))
    assert float(genome["f"]) == pytest.approx(8 / 2 - np.sqrt(2))
    printed = print_rule(rule.checked.rule)
    assert "2 ^ 3 / k - sqrt(k)" in printed  # the checked rule itself stays as written
