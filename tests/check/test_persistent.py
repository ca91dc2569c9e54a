"""The checker's view of persistent state: which neuron states persist, and how a persistent neuron is typed."""

from __future__ import annotations

from rulec.frontend import check_file
from tests.conftest import ROOT


def test_symbols_say_which_neuron_states_persist():
    symbols = check_file(ROOT / "stdlib_rules" / "bcm.rule").symbols
    assert symbols.persistent("theta") == {0}
    assert symbols.persistent("a") == set() and symbols.persistent("w") == set()
    assert symbols.persistent("no_such_name") == set()
    assert not symbols.get("theta").batch and symbols.get("a").batch  # one value per neuron, not per example
    assert symbols.get("step").kind == "builtin" and symbols.get("step").axes == ()


def test_the_update_phase_writes_persistent_neurons_of_post_only():
    import pytest

    from rulec.diagnostics import RuleError
    from rulec.frontend import check_text

    text = (ROOT / "stdlib_rules" / "backprop.rule").read_text().replace(
        "bias 1", "bias 1\nneuron r persistent = 0").replace(
        "  w[i, j] := w[i, j] - lr", "  r[j] := 0.9 * r[j] + 0.1 * mean(batch) a[j, 0]  for j in output\n"
        "  w[i, j] := w[i, j] - lr")
    check_text(text, "baseline.rule")
    line = "r[j] := 0.9 * r[j] + 0.1 * mean(batch) a[j, 0]  for j in output"
    for wrong in ("r[i] := 0.9 * r[i] + 0.1 * mean(batch) a[i, 0]  for i in pre",
                  "a[j, 0] := 0.9 * r[j] + 0.1 * mean(batch) a[j, 0]"):
        bad = text.replace(line, wrong)
        with pytest.raises(RuleError) as caught:
            check_text(bad, "baseline.rule")
        assert caught.value.diagnostics[0].code == "phase-write"
        assert caught.value.diagnostics[0].hint in ("it writes `post` neurons",  # r is persistent
                                                    "it writes no neurons; and persistent ones of `post`, once a step")
