"""The phase table agrees with the grammar, and the stages that read it behave as its records say."""

from __future__ import annotations

import re

import pytest

from rulec.diagnostics import RuleError
from rulec.frontend import check_text
from rulec.ir.liveness import PREDICT_PHASES
from rulec.ir.nodes import Scheme
from rulec.ir.instances import instances
from rulec.ir.schedule import PHASE_ORDER
from rulec.phases import PHASES, SPEC, PhaseKind
from tests.conftest import ROOT

# A small rule with every phase, from which one phase at a time is dropped.
PHASE_TEXT = {
    PhaseKind.INPUT: "input (i in input)\n  a[i, 0] := x[i]\n",
    PhaseKind.FORWARD: "forward (i in pre, j in post)\n  a[j, 0] := tanh(sum(i) w[i, j] * a[i, 0])\n",
    PhaseKind.FEEDBACK: "feedback (j in output)\n  a[j, 1] := target[j] - a[j, 0]\n",
    PhaseKind.BACKWARD: "backward (i in pre, j in post)\n  a[i, 1] := sum(j) w[i, j] * a[j, 1]\n",
    PhaseKind.UPDATE: "update (i in pre, j in post)\n  w[i, j] := w[i, j] + sum(batch) a[i, 0] * a[j, 1]\n",
}
HEADER = "rule r\nneuron a[2]\nsynapse w : pre -> post\n"


def test_the_grammar_opens_a_phase_with_exactly_the_tables_keywords():
    grammar = (ROOT / "grammar" / "rule.lark").read_text()
    keywords = re.findall(r'"(\w+)"', re.search(r"^!phase_name:(.*)$", grammar, re.M).group(1))
    assert sorted(keywords) == sorted(kind.value for kind in PhaseKind) == sorted(s.kind.value for s in PHASES)


def test_the_step_runs_the_tables_order_and_predict_its_predicting_phases():
    assert PHASE_ORDER == tuple(spec.kind for spec in PHASES)
    assert PREDICT_PHASES == (PhaseKind.INPUT, PhaseKind.FORWARD)


@pytest.mark.parametrize("scheme, roles", [(Scheme.PAIRS, "pre"), (Scheme.HIDDEN, "hidden")], ids=["pairs", "hidden"])
def test_a_top_down_phase_runs_its_instances_from_the_output_down_and_never_on_the_input(scheme, roles):
    assert [r[roles] for r in instances(scheme, 3, SPEC[PhaseKind.BACKWARD].top_down)] == [2, 1]
    assert [r[roles] for r in instances(scheme, 3, SPEC[PhaseKind.UPDATE].top_down)] == \
        ([0, 1, 2] if scheme is Scheme.PAIRS else [1, 2])


@pytest.mark.parametrize("spec", PHASES, ids=lambda s: s.kind.value)
def test_a_rule_without_a_phase_fails_exactly_when_the_table_requires_it(spec):
    text = HEADER + "".join(body for kind, body in PHASE_TEXT.items() if kind is not spec.kind)
    if not spec.required:
        check_text(text, "r.rule")
        return
    with pytest.raises(RuleError) as caught:
        check_text(text, "r.rule")
    [diagnostic] = caught.value.diagnostics
    assert (diagnostic.message, diagnostic.hint, diagnostic.span.line) == \
        (f"the rule has no {spec.kind.value} phase", spec.missing_hint, 1)
    assert f"`{spec.kind.value} (" in spec.missing_hint
