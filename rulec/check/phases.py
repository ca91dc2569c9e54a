"""Checks of phase headers: each phase appears once and ranges over a scheme it supports."""

from __future__ import annotations

from rulec.check.declarations import suggest
from rulec.check.symbols import LAYER_SETS, Symbols
from rulec.diagnostics import Diagnostic
from rulec.phases import PHASES, SKIP_CONNECTION, SPEC, PhaseKind
from rulec.syntax import ast


PAIRS = frozenset({"pre", "post"})


def binds_end_layers(sets: set[str], schemes) -> bool:
    """`forward (i in pre, j in post, r in input)`: a phase over adjacent pairs may also bind the input and output
    layers, the same in every instance, to read and update a skip synapse."""
    return PAIRS in schemes and sets - SKIP_CONNECTION == PAIRS


def check_phase_headers(rule: ast.Rule, symbols: Symbols) -> list[Diagnostic]:
    """Each phase appears once and binds a valid scheme: `forward (i in pre, j in output)`."""
    errors = []
    seen: dict[PhaseKind, ast.Phase] = {}
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
        schemes = SPEC[phase.kind].schemes
        if sets <= set(LAYER_SETS) and sets not in schemes and not binds_end_layers(sets, schemes):
            options = " or ".join("(" + ", ".join(sorted(s)) + ")" for s in schemes)
            extra = "; with (post, pre) it may also bind `input` and `output`" if PAIRS in schemes else ""
            errors.append(Diagnostic(phase.span, f"the {phase.kind.value} phase cannot range over "
                                     f"({', '.join(sorted(sets))})", f"it ranges over {options}{extra}",
                                     "bad-scheme"))
    for spec in PHASES:
        if spec.required and spec.kind not in seen:
            errors.append(Diagnostic(rule.span, f"the rule has no {spec.kind.value} phase", spec.missing_hint,
                                     "missing-phase"))
    return errors
