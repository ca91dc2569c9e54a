"""SymPy versions of rulec's functions: generic activations for proofs, and concrete ones.

A generic activation `sigma` is an undefined function whose derivative is another undefined function, `sigma'`,
whose derivative is `sigma''`, and so on. Proving with generic activations proves a claim for every
differentiable activation at once; `sigmoid'` in a rule and the chain rule's derivative of `sigmoid` are then
the same symbol.
"""

from __future__ import annotations

import functools

import numpy as np
import sympy

from rulec.functions import ELEMENTWISE, FUNCTIONS
from rulec.losses import LOSSES


class Generic(sympy.Function):
    """Base of the generic activations; subclasses carry `activation` (a name) and `order` (of derivative)."""

    activation = ""
    order = 0

    def fdiff(self, argindex=1):
        return generic(self.activation, self.order + 1)(self.args[0])

    def _latex(self, printer):
        return rf"\operatorname{{{self.activation}}}{chr(39) * self.order}\left({printer._print(self.args[0])}\right)"


@functools.cache
def generic(name: str, order: int = 0) -> type[Generic]:
    """The undefined function standing for the `order`-th derivative of activation `name`."""
    return type(name + "'" * order, (Generic,), {"activation": name, "order": order})


class GenericLoss(sympy.Function):
    """A generic loss l(h, t), or its `order`-th derivative in the prediction h (subclasses set `order`)."""

    nargs = 2
    order = 0

    def fdiff(self, argindex=1):
        if argindex == 1:
            return generic_loss(self.order + 1)(*self.args)
        return sympy.Derivative(self, self.args[1])

    def _latex(self, printer):
        return rf"\ell{chr(39) * self.order}\left({', '.join(printer._print(a) for a in self.args)}\right)"


@functools.cache
def generic_loss(order: int = 0) -> type[GenericLoss]:
    return type("loss" + "'" * order, (GenericLoss,), {"order": order})


def loss_functions(abstract: bool) -> dict[str, tuple]:
    """The loss table for the reference interpreter on SymPy arrays: each loss as itself, or, to prove a claim
    for any loss, every loss as the generic one."""
    if abstract:
        pair = tuple(on_arrays(generic_loss(order)) for order in range(2))
        return {name: tuple(map(_ignoring_axis, pair)) if LOSSES[name].couples_outputs else pair for name in LOSSES}
    return {name: _coupled_forms(name) if LOSSES[name].couples_outputs
            else (on_arrays(concrete_loss(name)), on_arrays(concrete_loss_derivative(name))) for name in LOSSES}


def _ignoring_axis(function):
    """An elementwise loss function called as a coupled one is, with the output axis."""
    return lambda h, t, axis: function(h, t)


def _coupled_forms(name: str) -> tuple:
    """A loss of the whole output layer on arrays of SymPy expressions: its value (the output axis summed) and
    its derivative in each output, differentiated by SymPy from its form on one example."""
    record = LOSSES[name]

    def value(h, t, axis):
        return _by_example(h, t, axis, lambda hs, ts: record.symbolic(sympy, hs, ts), keep=False)

    def derivative(h, t, axis):
        def gradient(hs, ts):
            units = sympy.symbols(f"h0:{len(hs)}", real=True)
            loss = record.symbolic(sympy, units, ts)
            return [sympy.diff(loss, u).xreplace(dict(zip(units, hs))) for u in units]
        return _by_example(h, t, axis, gradient, keep=True)

    return value, derivative


def _by_example(h, t, axis, function, keep: bool) -> np.ndarray:
    """`function(outputs, targets)` of each example, along `axis` of the broadcast arrays h and t."""
    h, t = (np.moveaxis(a, axis, -1) for a in np.broadcast_arrays(h, t))
    result = np.empty(h.shape if keep else h.shape[:-1], dtype=object)
    for index in np.ndindex(h.shape[:-1]):
        result[index] = function(list(h[index]), list(t[index]))
    return np.moveaxis(result, -1, axis) if keep else result


def total_loss(name: str, prediction: np.ndarray, targets: np.ndarray, abstract: bool) -> sympy.Expr:
    """The loss of [batch, outputs] predictions summed over the batch (and the outputs, for a loss of one
    output); with `abstract`, of the generic loss l(h, t)."""
    if not abstract and LOSSES[name].couples_outputs:
        return sum(LOSSES[name].symbolic(sympy, list(h), list(t)) for h, t in zip(prediction, targets))
    value = generic_loss(0) if abstract else chained_loss(name)
    return sum(value(h, t) for h, t in zip(prediction.flat, targets.flat))


class ChainedLoss(sympy.Function):
    """A concrete loss l(h, t) that SymPy differentiates by the chain rule alone: d/dw l(h(w), t) is
    `derivative(h, t) * dh/dw`, with `derivative` SymPy's own d/dh of the loss's SymPy form (subclasses set
    `loss`). The rule's `loss'(h, t)` is that same expression, so the two sides of a proof cancel term by term;
    expanded inside the chain rule, the branches of a piecewise loss (huber) would meet in two spellings that
    only `simplify` can reconcile, slowly."""

    nargs = 2
    loss = ""

    def fdiff(self, argindex=1):
        if argindex == 1:
            return concrete_loss_derivative(self.loss)(*self.args)
        return sympy.Derivative(self, self.args[1])  # in the target: never a weight, so never taken


@functools.cache
def chained_loss(name: str) -> type[ChainedLoss]:
    return type(name, (ChainedLoss,), {"loss": name})


def concrete_loss(name: str):
    """The SymPy form of loss `name`, l(h, t)."""
    return functools.partial(LOSSES[name].symbolic, sympy)


def concrete_loss_derivative(name: str):
    """dl/dh of loss `name`, differentiated by SymPy from its SymPy form."""
    h, t = sympy.symbols("h t", real=True)
    return sympy.Lambda((h, t), sympy.diff(LOSSES[name].symbolic(sympy, h, t), h))


def generic_table() -> dict[str, tuple]:
    """Every elementwise function as a generic one, for the reference interpreter running on SymPy arrays."""
    return {name: tuple(on_arrays(generic(name, order)) for order in range(3)) for name in ELEMENTWISE}


def on_arrays(function):
    """`function` applied to each element (or pair of broadcast elements) of arrays of SymPy expressions."""
    return np.vectorize(function, otypes=[object])


def numeric(name: str, order: int):
    """A NumPy function for the `order`-th derivative of `name`, to evaluate counter-examples."""
    return FUNCTIONS[name].forms(np)[order]
