"""Typing of a draw inside a step, `let xi[j] = normal(0, 1)`: the whole value of a `let`, drawn afresh at every
step over the let's neuron indices and the batch."""

from __future__ import annotations

from typing import TypeGuard

from rulec.check.distribution_arguments import distribution_argument_errors
from rulec.check.indices import Ty
from rulec.functions import STEP_DRAWS
from rulec.syntax import ast


def is_draw(e: ast.Expr) -> TypeGuard[ast.Call]:
    """Whether `e` is a draw inside a step, `normal(0, 1)`: allowed as the whole value of a `let`."""
    return isinstance(e, ast.Call) and e.function in STEP_DRAWS and not e.primes and not e.selector


def draw(typer, let: ast.Let) -> Ty:
    """The type of `let name[j] = normal(...)` in the phase `typer` (a PhaseTyper) is typing: a fresh array over the
    let's neuron indices and the batch. Its arguments are scalars; its errors go to the typer."""
    call = let.value
    assert is_draw(call), call  # the typer sends only draws here
    if len(call.args) != STEP_DRAWS[call.function]:
        typer.error(call.span, f"`{call.function}` takes {STEP_DRAWS[call.function]} argument"
                    f"{'s' if STEP_DRAWS[call.function] > 1 else ''}, got {len(call.args)}", None, "arity")
    for arg in call.args:
        ty = typer.expr(arg)
        if ty.free or ty.batch:
            typer.error(arg.span, f"an argument of `{call.function}` must be one number for the whole draw",
                        "use numbers, dims and scalar genome entries", "draw-argument")
    if len(call.args) == STEP_DRAWS[call.function]:
        for error in distribution_argument_errors(call, typer.symbols.dims):
            typer.error(error.span, error.message, error.hint, error.code)
    free = {}
    for index in let.indices:
        if isinstance(index, ast.Name) and index.id in typer.layers:
            free[index.id] = index.span
        elif isinstance(index, ast.Name):
            typer.error(index.span, f"a draw's indices are neuron indices of the phase header, and `{index.id}` "
                        "is not one", f"index it by the neurons it draws for, as in `let {let.name}[j] = "
                        f"{call.function}(...)`", "draw-index")
    return Ty(free, True)
