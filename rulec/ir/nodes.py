"""IR nodes: the checked rule with every name, index and layer role made explicit.

Interpreters (the NumPy reference, SymPy, JAX) run these, not the AST. Every node keeps the span of the source
it came from, so any stage can still raise a located error.
"""

from __future__ import annotations

import dataclasses
from typing import Union

from rulec.diagnostics import Span
from rulec.syntax import ast

node = dataclasses.dataclass(frozen=True, slots=True)
Kind = ast.PhaseKind

# ---- positions: what each index of a load or a write means ---------------------------------------------------


@node
class Layer:
    """A neuron index. `role` is the layer it ranges over in an instance (`pre`, `post`, `input`, ...).
    `bias` says whether the index includes the bias unit; `axis_bias` whether the stored axis has a bias row."""

    index: str
    role: str
    bias: bool
    axis_bias: bool


@node
class State:
    index: str
    extent: int


@node
class StateAt:
    value: int


Position = Union[Layer, State, StateAt]

# ---- expressions -----------------------------------------------------------------------------------------------


@node
class Const:
    value: float
    span: Span


@node
class Load:
    """Reads a value. kind: neuron, synapse, genome, let, input, target."""

    kind: str
    name: str
    positions: tuple[Position, ...]
    batch: bool
    span: Span


@node
class Func:
    name: str
    primes: int
    arg: Expr
    span: Span


@node
class PerState:
    """`phi[c](arg)`: the function of state c, applied for each state."""

    functions: tuple[tuple[str, int], ...]
    selector: Position
    arg: Expr
    span: Span


@node
class Loss:
    """`loss(h, t)` (primes 0) or `loss'(h, t)` (primes 1) of the rule's declared loss."""

    name: str
    primes: int
    prediction: Expr
    target: Expr
    span: Span


@node
class Arith:
    op: ast.BinOp
    left: Expr
    right: Expr
    span: Span


@node
class Neg:
    arg: Expr
    span: Span


@node
class Reduce:
    """`kind` is sum, mean or normalize. `axes` are index names or "batch"; `fresh` binds new neuron indices."""

    kind: ast.Reducer
    axes: tuple[str, ...]
    fresh: tuple[tuple[str, str, bool], ...]  # (index, role, bias)
    body: Expr
    span: Span


Expr = Union[Const, Load, Func, PerState, Loss, Arith, Neg, Reduce]

# ---- statements and phases -------------------------------------------------------------------------------------


@node
class Let:
    name: str
    positions: tuple[Position, ...]
    value: Expr
    span: Span


@node
class Write:
    """Writes `value` into a neuron or synapse. `ranges` restricts state indices to [lo, hi); `when` lists
    (role, subset) conditions an instance must meet, from `for j in output` and the like."""

    kind: str
    name: str
    positions: tuple[Position, ...]
    ranges: tuple[tuple[str, int, int], ...]
    when: tuple[tuple[str, str], ...]
    value: Expr
    span: Span


Statement = Union[Let, Write]


@node
class Phase:
    kind: ast.PhaseKind
    scheme: str  # "pairs", "hidden", "input" or "output"
    statements: tuple[Statement, ...]
    span: Span


@node
class NeuronDecl:
    name: str
    states: int | None  # None for a neuron without a state axis


@node
class SynapseDecl:
    """Stored per instance of its scheme: one array per adjacent pair, or per hidden layer."""

    name: str
    scheme: str
    source: tuple[str, bool]
    target: tuple[str, bool]
    channels: tuple[int, ...]
    fixed: bool
    init: ast.Expr | None
    span: Span


@node
class GenomeDecl:
    name: str
    shape: tuple[int, ...]  # state dims, for a shared entry
    per_synapse: tuple[tuple[str, bool], ...] | None  # layer axes, for a per-synapse entry
    sampled: bool
    init: ast.Expr
    span: Span


@node
class Program:
    name: str
    dims: dict
    genome: tuple[GenomeDecl, ...]
    presets: dict  # name -> {entry: nested list or number}
    default_preset: str | None
    neurons: tuple[NeuronDecl, ...]
    synapses: tuple[SynapseDecl, ...]
    bias: float | None
    phases: tuple[Phase, ...]
    rule: ast.Rule

    def phase(self, kind: ast.PhaseKind) -> Phase | None:
        return next((p for p in self.phases if p.kind is kind), None)


def scheme_of(layer_sets: set[str]) -> str:
    if layer_sets & {"pre", "post"}:
        return "pairs"
    if "hidden" in layer_sets:
        return "hidden"
    return "input" if "input" in layer_sets else "output"
