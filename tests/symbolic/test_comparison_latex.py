"""LaTeX of index comparisons, comparisons and the new reductions: Iverson brackets and named operators."""

from __future__ import annotations

from rulec.symbolic.latex import expr
from rulec.syntax.parse import parse
from tests.conftest import ROOT


def test_sangers_restricted_sum_prints_as_an_iverson_bracket():
    rule = parse((ROOT / "stdlib_rules" / "sanger.rule").read_text())
    update = rule.phases[-1].body[0].value
    assert r"\sum_{k \in \mathrm{post}} \left[k \le j\right] w_{i k} a_{k}" in expr(update)


def test_comparisons_and_reductions_print_with_their_operators():
    rule = parse("rule r\nforward (i in pre, j in post)\n"
                 "  a[j] := softmax(j) z[j] + max(k in post) z[k] * [z[j] >= 0] + logsumexp(j) z[j]\n")
    assert expr(rule.phases[0].body[0].value) == (
        r"\operatorname*{softmax}_{j} z_{j} + \max_{k \in \mathrm{post}} z_{k} \left[z_{j} \ge 0\right]"
        r" + \operatorname*{logsumexp}_{j} z_{j}")
