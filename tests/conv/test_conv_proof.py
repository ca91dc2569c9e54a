"""`prove sgd(...)` on a tiny symbolic convnet: backprop.rule's update is exactly -lr times the gradient of the
loss, weight by weight, with the convolution's patches and their fold done on SymPy expressions."""

from __future__ import annotations

import rulec
from rulec.symbolic import proofs

CONVNETS = [[(3, 3, 1), rulec.Conv(2, 2), 1], [(3, 3, 1), rulec.Conv(2, 2, stride=2), 1]]


def test_backprop_is_sgd_on_a_symbolic_convnet():
    rule = rulec.load("stdlib_rules/backprop.rule")
    result = proofs.prove_sgd(rule.program, rule.program.rule.proofs[0], shapes=CONVNETS)
    assert result.failure is None
