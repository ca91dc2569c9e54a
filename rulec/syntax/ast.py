"""The abstract syntax tree: frozen, slotted dataclasses, each carrying its source span.

Nodes are values: compare them with `==`, copy them with `dataclasses.replace`. Lists are tuples and operator
kinds are enums, so no node can be half-built or carry two operators at once.
"""

from __future__ import annotations

import dataclasses
import typing
from typing import Union

from rulec.diagnostics import Span
from rulec.phases import PhaseKind as PhaseKind  # the phase table defines the kinds; the AST names them
from rulec.syntax.operators import BinOp as BinOp, Reducer as Reducer  # the operator kinds the AST names

_Node = typing.TypeVar("_Node")
_Item = typing.TypeVar("_Item")


# A function rather than an alias of `dataclasses.dataclass(...)`, so that type checkers see the generated
# `__init__` and the frozen fields: `dataclass_transform` tells them what the decorator makes.
@typing.dataclass_transform(frozen_default=True)
def node(cls: type[_Node]) -> type[_Node]:
    """Make `cls` a frozen, slotted dataclass: a node of the AST or the IR."""
    return dataclasses.dataclass(frozen=True, slots=True)(cls)


# ---- names, indices and layer sets -----------------------------------------------------------------------------


@node
class Name:
    id: str
    span: Span


@node
class Int:
    value: int
    span: Span


Index = Union[Name, Int]


@node
class LayerSet:
    """A set of neurons per layer: `pre`, `post`, `input`, `hidden`, `output`, optionally `+bias`."""

    name: str
    bias: bool
    span: Span

    def __str__(self) -> str:
        return self.name + ("+bias" if self.bias else "")


# A declared shape entry: a number, a name (a dim or a layer set; the checker resolves it) or `set+bias`.
ShapeDim = Union[Int, Name, LayerSet]


# ---- expressions -----------------------------------------------------------------------------------------------


@node
class Number:
    value: float
    span: Span


@node
class Ref:
    """A use of a name, optionally indexed: `f`, `a[j, c]`, `w[i, j, c]`."""

    name: str
    indices: tuple[Index, ...]
    span: Span


@node
class Call:
    """A function application: `tanh(z)`, `sigmoid'(z)`, or a per-state activation `phi[c](z)`."""

    function: str
    primes: int
    selector: tuple[Index, ...]
    args: tuple[Expr, ...]
    span: Span


@node
class Neg:
    operand: Expr
    span: Span


@node
class Binary:
    op: BinOp
    left: Expr
    right: Expr
    span: Span


@node
class ReduceIndex:
    """One axis of a reduction: a bound index, a fresh layer index (`r in pre`), or `batch`."""

    name: str
    layer_set: LayerSet | None
    span: Span


@node
class Reduce:
    reducer: Reducer
    indices: tuple[ReduceIndex, ...]
    body: Expr
    span: Span


@node
class Compare:
    """`left < right` (any of COMPARISONS): 1 where it holds, else 0; between two indices, their positions."""

    op: str
    left: Expr
    right: Expr
    span: Span


COMPARISONS = ("<", "<=", "==", ">", ">=")
Expr = Union[Number, Ref, Call, Neg, Binary, Reduce, Compare]


# ---- statements inside phases ----------------------------------------------------------------------------------


@node
class StateRange:
    """`for c in lo..hi`: restricts a state index to the half-open range [lo, hi)."""

    index: str
    low: Index
    high: Index
    span: Span


@node
class LayerRange:
    """`for j in hidden`: restricts a layer index to a subset of its layer set."""

    index: str
    layer_set: LayerSet
    span: Span


Restriction = Union[StateRange, LayerRange]


@node
class Let:
    name: str
    indices: tuple[Index, ...]
    value: Expr
    span: Span


@node
class Assign:
    target: Ref
    value: Expr
    restrictions: tuple[Restriction, ...]
    span: Span


Statement = Union[Let, Assign]


@node
class Binding:
    """`i in pre+bias` in a phase header."""

    index: str
    layer_set: LayerSet
    span: Span


@node
class Phase:
    kind: PhaseKind
    bindings: tuple[Binding, ...]
    body: tuple[Statement, ...]
    span: Span


@node
class Loop:
    """`repeat n_relax` ... `end`: the phases inside run `count` times in a row (a dim's name or a whole number).
    `body` holds phases, and, so that the checker can refuse them where they are, nested loops."""

    count: Name | Int
    body: tuple[Phase | Loop, ...]
    span: Span

    @property
    def count_text(self) -> str:
        """The count as written: a dim's name or a number."""
        return self.count.id if isinstance(self.count, Name) else str(self.count.value)

    @property
    def phases(self) -> tuple[Phase, ...]:
        return tuple(p for item in self.body for p in (item.phases if isinstance(item, Loop) else (item,)))


# ---- declarations ----------------------------------------------------------------------------------------------


@node
class DimDecl:
    name: str
    value: int
    span: Span


@node
class GenomeEntry:
    """`nu[k, k] ~ normal(0, 1)` (sampled) or `f = 1.0` (a constant default), or `f_w = 1.0 in [0, 1]` (bounded)."""
    name: str
    shape: tuple[ShapeDim, ...]
    sampled: bool
    init: Expr
    span: Span
    bounds: tuple[Number, Number] | None = None  # the interval meta-training keeps the entry in


@node
class GenomeBlock:
    entries: tuple[GenomeEntry, ...]
    span: Span


@node
class Matrix:
    """A nested literal `[[1, 0], [0, 1]]` in a preset; rows are tuples of Number or Matrix."""

    rows: tuple[Union[Number, Matrix], ...]
    span: Span


Literal = Union[Number, Matrix]


@node
class PresetCall:
    """A preset value that follows its entry's shape: `identity`, `fill(0.5)`, `diag(1, -1)`, `block([[1, 2]])`."""

    name: str
    args: tuple[Literal, ...]
    span: Span


@node
class PresetEntry:
    name: str
    value: Union[Literal, PresetCall]
    span: Span


@node
class Preset:
    name: str
    is_default: bool
    entries: tuple[PresetEntry, ...]
    span: Span


@node
class NeuronDecl:
    """`neuron a[k]`; with `persistent = v`, one value per neuron kept across steps, starting at `v`."""
    name: str
    shape: tuple[ShapeDim, ...]
    span: Span
    initial: Number | None = None  # None: reset to 0 every step, per example


@node
class ScalarDecl:
    """`persistent baseline = 0`: one number per network, kept across steps, written once a step in the update."""
    name: str
    initial: Number
    span: Span


@node
class SynapseDecl:
    """`synapse w[k] : pre+bias -> post ~ init`; `fixed` synapses are never updated (feedback alignment)."""

    name: str
    shape: tuple[ShapeDim, ...]
    source: LayerSet
    target: LayerSet
    fixed: bool
    init: Expr | None
    span: Span


@node
class FunctionRef:
    name: str
    primes: int
    span: Span

    def __str__(self) -> str:
        return self.name + "'" * self.primes


@node
class ActivationDecl:
    name: str
    functions: tuple[FunctionRef, ...]
    span: Span


@node
class BiasDecl:
    value: float
    span: Span


@node
class LossDecl:
    """`loss mse`: the loss whose derivative `loss'(prediction, target)` equations may use."""

    name: str
    span: Span


@node
class ProveArg:
    name: str
    value: Expr
    span: Span


@node
class Prove:
    claim: str
    args: tuple[ProveArg, ...]
    preset: Name | None
    span: Span


Item = Union[DimDecl, GenomeBlock, Preset, NeuronDecl, ScalarDecl, SynapseDecl, ActivationDecl, BiasDecl, LossDecl,
             Phase, Loop, Prove]


class _Items(typing.Generic[_Item]):
    """A rule's items of one kind, in source order, as an attribute: `rule.neurons` is `rule.of_type(NeuronDecl)`."""

    def __init__(self, kind: type[_Item]) -> None:
        self.kind = kind

    def __get__(self, rule: Rule, owner: type) -> tuple[_Item, ...]:
        return rule.of_type(self.kind)


@node
class Rule:
    name: str
    doc: str
    items: tuple[Item, ...]
    span: Span

    def of_type(self, kind: type) -> tuple:
        return tuple(item for item in self.items if isinstance(item, kind))

    dims = _Items(DimDecl)
    presets = _Items(Preset)
    neurons = _Items(NeuronDecl)
    scalars = _Items(ScalarDecl)
    synapses = _Items(SynapseDecl)
    activations = _Items(ActivationDecl)
    biases = _Items(BiasDecl)
    losses = _Items(LossDecl)
    loops = _Items(Loop)
    proofs = _Items(Prove)

    @property
    def genome(self) -> tuple[GenomeEntry, ...]:
        return tuple(entry for block in self.of_type(GenomeBlock) for entry in block.entries)

    @property
    def phases(self) -> tuple[Phase, ...]:
        """Every phase, those inside loops included, in source order."""
        return tuple(p for item in self.items if isinstance(item, (Phase, Loop))
                     for p in (item.phases if isinstance(item, Loop) else (item,)))
