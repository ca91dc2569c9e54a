"""The symbol table: every declared name with its resolved shape.

Shapes are tuples of axes. A layer axis ranges over the neurons of one layer set (`pre+bias`, `post`, ...); a
state axis ranges over `0..extent`. Neurons carry an implicit leading layer axis and an implicit batch.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from rulec.syntax import ast

LAYER_SETS = ("input", "hidden", "output", "pre", "post")

# Which subsets `for j in ...` may narrow a layer index to.
NARROWINGS = {"pre": ("input", "hidden"), "post": ("hidden", "output")}

# Built-in names that equations read: the input and the (one-hot, +-1) target.
BUILTIN_NEURONS = {"x": "input", "target": "output"}
BATCH = "batch"  # the index over a batch's examples (`sum(batch)`), and the IR's axis of examples
RESERVED = frozenset(LAYER_SETS) | {"x", "target", BATCH, "fan_in", "fan_out", "bias", "loss", "step"}
STEP_COUNTER = "step"  # the built-in scalar that counts steps: 0 on the first


@dataclasses.dataclass(frozen=True, slots=True)
class LayerAxis:
    layer_set: str
    bias: bool

    def __str__(self) -> str:
        return self.layer_set + ("+bias" if self.bias else "")


@dataclasses.dataclass(frozen=True, slots=True)
class StateAxis:
    extent: int

    def __str__(self) -> str:
        return str(self.extent)


Axis = LayerAxis | StateAxis


@dataclasses.dataclass(frozen=True, slots=True)
class Symbol:
    """A declared name. `axes` excludes the batch; `batch` says whether values differ per example."""

    name: str
    kind: str  # "dim", "genome", "neuron", "scalar" (a persistent scalar), "synapse", "activation", "builtin"
    axes: tuple[Axis, ...]
    batch: bool
    decl: Any  # its declaration in the AST (ast.NeuronDecl for a neuron, ...), of a type its kind decides

    def describe(self) -> str:
        shape = "[" + ", ".join(str(a) for a in self.axes) + "]" if self.axes else "a scalar"
        return f"{self.kind} `{self.name}` ({shape})" if self.axes else f"{self.kind} `{self.name}`, a scalar"


@dataclasses.dataclass(frozen=True, slots=True)
class Symbols:
    dims: Mapping[str, int]
    table: Mapping[str, Symbol]
    bias: float | None

    def get(self, name: str) -> Symbol | None:
        return self.table.get(name)

    def of_kind(self, kind: str) -> tuple[Symbol, ...]:
        return tuple(s for s in self.table.values() if s.kind == kind)

    def persistent(self, name: str) -> frozenset[int]:
        """The states of neuron `name` that persist across steps (all of them for `neuron n[k] persistent = v`),
        and none for any other name."""
        symbol = self.table.get(name)
        if symbol is None or symbol.kind != "neuron" or symbol.decl.initial is None:
            return frozenset()
        return frozenset(range(next((a.extent for a in symbol.axes[1:] if isinstance(a, StateAxis)), 1)))


def resolve_dim(dim: ast.Int | ast.Name, dims: Mapping[str, int]) -> int | None:
    if isinstance(dim, ast.Int):
        return dim.value
    return dims.get(dim.id)


def resolve_axis(dim: ast.ShapeDim, dims: Mapping[str, int]) -> Axis | None:
    """A shape entry as an axis, or None when the name is neither a dim nor a layer set."""
    if isinstance(dim, ast.LayerSet):
        return LayerAxis(dim.name, True) if dim.name in LAYER_SETS else None
    if isinstance(dim, ast.Name) and dim.id in LAYER_SETS:
        return LayerAxis(dim.id, False)
    extent = resolve_dim(dim, dims)
    return None if extent is None else StateAxis(extent)


def build_symbols(rule: ast.Rule, overrides: Mapping[str, int]) -> Symbols:
    """Builds the table from declarations, skipping what cannot be resolved: the checks report those."""
    dims = {d.name: overrides.get(d.name, d.value) for d in rule.dims}
    table: dict[str, Symbol] = {}

    def add(name, kind, shape, batch, decl, lead=()):
        if name in table:
            return
        axes = tuple(resolve_axis(d, dims) for d in shape)
        table[name] = Symbol(name, kind, tuple(lead) + tuple(a for a in axes if a is not None), batch, decl)

    for decl in rule.dims:
        table.setdefault(decl.name, Symbol(decl.name, "dim", (), False, decl))
    for entry in rule.genome:
        add(entry.name, "genome", entry.shape, False, entry)
    for neuron in rule.neurons:
        # A persistent neuron holds one value per neuron, shared by the batch.
        add(neuron.name, "neuron", neuron.shape, neuron.initial is None, neuron, lead=(LayerAxis("*", True),))
    for scalar in rule.scalars:
        add(scalar.name, "scalar", (), False, scalar)
    for synapse in rule.synapses:
        lead = (LayerAxis(synapse.source.name, synapse.source.bias), LayerAxis(synapse.target.name, synapse.target.bias))
        add(synapse.name, "synapse", synapse.shape, False, synapse, lead=lead)
    for activation in rule.activations:
        table.setdefault(activation.name, Symbol(activation.name, "activation", (), False, activation))
    for name, layer_set in BUILTIN_NEURONS.items():
        table.setdefault(name, Symbol(name, "builtin", (LayerAxis(layer_set, False),), True, None))
    table.setdefault(STEP_COUNTER, Symbol(STEP_COUNTER, "builtin", (), False, None))
    bias = rule.biases[0].value if rule.biases else None
    return Symbols(dims, table, bias)
