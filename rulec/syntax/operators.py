"""The operator kinds of expressions: binary operators and reductions, as enums the AST and every later stage
name (`ast.BinOp`, `ast.Reducer`)."""

from __future__ import annotations

import enum
import operator


class BinOp(enum.Enum):
    ADD = "+"
    SUB = "-"
    MUL = "*"
    DIV = "/"
    POW = "^"

    def apply(self, left, right):
        """The operator on two values of any type that supports it (floats, arrays, SymPy expressions)."""
        return _OPERATOR_FUNCTIONS[self](left, right)


_OPERATOR_FUNCTIONS = {BinOp.ADD: operator.add, BinOp.SUB: operator.sub, BinOp.MUL: operator.mul,
                       BinOp.DIV: operator.truediv, BinOp.POW: operator.pow}


class Reducer(enum.Enum):
    SUM = "sum"
    MEAN = "mean"
    NORMALIZE = "normalize"  # standardises over the listed axes; keeps them
    MAX = "max"
    LOGSUMEXP = "logsumexp"  # log(sum(exp(...))), computed as max + log(sum(exp(... - max)))
    SOFTMAX = "softmax"  # exp(...) / sum(exp(...)) over the listed axes; keeps them

    @property
    def keeps_axes(self) -> bool:  # normalize and softmax keep the axes they reduce over; the others drop them
        return self in (Reducer.NORMALIZE, Reducer.SOFTMAX)
