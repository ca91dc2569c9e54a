"""The elementwise functions a rule may call, one record each, and the other built-in names.

An elementwise function takes one argument. Its record holds the function and its derivatives (`tanh'`,
`tanh''`), each written once against an array module `xp` (numpy or jax.numpy), and its SymPy form, which takes
the sympy module as an argument so that importing this module never imports SymPy. Adding a function is adding a
record to `_RECORDS`: the checker, the interpreters, the constant folder, the proofs' counter-examples and the
highlighter read the registry. Distributions draw random numbers and belong only in initialisers (after `~`).
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable

import numpy as np

from rulec.registry import is_gradient, registry


@dataclasses.dataclass(frozen=True)
class Elementwise:
    """One elementwise function: `value(xp, x)`, `derivatives[n - 1](xp, x)` for the mark with n primes, and
    `symbolic(sympy, x)`, the SymPy expression of the value. The proofs use generic activations instead; the
    SymPy form is the independent statement of the function that tests/test_functions.py checks the value and
    every derivative against.

    The contract, checked when the function is registered (`_problems`): its name is a word; at ordinary points
    (away from kinks, where it is defined) each derivative is the derivative of the form before it. SymPy's
    agreement is tests/test_functions.py's; tests/test_registries.py proves a rule with every activation."""

    name: str
    value: Callable
    derivatives: tuple[Callable, ...]
    symbolic: Callable

    def forms(self, xp) -> tuple[Callable, ...]:
        """The function and each derivative as one-argument functions on `xp` arrays, by number of primes."""
        return tuple(functools.partial(f, xp) for f in (self.value, *self.derivatives))


def _sigmoid(xp, x):
    return 1 / (1 + xp.exp(-x))


def _dsigmoid(xp, x):
    s = _sigmoid(xp, x)
    return s * (1 - s)


def _dtanh(xp, x):
    return 1 - xp.tanh(x) ** 2


def _positive(xp, x):
    """1 where x > 0, else 0: the derivative of relu, taken as 0 at the kink."""
    return (x > 0).astype(x.dtype) if hasattr(x, "astype") else float(x > 0)


_RECORDS = (
    Elementwise("identity", lambda xp, x: x, (lambda xp, x: xp.ones_like(x), lambda xp, x: xp.zeros_like(x)),
                lambda sp, x: x),
    Elementwise("tanh", lambda xp, x: xp.tanh(x), (_dtanh, lambda xp, x: -2 * xp.tanh(x) * _dtanh(xp, x)),
                lambda sp, x: sp.tanh(x)),
    Elementwise("sigmoid", _sigmoid, (_dsigmoid, lambda xp, x: _dsigmoid(xp, x) * (1 - 2 * _sigmoid(xp, x))),
                lambda sp, x: 1 / (1 + sp.exp(-x))),
    Elementwise("relu", lambda xp, x: xp.maximum(x, 0), (_positive, lambda xp, x: xp.zeros_like(x)),
                lambda sp, x: sp.Max(x, 0)),
    Elementwise("relu_tanh", lambda xp, x: xp.maximum(xp.tanh(x), 0),
                (lambda xp, x: _positive(xp, x) * _dtanh(xp, x),
                 lambda xp, x: _positive(xp, x) * -2 * xp.tanh(x) * _dtanh(xp, x)),
                lambda sp, x: sp.Max(sp.tanh(x), 0)),
    Elementwise("softplus", lambda xp, x: xp.logaddexp(x, 0), (_sigmoid, _dsigmoid),
                lambda sp, x: sp.log(1 + sp.exp(x))),
    Elementwise("elu", lambda xp, x: xp.where(x > 0, x, xp.expm1(xp.minimum(x, 0))),
                (lambda xp, x: xp.where(x > 0, 1.0, xp.exp(xp.minimum(x, 0))),
                 lambda xp, x: xp.where(x > 0, 0.0, xp.exp(xp.minimum(x, 0)))),
                lambda sp, x: sp.Piecewise((x, x > 0), (sp.exp(x) - 1, True))),
    Elementwise("exp", lambda xp, x: xp.exp(x), (lambda xp, x: xp.exp(x), lambda xp, x: xp.exp(x)),
                lambda sp, x: sp.exp(x)),
    Elementwise("log", lambda xp, x: xp.log(x), (lambda xp, x: 1 / x, lambda xp, x: -1 / x ** 2),
                lambda sp, x: sp.log(x)),
    Elementwise("sqrt", lambda xp, x: xp.sqrt(x), (lambda xp, x: 0.5 / xp.sqrt(x), lambda xp, x: -0.25 * x ** -1.5),
                lambda sp, x: sp.sqrt(x)),
    Elementwise("square", lambda xp, x: x * x, (lambda xp, x: 2 * x, lambda xp, x: 2 * xp.ones_like(x)),
                lambda sp, x: x ** 2),
    Elementwise("abs", lambda xp, x: xp.abs(x), (lambda xp, x: xp.sign(x),), lambda sp, x: sp.Abs(x)),
    Elementwise("sign", lambda xp, x: xp.sign(x), (), lambda sp, x: sp.sign(x)),
)

# Points away from every kink (0 for relu, abs, elu, sign); a function undefined at some (log, sqrt) skips them.
_PROBE = np.array([-1.7, -0.6, 0.3, 0.9, 2.2])


def _summed(form: Callable) -> Callable[[np.ndarray], float]:
    return lambda at: float(np.sum(form(at)))


def _problems(function: Elementwise) -> list[str]:
    """The clauses of the contract (see `Elementwise`) that `function` breaks."""
    forms = function.forms(np)
    with np.errstate(all="ignore"):
        points = _PROBE[np.isfinite(forms[0](_PROBE))]
    wrong = [index + 1 for index, (form, derivative) in enumerate(zip(forms, forms[1:]))
             if not is_gradient(_summed(form), derivative(points), points)]
    return [f"its derivative of order {n} is not the derivative of the form before it" for n in wrong]


FUNCTIONS = registry("function", ((record.name, record) for record in _RECORDS), _problems)

# How many derivatives each function defines: `tanh''` is known, `abs''` is not.
ELEMENTWISE = {record.name: len(record.derivatives) for record in _RECORDS}


def _indicator(test):
    """A comparison as a number: 1.0 where `test(a, b)` holds, 0.0 elsewhere."""
    return lambda xp, a, b: xp.where(test(a, b), 1.0, 0.0)


# Functions of two arguments in an equation, written against `xp`: the comparisons (`z > 0`, `[a <= b]`) give
# 1 or 0, `maximum` and `minimum` take the larger or smaller value elementwise.
PAIRWISE = {
    "<": _indicator(lambda a, b: a < b), "<=": _indicator(lambda a, b: a <= b),
    "==": _indicator(lambda a, b: a == b), ">": _indicator(lambda a, b: a > b),
    ">=": _indicator(lambda a, b: a >= b),
    "maximum": lambda xp, a, b: xp.maximum(a, b), "minimum": lambda xp, a, b: xp.minimum(a, b),
}
TWO_ARGUMENT_FUNCTIONS = ("maximum", "minimum")


def pairwise_table(xp) -> dict[str, Callable]:
    """Each function of two arguments (comparisons, maximum, minimum) for an array module `xp`."""
    return {name: functools.partial(f, xp) for name, f in PAIRWISE.items()}


DISTRIBUTIONS = {"normal": 2, "uniform": 2}  # name -> number of arguments: normal(mean, std), uniform(low, high)

# Draws inside a step (`let xi[j] = normal(0, 1)`): name -> number of arguments; bernoulli(p) is 1 with
# probability p, else 0. Each draws a fresh array of the let's shape, per example, at every step.
STEP_DRAWS = {"normal": 2, "uniform": 2, "bernoulli": 1}

INIT_NAMES = ("fan_in", "fan_out")  # sizes of a synapse's source and target layers, for scaled initialisers

# `size(i)` in an equation: how many neurons index i ranges over in this instance (the bias unit counted where i
# has it), and `size(batch)` the batch size; numbers of the network, so a rule can scale by them at any width.
SIZE = "size"

NORMALIZE_EPSILON = 1e-5  # added to the variance in `normalize(...)`


def elementwise_table(xp) -> dict[str, tuple[Callable, ...]]:
    """Each function and its derivatives, by number of primes, for an array module `xp`."""
    return {name: record.forms(xp) for name, record in FUNCTIONS.items()}
