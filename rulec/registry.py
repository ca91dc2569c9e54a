"""Registries: the tables that make rulec extensible (losses, functions, phase kinds, meta-learning methods).

Each registry's record class states its contract in its docstring, and a function of the registry returns the
clauses a record breaks. `registry` builds the table and checks every record against the contract as it is
registered, at import: a record that breaks it is a mistake in rulec's own tables, reported with what it broke,
not an internal error in a user's run.
"""

from __future__ import annotations

import typing
from collections.abc import Callable, Iterable

if typing.TYPE_CHECKING:
    import numpy as np


Record = typing.TypeVar("Record")


class RegistryError(TypeError):
    """A registry record that breaks its registry's contract."""


def registry(kind: str, entries: Iterable[tuple[str, Record]], contract: Callable[[Record], list[str]]
             ) -> dict[str, Record]:
    """`{name: record}` of (name, record) pairs, each checked by `contract`, which lists the clauses it breaks."""
    table: dict[str, Record] = {}
    for name, record in entries:
        problems = ([] if name.isidentifier() or name.replace("-", "_").isidentifier() else
                    ["its name must be a word"]) + list(contract(record))
        if name in table:
            problems.append("another entry has its name")
        if problems:
            raise RegistryError(f"{kind} `{name}` breaks the contract of its registry: " + "; ".join(problems))
        table[name] = record
    return table


def is_gradient(total: Callable[[np.ndarray], float], gradient: np.ndarray, at: np.ndarray,
                step: float = 1e-6) -> bool:
    """Whether `gradient` is the gradient of `total` at the float64 point `at`, by central differences, where both
    are finite (and somewhere they are): the check that a record's derivative belongs to its value."""
    import numpy as np  # here, so that the command line's registry of methods starts without NumPy

    numeric = np.empty_like(at)
    with np.errstate(all="ignore"):
        for index in np.ndindex(at.shape):
            nudge = np.zeros_like(at)
            nudge[index] = step
            numeric[index] = (total(at + nudge) - total(at - nudge)) / (2 * step)
    gradient = np.broadcast_to(np.asarray(gradient, np.float64), at.shape)
    finite = np.isfinite(numeric) & np.isfinite(gradient)
    return bool(finite.any()) and np.allclose(gradient[finite], numeric[finite], rtol=1e-4, atol=1e-6)
