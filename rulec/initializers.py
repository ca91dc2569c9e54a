"""Evaluates initialiser expressions (`normal(0, 1) / sqrt(fan_in)`) for any array backend.

`sample(name, a, b, shape)` draws from a distribution: the API passes one that draws with jax.random, and the
checker, which folds only initialisers without draws, passes none.
"""

from __future__ import annotations


from rulec.syntax import ast


DEFAULT_SYNAPSE_INIT = "normal(0, 1) / sqrt(fan_in)"


def evaluate(expr: ast.Expr, shape, names: dict[str, float], sample, functions):
    """The value of an initialiser with the given shape. `names` holds dims, fan_in and fan_out."""

    def value(e):
        if isinstance(e, ast.Number):
            return e.value
        if isinstance(e, ast.Ref):
            return float(names[e.name])
        if isinstance(e, ast.Neg):
            return -value(e.operand)
        if isinstance(e, ast.Binary):
            return e.op.apply(value(e.left), value(e.right))
        if e.function in ("normal", "uniform"):
            return sample(e.function, value(e.args[0]), value(e.args[1]), shape)
        return functions[e.function][0](value(e.args[0]))

    return value(expr)
