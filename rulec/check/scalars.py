"""Typing of a write of a persistent scalar, `baseline := ...` (`persistent baseline = 0`): one number per network,
written in the update phase over adjacent pairs, in its instance at the output layer, so once a step. It takes
no indices and no `for`, and its value varies over neither the batch nor any index."""

from __future__ import annotations

from rulec.check.indices import LayerIndex
from rulec.phases import SPEC
from rulec.syntax import ast


def assign(typer, statement: ast.Assign) -> None:
    """Types `statement` in `typer` (a PhaseTyper), reporting each misuse at its place."""
    target, kind = statement.target, typer.phase.kind
    if target.indices:
        typer.error(target.span, f"persistent scalar `{target.name}` has no indices", f"write `{target.name} := ...`",
                    "index-count")
    for r in statement.restrictions:
        typer.error(r.span, f"a write of persistent scalar `{target.name}` runs once a step and takes no `for`", None,
                    "restriction-unused")
    over_pairs = {b.layer_set.name for b in typer.phase.bindings} & {"pre", "post"}
    if not SPEC[kind].writes_scalars or not over_pairs:
        where = f"the {kind.value} phase" if not SPEC[kind].writes_scalars else \
            "an update phase over `hidden` and `output`"
        typer.error(target.span, f"{where} cannot write persistent scalar `{target.name}`",
                    "a persistent scalar changes only in the update phase over `(pre, post)`, once a step",
                    "phase-write")
    # It runs in the instance at the output layer: an index over `post` ranges over the output layer there. (The
    # typer restores its indices after each statement.)
    typer.layers = {index: LayerIndex(layer.base, layer.bias, "output") if layer.base == "post" else layer
                    for index, layer in typer.layers.items()}
    ty = typer.expr(statement.value)
    typer.check_free(ty, set(), f"persistent scalar `{target.name}`")
    if ty.batch:
        typer.error(statement.value.span, f"the right-hand side varies over the batch, but `{target.name}` is a "
                    "persistent scalar: one number per network", "reduce over the batch, as in `mean(batch) ...`",
                    "persistent-batch")
