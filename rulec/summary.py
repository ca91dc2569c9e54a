"""One-line summaries of checked rules, for `rulec check` and `rulec show`."""

from __future__ import annotations

import math

from rulec.check import CheckedRule
from rulec.check.loops import loop_count
from rulec.check.symbols import LayerAxis, StateAxis
from rulec.syntax import ast


def genome_size(checked: CheckedRule) -> tuple[int, int]:
    """The number of shared genome numbers, and the number of per-synapse genome entries."""
    shared, per_synapse = 0, 0
    for symbol in checked.symbols.of_kind("genome"):
        if any(isinstance(a, LayerAxis) for a in symbol.axes):
            per_synapse += 1
        else:
            shared += math.prod(a.extent for a in symbol.axes if isinstance(a, StateAxis))  # all of them
    return shared, per_synapse


def summarize(checked: CheckedRule) -> str:
    rule = checked.rule
    dims = ", ".join(f"{k}={v}" for k, v in checked.dims.items())
    shared, per_synapse = genome_size(checked)
    genome = f"genome of {shared} number{'' if shared == 1 else 's'}" + (f" + {per_synapse} per-synapse entries" if per_synapse else "")
    synapses = ", ".join(s.name + (" (fixed)" if s.fixed else "") for s in rule.synapses)
    phases = ", ".join(_phases(item, checked) for item in rule.items if isinstance(item, (ast.Phase, ast.Loop)))
    parts = [f"rule {rule.name}"] + ([dims] if dims else []) + [genome, f"synapses {synapses}", f"phases {phases}"]
    if rule.presets:
        parts.append("presets " + ", ".join(p.name for p in rule.presets))
    return "; ".join(parts)


def _phases(item: ast.Phase | ast.Loop, checked: CheckedRule) -> str:
    """A phase's kind; a loop's phases with its count, as `(forward, backward) x 20`."""
    if isinstance(item, ast.Phase):
        return item.kind.value
    return "(" + ", ".join(p.kind.value for p in item.phases) + f") x {loop_count(item, checked.dims)}"
