"""Typing of comparisons: `z > 0` compares values; `[k <= j]` between two neuron indices compares positions.

A comparison of values has the type of its two sides. Between two neuron indices of one layer set it is a
mask over both, so both stay free; comparing a neuron index with a value, or indices of two layer sets, is an
`index-compare` error.
"""

from __future__ import annotations

from rulec.check.indices import SCALAR, Ty
from rulec.syntax import ast


def compare(typer, comparison: ast.Compare) -> Ty:
    """The type of `comparison` in the phase `typer` (a PhaseTyper) is typing; its errors go to the typer."""
    sides = (comparison.left, comparison.right)
    layers = [typer.layers.get(s.name) if isinstance(s, ast.Ref) and not s.indices else None for s in sides]
    if not any(layers):
        return typer.expr(comparison.left).join(typer.expr(comparison.right))
    if not all(layers):
        index, other = sides if layers[0] else sides[::-1]
        assert isinstance(index, ast.Ref), index  # the side with a layer
        typer.error(other.span, f"`{index.name}` is a neuron index and can only be compared with another neuron "
                    "index of its layer set", f"compare it with an index bound to `{layers[sides.index(index)]}`",
                    "index-compare")
        return SCALAR
    left, right = layers
    left_index, right_index = comparison.left, comparison.right
    assert isinstance(left_index, ast.Ref) and isinstance(right_index, ast.Ref) and left and right  # neuron indices
    if left.base != right.base:
        typer.error(comparison.span, f"`{left_index.name}` ranges over `{left}` and `{right_index.name}` "
                    f"over `{right}`: only indices of one layer set can be compared",
                    f"bind both to the same layer set, as in `sum(k in {right.base}, k {comparison.op} "
                    f"{right_index.name})`", "index-compare")
    for side, layer in zip((left_index, right_index), layers):
        typer.index_types[side.span] = layer
    return Ty({s.name: s.span for s in (left_index, right_index)}, False)
