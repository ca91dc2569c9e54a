"""Who writes what: a phase writes only the synapses and neurons its row of the phase table (rulec/phases.py) lets it,
never the bias unit nor a `fixed` synapse."""

from __future__ import annotations

from rulec.check.symbols import Symbol
from rulec.phases import SPEC
from rulec.syntax import ast


def check(typer, assign: ast.Assign, symbol: Symbol) -> None:
    """Reports, in `typer` (a PhaseTyper), a write of `assign` that its phase may not make."""
    kind = typer.phase.kind
    target = assign.target
    if symbol.kind == "synapse":
        if not SPEC[kind].writes_synapses:
            typer.error(target.span, f"the {kind.value} phase cannot write synapse `{target.name}`",
                        "synapses change only in the update phase", "phase-write")
        elif symbol.decl.fixed:
            typer.error(target.span, f"synapse `{target.name}` is declared `fixed` and cannot be updated",
                        "drop `fixed` from its declaration, or this equation", "fixed-write")
        return
    first = target.indices[0] if target.indices else None
    layer = typer.layers.get(first.id) if isinstance(first, ast.Name) else None
    if layer is None or not isinstance(first, ast.Name):
        return  # reported by the index check
    allowed = SPEC[kind].neuron_writes
    if typer.symbols.persistent(target.name):
        allowed = allowed | SPEC[kind].persistent_writes
    if layer.bias:
        typer.error(first.span, f"`{first.id}` includes the bias unit, which is constant and cannot be written",
                    f"add `for {first.id} in {layer.base}` to leave the bias out", "bias-write")
    elif layer.base not in allowed:
        hint = f"it writes {' or '.join(f'`{s}`' for s in sorted(allowed))} neurons" if allowed else \
            "it writes no neurons"
        persistent = SPEC[kind].persistent_writes - allowed
        if persistent:
            hint += f"; and persistent ones of {' or '.join(f'`{s}`' for s in sorted(persistent))}, once a step"
        typer.error(target.span, f"the {kind.value} phase cannot write neurons of `{layer.base}`", hint,
                    "phase-write")
