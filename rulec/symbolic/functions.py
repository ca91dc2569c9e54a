"""SymPy versions of rulec's functions: generic activations for proofs, and concrete ones.

A generic activation `sigma` is an undefined function whose derivative is another undefined function, `sigma'`,
whose derivative is `sigma''`, and so on. Proving with generic activations proves a claim for every
differentiable activation at once; `sigmoid'` in a rule and the chain rule's derivative of `sigmoid` are then
the same symbol.
"""

from __future__ import annotations

import functools

import sympy

from rulec.functions import ELEMENTWISE


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


def generic_table() -> dict[str, tuple]:
    """Every elementwise function as a generic one, for the reference interpreter running on SymPy arrays."""
    return {name: tuple(_elementwise(generic(name, order)) for order in range(3)) for name in ELEMENTWISE}


def _elementwise(function):
    def apply(array):
        return _map(function, array)
    return apply


def _map(function, array):
    import numpy as np

    array = np.asarray(array, dtype=object)
    result = np.empty(array.shape, dtype=object)
    for index in np.ndindex(array.shape):
        result[index] = function(array[index])
    return result


def sigmoid(x):
    return 1 / (1 + sympy.exp(-x))


CONCRETE = {
    "identity": lambda x: x,
    "tanh": sympy.tanh,
    "sigmoid": sigmoid,
    "relu": lambda x: sympy.Max(x, 0),
    "relu_tanh": lambda x: sympy.Max(sympy.tanh(x), 0),
    "softplus": lambda x: sympy.log(1 + sympy.exp(x)),
    "elu": lambda x: sympy.Piecewise((x, x > 0), (sympy.exp(x) - 1, True)),
    "exp": sympy.exp,
    "log": sympy.log,
    "sqrt": sympy.sqrt,
    "square": lambda x: x ** 2,
    "abs": sympy.Abs,
    "sign": sympy.sign,
}


def numeric(name: str, order: int):
    """A NumPy function for the `order`-th derivative of `name`, to evaluate counter-examples."""
    import numpy as np

    from rulec.functions import elementwise_table

    return elementwise_table(np)[name][order]
