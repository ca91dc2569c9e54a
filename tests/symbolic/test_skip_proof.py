"""The skip synapse (`input -> output`) through the proofs: backprop with a skip synapse is SGD, and a wrong
update of the skip synapse is refused, naming the weight and the two layers it joins."""

from __future__ import annotations

import pytest

from rulec.diagnostics import RuleError
from rulec.frontend import check_text
from rulec.symbolic import prove_all
from tests.conftest import ROOT

RULE = ROOT / "stdlib_rules" / "backprop_skip.rule"


def test_backprop_with_a_skip_synapse_is_proved_sgd():
    results = prove_all(check_text(RULE.read_text(), "backprop_skip.rule"))
    assert [r.proved for r in results] == [True]


def test_a_skip_update_with_its_sign_flipped_is_refused_at_the_skip_weight():
    text = RULE.read_text().replace("s[r, j] := s[r, j] - lr", "s[r, j] := s[r, j] + lr")
    with pytest.raises(RuleError) as caught:
        prove_all(check_text(text, "flipped_skip.rule"))
    message = caught.value.diagnostics[0].message
    assert "the update of weight s0[0, 0] (from neuron 0 of layer 0 to neuron 0 of layer 2)" in message
