"""Reads of neuron states that no phase writes: zero when nothing else can be read (an error), a warning when the
read also covers written states, the bias unit or a persistent neuron's initial value."""

from __future__ import annotations

import pytest

from rulec.diagnostics import RuleError, Severity
from rulec.frontend import check_text
from rulec.ir.lint import lint, raise_errors
from rulec.ir.resolve import resolve
from tests.conftest import ROOT

BACKPROP = (ROOT / "stdlib_rules" / "backprop.rule").read_text().replace("neuron a[2]", "neuron a[3]")


def found(text: str) -> list[tuple[int, int, str, Severity]]:
    return [(d.span.line, d.span.column, d.code, d.severity) for d in lint(resolve(check_text(text, "r.rule")))]


def line_of(text: str, fragment: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if fragment in line)


def test_a_state_index_no_phase_writes_is_an_error_where_it_can_only_read_zero():
    typo = BACKPROP.replace("a[i, 0] * a[j, 1]", "a[i, 0] * a[j, 2]")
    line = line_of(typo, "a[j, 2]")
    column = typo.splitlines()[line - 1].index("a[j, 2]") + 1
    assert (line, column, "never-written", Severity.ERROR) in found(typo)
    with pytest.raises(RuleError) as raised:
        raise_errors(lint(resolve(check_text(typo, "r.rule"))))
    assert "no phase writes state 2 of `a`" in raised.value.diagnostics[0].message


def test_a_read_that_covers_written_states_warns_about_the_unwritten_ones():
    # `sum(d)` reads states 0..2, and only 0 and 1 are written: the sum is not zero, but state 2 adds nothing
    text = BACKPROP.replace("w[i, j] * a[i, 0]\n", "w[i, j] * sum(d) a[i, d]\n")
    line = line_of(text, "sum(d) a[i, d]")
    assert [(f[0], f[2], f[3]) for f in found(text)] == [(line, "unwritten-read", Severity.WARNING)]


def test_a_persistent_neuron_no_phase_writes_warns_that_it_keeps_its_initial_value():
    text = BACKPROP.replace("bias 1", "bias 1\nneuron g persistent = 2").replace(
        "a[j, 1] := tanh'(z[j])", "a[j, 1] := g[j] * tanh'(z[j])")
    assert [(f[2], f[3]) for f in found(text)] == [("unwritten-read", Severity.WARNING)]


def test_reading_the_bias_unit_of_a_state_no_phase_writes_is_a_warning():
    text = BACKPROP.replace("a[i, 0] * a[j, 1]", "a[i, 2] * a[j, 1]")  # i in pre+bias: the bias reads 1
    assert [(f[2], f[3]) for f in found(text)] == [("unwritten-read", Severity.WARNING)]
