"""Checks of the connections beyond adjacent pairs: skip synapses and the layers a fresh index may range over.

A skip synapse (`input -> output`), and a per-synapse genome entry over the same layers, is read in a pairs
phase at the `post` index narrowed to the output layer (`for j in output`): only the last pair's post layer is
the output layer. A reduction's fresh index (`sum(k in post)`, a lateral sum) ranges over a layer of the instance
the phase runs on, so over a layer set its header binds.
"""

from __future__ import annotations

from rulec.check.indices import LayerIndex
from rulec.check.symbols import NARROWINGS, LayerAxis, Symbol
from rulec.diagnostics import Diagnostic
from rulec.phases import SKIP_CONNECTION
from rulec.syntax import ast


def is_skip(symbol: Symbol | None) -> bool:
    return (symbol is not None and symbol.kind in ("synapse", "genome")
            and {a.layer_set for a in symbol.axes if isinstance(a, LayerAxis)} == SKIP_CONNECTION)


def layer_mismatch(symbol: Symbol | None, index: str, layer: LayerIndex, axis: LayerAxis) -> str | None:
    """None when `index`, over `layer`, may index `axis` of `symbol`; else the hint of the mismatch error."""
    if is_skip(symbol) and layer.effective == axis.layer_set and not layer.bias:
        return None
    if layer.base == axis.layer_set and not (layer.bias and not axis.bias):
        return None
    if is_skip(symbol) and axis.layer_set in NARROWINGS.get(layer.base, ()):
        return (f"a skip synapse meets the `{axis.layer_set}` layer in one pair only: add `for {index} in "
                f"{axis.layer_set}` to the equation")
    return "index it with an index bound to that layer set"


def outside_phase(phase: ast.Phase, index: ast.ReduceIndex) -> list[Diagnostic]:
    """`sum(k in post)` in a phase that binds no `post`: there is no layer for `k` to range over."""
    assert index.layer_set is not None, index  # a fresh index: `batch` has no layer set
    header = sorted({b.layer_set.name for b in phase.bindings})
    if index.layer_set.name in header:
        return []
    return [Diagnostic(index.layer_set.span, f"`{index.name}` ranges over `{index.layer_set.name}`, which the "
                       f"{phase.kind.value} phase does not bind", f"this phase runs over ({', '.join(header)}); a "
                       "fresh index ranges over one of them, as in a lateral sum `sum(k in post)` in a forward phase",
                       "unbound-layer-set")]
