"""The functions a preset may use instead of a literal, so that one preset fits every size of its entry.

`mu = identity` is the identity for any k, where `mu = [[1, 0], [0, 1]]` is refused under `--set k=3`. Each
record says how many arguments it takes, whether they are numbers or one matrix, whether it needs a square
matrix, and builds its value for a shape.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from rulec.registry import registry


@dataclass(frozen=True)
class PresetFunction:
    """One preset function.

    The contract, checked when the function is registered (`_problems`): `usage` shows its name; given arguments
    it takes (numbers, or one matrix), `build` makes a finite array of exactly the entry's shape, a square one
    for a function that needs a square matrix.
    """

    name: str
    usage: str  # how it is written, for hints and the docs
    arities: tuple[int, ...] | None  # the numbers of arguments it takes (None: one or more)
    square: bool  # only for a square matrix (k x k)
    build: Callable[[tuple, tuple[int, ...]], np.ndarray]
    takes_matrix: bool = False  # its one argument is a matrix literal, not numbers

    def takes(self, count: int) -> bool:
        return count >= 1 if self.arities is None else count in self.arities


def _diagonal(values: tuple[float, ...], shape: tuple[int, ...]) -> np.ndarray:
    """The values down the diagonal, the last one repeated to its end: diag(1, -1) is diag(1, -1, -1) for k = 3."""
    diagonal = list(values) + [values[-1]] * (shape[0] - len(values))
    return np.diag(np.asarray(diagonal, dtype=np.float64))


def _block(values: tuple, shape: tuple[int, ...]) -> np.ndarray:
    """The matrix in the top-left corner, zeros elsewhere: block([[0, -1], [0, 1]]) is a 2 x 2 corner of a k x k
    entry, for any k >= 2."""
    corner = np.asarray(values[0], dtype=np.float64)
    full = np.zeros(shape)
    full[tuple(slice(0, n) for n in corner.shape)] = corner
    return full


def _problems(function: PresetFunction) -> list[str]:
    """The clauses of the contract (see `PresetFunction`) that `function` breaks."""
    if not function.usage.startswith(function.name):
        return ["its usage must show its name"]
    count = 1 if function.arities is None else min(function.arities)
    args = (((1.0,),),) if function.takes_matrix else (0.5,) * count
    built = np.asarray(function.build(args, (3, 3)))
    return [] if built.shape == (3, 3) and np.isfinite(built).all() else [
        "it must build a finite array of the entry's shape"]


PRESET_FUNCTIONS: dict[str, PresetFunction] = registry("preset function", ((f.name, f) for f in (
    PresetFunction("zeros", "zeros", (0,), False, lambda args, shape: np.zeros(shape)),
    PresetFunction("ones", "ones", (0,), False, lambda args, shape: np.ones(shape)),
    PresetFunction("fill", "fill(0.5)", (1,), False, lambda args, shape: np.full(shape, args[0], np.float64)),
    PresetFunction("identity", "identity", (0,), True, lambda args, shape: np.eye(shape[0])),
    PresetFunction("diag", "diag(1, -1)", None, True, _diagonal),
    PresetFunction("block", "block([[0, -1], [0, 1]])", (1,), False, _block, takes_matrix=True),
)), _problems)


def shape_problem(function: PresetFunction, arg_shapes: tuple[tuple[int, ...], ...], shape: tuple[int, ...]
                  ) -> str | None:
    """Why `function`, given arguments of `arg_shapes` (() for a number), cannot fill an entry of `shape`, or None
    when it can."""
    if function.square and (len(shape) != 2 or shape[0] != shape[1]):
        return f"`{function.name}` makes a square matrix, but the entry has shape {list(shape)}"
    if function.name == "diag" and len(arg_shapes) > shape[0]:
        return f"`diag` is given {len(arg_shapes)} values, but the diagonal has {shape[0]}"
    if function.takes_matrix:
        corner = arg_shapes[0]
        if len(corner) != len(shape) or any(c > s for c, s in zip(corner, shape)):
            return (f"`{function.name}` is given a {' x '.join(map(str, corner)) or 'single number'} corner, which "
                    f"does not fit inside the entry's shape {list(shape)}")
    return None


@dataclass(frozen=True)
class Call:
    """A preset value written as a function: `diag(1, -1)` is Call("diag", (1.0, -1.0))."""

    name: str
    args: tuple[float, ...]


def preset_array(value, shape: tuple[int, ...]) -> np.ndarray:
    """A preset value (a number, nested rows of numbers, or a Call) as a float64 array of `shape`."""
    if isinstance(value, Call):
        return PRESET_FUNCTIONS[value.name].build(value.args, tuple(shape))
    return np.broadcast_to(np.asarray(value, dtype=np.float64), shape).copy()
