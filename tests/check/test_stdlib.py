"""The stdlib rules pass the checker, and dims can be overridden."""

from __future__ import annotations

import pytest

from rulec.check.symbols import LayerAxis, StateAxis
from rulec.diagnostics import RuleError
from rulec.frontend import check_file, check_text
from tests.conftest import ROOT


def test_every_stdlib_rule_checks(stdlib_rule):
    checked = check_file(stdlib_rule)
    assert checked.rule.name == stdlib_rule.stem


def test_dims_can_be_overridden():
    checked = check_file(ROOT / "stdlib_rules" / "blur.rule", {"k": 8})
    assert checked.dims == {"k": 8}
    assert checked.symbols.get("nu").axes == (StateAxis(8), StateAxis(8))
    assert checked.symbols.get("w").axes == (LayerAxis("pre", True), LayerAxis("post", False), StateAxis(8))


def test_overriding_an_unknown_dim_is_an_error():
    with pytest.raises(RuleError) as caught:
        check_file(ROOT / "stdlib_rules" / "blur.rule", {"q": 3})
    assert caught.value.message == "`q` is not a dim of rule `blur`"
    assert caught.value.diagnostics[0].hint == "only dims can be set; rule `blur` has the dims `k`"


def test_an_override_that_breaks_a_preset_is_reported_at_the_preset():
    path = ROOT / "stdlib_rules" / "blur_two_state.rule"
    with pytest.raises(RuleError) as caught:
        check_file(path, {"k": 3})
    lines = path.read_text().split("\n")
    preset = lines.index("preset backprop default")

    def value_of(name: str) -> str:
        """The location of the matrix that the preset gives `name`."""
        line = next(n for n in range(preset + 1, len(lines)) if lines[n].split("=")[0].strip() == name)
        return f"{path}:{line + 1}:{lines[line].index('[[') + 1}"

    assert [(d.span.location, d.message) for d in caught.value.diagnostics if d.code == "preset-shape"] == [
        (value_of(name), f"preset `backprop` gives `{name}` shape [2, 2], but it is declared with shape [3, 3]")
        for name in ("nu", "mu_h")]  # mu and nu_h are `identity`, which follows k


def test_per_synapse_genome_entries_have_layer_axes():
    checked = check_file(ROOT / "stdlib_rules" / "abcd_hebbian.rule")
    assert checked.symbols.get("A").axes == (LayerAxis("pre", True), LayerAxis("post", False))


def test_all_errors_are_reported_at_once_in_source_order():
    text = ("rule r\nneuron a\nsynapse w : pre -> post ~ normal(0, 1)\ninput (i in input)\n  a[i] := x[i]\n"
            "forward (i in pre, j in post)\n  a[j] := sum(i) w[i, j] * b[i]\n"
            "update (i in pre, j in post)\n  w[i, j] := w[i, j] + lr * mean(batch) a[i] * a[j]\n")
    with pytest.raises(RuleError) as caught:
        check_text(text, "r.rule")
    assert [(d.span.line, d.message) for d in caught.value.diagnostics] == [
        (7, "undeclared name `b`"), (9, "undeclared name `lr`")]


def test_a_sum_index_can_be_reused_in_separate_sums_with_different_extents():
    text = ("rule r\ndim k = 2\ndim m = 3\ngenome\n  p[m] ~ normal(0, 1)\nneuron a[k]\nsynapse w : pre -> post\n"
            "input (i in input)\n  a[i, 0] := x[i]\nforward (i in pre, j in post)\n"
            "  a[j, 0] := sum(i, d) w[i, j] * a[i, d] + sum(d) p[d]\n"
            "update (i in pre, j in post)\n  w[i, j] := w[i, j]\n")
    check_text(text)
