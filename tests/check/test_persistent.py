"""The checker's view of persistent state: which neuron states persist, and how a persistent neuron is typed."""

from __future__ import annotations

import pytest

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


SCALAR_RULE = """rule averaged
genome
  lr = 0.1
neuron a
persistent avg = 0
synapse w : pre+bias -> post ~ uniform(-1, 1) / sqrt(fan_in)
bias 1
input (i in input)
  a[i] := x[i]
forward (i in pre+bias, j in post)
  a[j] := tanh(sum(i) w[i, j] * a[i])
update (i in pre+bias, j in post)
  w[i, j] := w[i, j] - lr * avg * mean(batch) a[i] * (a[j] - target[j])  for j in output
  avg := 0.9 * avg + 0.1 * mean(batch) sum(j) a[j]
"""


def test_a_persistent_scalar_is_a_scalar_symbol_shared_by_the_batch():
    from rulec.frontend import check_text

    symbol = check_text(SCALAR_RULE, "averaged.rule").symbols.get("avg")
    assert (symbol.kind, symbol.axes, symbol.batch) == ("scalar", (), False)


WRITE = "  avg := 0.9 * avg + 0.1 * mean(batch) sum(j) a[j]\n"
UPDATE = "update (i in pre+bias, j in post)\n  w[i, j] := w[i, j] - lr * avg * mean(batch) a[i] * " \
    "(a[j] - target[j])  for j in output\n"


# Written outside the update, per example or with an index: tests/fixtures/invalid/scalar_*.rule.
@pytest.mark.parametrize("old, new, expected", [
    (UPDATE, "update (i in hidden, j in output)\n",
     ("phase-write", 13, 3, "an update phase over `hidden` and `output` cannot write persistent scalar `avg`")),
    (WRITE, "  avg := mean(batch) a[j]\n",
     ("free-index", 14, 24, "index `j` is free on the right but does not index persistent scalar `avg`")),
    (WRITE, "  avg := 1  for j in output\n",
     ("restriction-unused", 14, 17, "a write of persistent scalar `avg` runs once a step and takes no `for`")),
    ("lr * avg *", "lr * avg[j] *", ("index-count", 13, 29, "`avg` takes 0 indices, got 1")),
    ("persistent avg = 0", "persistent step = 0",
     ("reserved-name", 5, 1, "`step` is a built-in name and cannot be declared")),
])
def test_misuse_of_a_persistent_scalar_is_a_located_error(old, new, expected):
    from rulec.diagnostics import RuleError
    from rulec.frontend import check_text

    assert old in SCALAR_RULE
    with pytest.raises(RuleError) as caught:
        check_text(SCALAR_RULE.replace(old, new), "averaged.rule")
    first = caught.value.diagnostics[0]
    assert (first.code, first.span.line, first.span.column, first.message) == expected
