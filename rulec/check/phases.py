"""Checks of phase headers: each phase appears once and ranges over a scheme it supports."""

from __future__ import annotations

from rulec.check.declarations import PAIR_SCHEMES, suggest
from rulec.check.symbols import LAYER_SETS, Symbols
from rulec.diagnostics import Diagnostic
from rulec.syntax import ast

Kind = ast.PhaseKind
SCHEMES = {
    Kind.INPUT: ({"input"},),
    Kind.FORWARD: ({"pre", "post"},),
    Kind.FEEDBACK: ({"output"},),
    Kind.BACKWARD: PAIR_SCHEMES,
    Kind.UPDATE: PAIR_SCHEMES,
}
# The layer sets whose neurons each phase may write. The input layer is written only by the input phase.
NEURON_WRITES = {Kind.INPUT: {"input"}, Kind.FORWARD: {"post"}, Kind.FEEDBACK: {"output"},
                 Kind.BACKWARD: {"pre", "hidden"}, Kind.UPDATE: set()}
REQUIRED_PHASES = (Kind.INPUT, Kind.FORWARD, Kind.UPDATE)


def check_phase_headers(rule: ast.Rule, symbols: Symbols) -> list[Diagnostic]:
    """Each phase appears once and binds a valid scheme: `forward (i in pre, j in output)`."""
    errors = []
    seen: dict[Kind, ast.Phase] = {}
    for phase in rule.phases:
        if phase.kind in seen:
            errors.append(Diagnostic(phase.span, f"the {phase.kind.value} phase is already defined on line "
                                     f"{seen[phase.kind].span.line}", "merge the two blocks", "duplicate-phase"))
        seen[phase.kind] = phase
        names = [b.index for b in phase.bindings]
        for i, binding in enumerate(phase.bindings):
            if binding.index in names[:i]:
                errors.append(Diagnostic(binding.span, f"`{binding.index}` is bound twice", None, "repeated-index"))
            if binding.layer_set.name not in LAYER_SETS:
                errors.append(Diagnostic(binding.layer_set.span, f"unknown layer set `{binding.layer_set.name}`",
                                         suggest(binding.layer_set.name, LAYER_SETS)
                                         or "layer sets are " + ", ".join(LAYER_SETS), "unknown-layer-set"))
            elif symbols.get(binding.index) is not None:
                errors.append(Diagnostic(binding.span, f"index `{binding.index}` hides the declared name "
                                         f"`{binding.index}`", "choose another index name", "shadowed-index"))
        sets = {b.layer_set.name for b in phase.bindings}
        if sets <= set(LAYER_SETS) and sets not in SCHEMES[phase.kind]:
            options = " or ".join("(" + ", ".join(sorted(s)) + ")" for s in SCHEMES[phase.kind])
            errors.append(Diagnostic(phase.span, f"the {phase.kind.value} phase cannot range over "
                                     f"({', '.join(sorted(sets))})", f"it ranges over {options}", "bad-scheme"))
    for kind in REQUIRED_PHASES:
        if kind not in seen:
            errors.append(Diagnostic(rule.span, f"the rule has no {kind.value} phase",
                                     _MISSING_PHASE_HINTS[kind], "missing-phase"))
    return errors


_MISSING_PHASE_HINTS = {
    Kind.INPUT: "add `input (i in input)` with an equation such as `a[i, 0] := x[i]`",
    Kind.FORWARD: "add `forward (i in pre+bias, j in post)` with the forward equations",
    Kind.UPDATE: "add `update (i in pre+bias, j in post)` with the synapse update",
}
