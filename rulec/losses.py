"""The losses a rule may declare (`loss mse`), one record each.

A loss is l(h, t) of one output, for prediction h and target t, or, for `xent`, of the whole output layer (see
`Loss.couples_outputs`). Its record holds the value and its derivative
in the prediction (`loss'(h, t)`), written against an array module `xp`; its SymPy form, which takes the sympy
module as an argument so that importing this module never imports SymPy (the proofs differentiate it); and the
words a proof's summary uses for it. Adding a loss is adding a record to `_RECORDS`: the checker, both
interpreters and the proofs read the registry.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable

import numpy as np

from rulec.registry import is_gradient, registry


@dataclasses.dataclass(frozen=True)
class Loss:
    """One loss: `value(xp, h, t)`, `derivative(xp, h, t)` (d/dh), `symbolic(sympy, h, t)` and `summed`, the
    proof summary's name for the loss summed over examples and outputs.

    The contract, checked when the loss is registered (`_problems`): its name is a word other than `any`;
    `summed` reads "the summed ..."; on NumPy float64 arrays (of +-1 targets) `value` is finite and `derivative`
    is its derivative in h. Its `symbolic` form must be SymPy's statement of `value`: tests/test_functions.py
    checks it for every loss, tests/symbolic/test_proofs.py proves backprop declaring each loss, and
    tests/test_registries.py runs each through a training step.
    """

    name: str
    value: Callable
    derivative: Callable
    symbolic: Callable
    summed: str
    # A loss of the whole output layer (softmax cross-entropy) rather than of each output: then `value(xp, h, t,
    # axis)` sums over the output axis, `derivative(xp, h, t, axis)` keeps it, and `symbolic(sympy, h, t)` takes
    # one example's outputs and targets as sequences.
    couples_outputs: bool = False

    def forms(self, xp) -> tuple[Callable, Callable]:
        """`loss` and `loss'` as two-argument functions on `xp` arrays."""
        return functools.partial(self.value, xp), functools.partial(self.derivative, xp)


_RECORDS: tuple[Loss, ...] = (
    Loss("mse", lambda xp, h, t: (h - t) ** 2 / 2, lambda xp, h, t: h - t, lambda sp, h, t: (h - t) ** 2 / 2,
         "the summed squared error"),
    # For +-1 targets; logaddexp keeps log(1 + exp(-t h)) finite for large -t h.
    Loss("logistic", lambda xp, h, t: xp.logaddexp(0, -t * h), lambda xp, h, t: -t / (1 + xp.exp(t * h)),
         lambda sp, h, t: sp.log(1 + sp.exp(-t * h)), "the summed logistic loss"),
    # Huber's loss with threshold 1: squared near the target, absolute beyond, so outliers pull with at most 1.
    Loss("huber", lambda xp, h, t: xp.where(abs(h - t) <= 1, (h - t) ** 2 / 2, abs(h - t) - 0.5),
         lambda xp, h, t: xp.clip(h - t, -1, 1),
         lambda sp, h, t: sp.Piecewise(((h - t) ** 2 / 2, (h - t >= -1) & (h - t <= 1)),
                                       (h - t - sp.Rational(1, 2), h - t > 1), (t - h - sp.Rational(1, 2), True)),
         "the summed Huber loss"),
)



def _xent_distribution(t):
    """The target distribution of +-1 targets: (t + 1) / 2, one-hot for a one-hot +-1 target."""
    return (t + 1) / 2


def _xent(xp, h, t, axis):
    """-sum_j p_j log softmax(h)_j = sum_j p_j (logsumexp(h) - h_j), with the maximum taken out of logsumexp."""
    peak = xp.max(h, axis=axis, keepdims=True)
    logsumexp = xp.log(xp.sum(xp.exp(h - peak), axis=axis, keepdims=True)) + peak
    return xp.sum(_xent_distribution(t) * (logsumexp - h), axis=axis)


def _dxent(xp, h, t, axis):
    """softmax(h) * sum(p) - p: softmax(h) - p for a distribution p, and the exact derivative for any t."""
    p = _xent_distribution(t)
    shifted = xp.exp(h - xp.max(h, axis=axis, keepdims=True))
    return shifted / xp.sum(shifted, axis=axis, keepdims=True) * xp.sum(p, axis=axis, keepdims=True) - p


def _xent_symbolic(sp, h, t):
    logsumexp = sp.log(sum(sp.exp(hj) for hj in h))
    return sum(_xent_distribution(tj) * (logsumexp - hj) for hj, tj in zip(h, t))


_RECORDS += (
    Loss("xent", _xent, _dxent, _xent_symbolic, "the summed softmax cross-entropy", couples_outputs=True),
)

# `prove sgd(loss = any, ...)` claims the rule is gradient descent on every differentiable loss at once.
ANY_LOSS = "any"


def _problems(loss: Loss) -> list[str]:
    """The clauses of the contract (see `Loss`) that `loss` breaks."""
    problems = [] if loss.name != ANY_LOSS else [f"`{ANY_LOSS}` stands for every loss in a `prove` statement"]
    if not loss.summed.startswith("the summed "):
        problems.append("its summary must read `the summed ...`")
    # Two examples of three outputs, away from any kink (huber's at |h - t| = 1), with one-hot +-1 targets.
    h = np.array([[-1.3, 0.45, 2.5], [0.2, -0.7, 1.1]])
    t = np.array([[-1.0, 1.0, -1.0], [1.0, -1.0, -1.0]])
    axis = (-1,) if loss.couples_outputs else ()
    with np.errstate(all="ignore"):
        value = np.asarray(loss.value(np, h, t, *axis), np.float64)
        derivative = np.asarray(loss.derivative(np, h, t, *axis), np.float64)
    if not np.isfinite(value).all():
        problems.append("its value is not finite at ordinary predictions")
    elif derivative.shape != h.shape or not is_gradient(lambda at: np.sum(loss.value(np, at, t, *axis)), derivative,
                                                        h):
        problems.append("its derivative is not the derivative of its value in the prediction")
    return problems


LOSSES = registry("loss", ((record.name, record) for record in _RECORDS), _problems)
PROVABLE_LOSSES = (*LOSSES, ANY_LOSS)


def loss_table(xp) -> dict[str, tuple[Callable, Callable]]:
    """Each loss and its derivative in the prediction, for an array module `xp`."""
    return {name: record.forms(xp) for name, record in LOSSES.items()}


def summed(name: str) -> str:
    """How a proof's summary names the loss it proved the rule descends: one of PROVABLE_LOSSES."""
    return "any differentiable loss, summed" if name == ANY_LOSS else LOSSES[name].summed
