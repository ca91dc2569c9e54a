"""The losses a rule may declare (`loss mse`), one record each.

A loss is l(h, t) of one output, for prediction h and target t. Its record holds the value and its derivative
in the prediction (`loss'(h, t)`), written against an array module `xp`; its SymPy form, which takes the sympy
module as an argument so that importing this module never imports SymPy (the proofs differentiate it); and the
words a proof's summary uses for it. Adding a loss is adding a record to `_RECORDS`: the checker, both
interpreters and the proofs read the registry.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable


@dataclasses.dataclass(frozen=True)
class Loss:
    """One loss: `value(xp, h, t)`, `derivative(xp, h, t)` (d/dh), `symbolic(sympy, h, t)` and `summed`, the
    proof summary's name for the loss summed over examples and outputs."""

    name: str
    value: Callable
    derivative: Callable
    symbolic: Callable
    summed: str

    def forms(self, xp) -> tuple[Callable, Callable]:
        """`loss` and `loss'` as two-argument functions on `xp` arrays."""
        return functools.partial(self.value, xp), functools.partial(self.derivative, xp)


_RECORDS = (
    Loss("mse", lambda xp, h, t: (h - t) ** 2 / 2, lambda xp, h, t: h - t, lambda sp, h, t: (h - t) ** 2 / 2,
         "the summed squared error"),
    # For +-1 targets; logaddexp keeps log(1 + exp(-t h)) finite for large -t h.
    Loss("logistic", lambda xp, h, t: xp.logaddexp(0, -t * h), lambda xp, h, t: -t / (1 + xp.exp(t * h)),
         lambda sp, h, t: sp.log(1 + sp.exp(-t * h)), "the summed logistic loss"),
)

LOSSES = {record.name: record for record in _RECORDS}

# `prove sgd(loss = any, ...)` claims the rule is gradient descent on every differentiable loss at once.
ANY_LOSS = "any"
PROVABLE_LOSSES = (*LOSSES, ANY_LOSS)


def loss_table(xp) -> dict[str, tuple[Callable, Callable]]:
    """Each loss and its derivative in the prediction, for an array module `xp`."""
    return {name: record.forms(xp) for name, record in LOSSES.items()}


def summed(name: str) -> str:
    """How a proof's summary names the loss it proved the rule descends: one of PROVABLE_LOSSES."""
    return "any differentiable loss, summed" if name == ANY_LOSS else LOSSES[name].summed
