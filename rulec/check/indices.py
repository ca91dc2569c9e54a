"""Index types: what an index in an equation ranges over.

A layer index ranges over the neurons of a layer set, bound in a phase header (`i in pre+bias`) or in a
reduction (`sum(r in pre)`), and possibly narrowed by `for i in hidden`. Every other index name is a state index;
its extent is inferred from the axes it indexes, and all of its uses must agree.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from rulec.check.symbols import Symbol
from rulec.diagnostics import Span


@dataclasses.dataclass(frozen=True, slots=True)
class LayerIndex:
    base: str
    bias: bool
    within: str | None = None  # a narrowing such as `hidden` for an index bound to `post`

    @property
    def effective(self) -> str:
        return self.within or self.base

    def __str__(self) -> str:
        text = self.base + ("+bias" if self.bias else "")
        return f"{text} (narrowed to {self.within})" if self.within else text


@dataclasses.dataclass(frozen=True, slots=True)
class Ty:
    """The type of an expression: its free indices (with the span of a first use) and whether it varies per example."""

    free: dict[str, Span]
    batch: bool

    def join(self, other: Ty) -> Ty:
        return Ty({**other.free, **self.free}, self.batch or other.batch)


SCALAR = Ty({}, False)


@dataclasses.dataclass(frozen=True, slots=True)
class PhaseTypes:
    """The typer's result for one phase, which later stages read instead of working it out again.

    Attributes:
        lets: each `let` as a symbol, with one axis per index of its left-hand side.
        indices: the type of every use of an index name, by its span: the LayerIndex of a neuron index (as its
            statement's `for` narrows it) or the extent of a state index.
    """

    lets: Mapping[str, Symbol]
    indices: Mapping[Span, LayerIndex | int]
