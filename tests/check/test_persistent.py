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
