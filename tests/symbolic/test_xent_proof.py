"""`prove sgd(loss = xent)`: backprop_xent.rule is proved, on networks with two outputs; a feedback that is not
the cross-entropy's derivative is refused; and constructs the proofs cannot read are refused where they are."""

from __future__ import annotations

import pytest

from rulec.diagnostics import RuleError
from rulec.frontend import check_file, check_text
from rulec.ir import resolve
from rulec.symbolic import prove_all, summary
from rulec.symbolic.analysis import symbolic_symmetry
from tests.conftest import ROOT

XENT_RULE = ROOT / "stdlib_rules" / "backprop_xent.rule"


def test_backprop_xent_is_proved_sgd_on_the_cross_entropy_with_two_outputs():
    result, = prove_all(check_file(XENT_RULE))
    assert result.proved and result.loss == "xent"
    assert all(shape[-1] == 2 for shape in result.shapes)  # one output would make softmax trivially 1
    assert "the summed softmax cross-entropy, on networks 2-2-2 and 1-2-2-2" in summary(result)


def test_the_squared_error_feedback_is_not_sgd_on_the_cross_entropy():
    text = XENT_RULE.read_text().replace("a[j, 1] := loss'(a[j, 0], target[j])", "a[j, 1] := a[j, 0] - target[j]")
    with pytest.raises(RuleError) as caught:
        prove_all(check_text(text, "wrong.rule"))
    assert caught.value.diagnostics[0].code == "proof-failed"
    assert "cannot prove sgd(loss = xent, lr = lr)" in caught.value.message


def test_a_proof_of_a_rule_with_maximum_is_refused_where_maximum_is():
    text = XENT_RULE.read_text().replace("a[j, 0] := tanh(z[j]) for j in hidden",
                                         "a[j, 0] := maximum(z[j], 0) for j in hidden")
    with pytest.raises(RuleError) as caught:
        prove_all(check_text(text, "relu.rule"))
    diagnostic = caught.value.diagnostics[0]
    assert diagnostic.code == "sympy-unsupported"
    assert diagnostic.message.startswith("SymPy cannot prove this rule: it does not read comparisons of values")
    line = next(n for n, l in enumerate(text.splitlines(), 1) if "maximum(z[j], 0)" in l)
    assert (diagnostic.span.line, diagnostic.span.column) == (line, 14)


def test_the_gradient_field_analysis_of_a_rule_with_softmax_is_refused_where_softmax_is():
    text = XENT_RULE.read_text().replace("a[j, 0] := z[j] for j in output", "a[j, 0] := softmax(j) z[j] for j in output")
    program = resolve(check_text(text, "softmax.rule"))
    with pytest.raises(RuleError) as caught:
        symbolic_symmetry(program, {"lr": 0.005})
    assert caught.value.diagnostics[0].code == "sympy-unsupported"
    assert caught.value.message.startswith("SymPy cannot analyse this rule")
    assert caught.value.diagnostics[0].span.line == next(
        n for n, line in enumerate(text.splitlines(), 1) if "softmax(j)" in line)
