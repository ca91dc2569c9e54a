"""Typing of a draw inside a step, `let xi[j] = normal(0, 1)`: the whole value of a `let`, drawn afresh at every
step over the let's neuron indices and the batch. Its arguments may vary over those too, as a per-neuron
probability does: `let s[j] = bernoulli(sigmoid(z[j]))`."""

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
    let's neuron indices and the batch. Its arguments vary at most as it does; its errors go to the typer."""
    call = let.value
    assert is_draw(call), call  # the typer sends only draws here
    if len(call.args) != STEP_DRAWS[call.function]:
        typer.error(call.span, f"`{call.function}` takes {STEP_DRAWS[call.function]} argument"
                    f"{'s' if STEP_DRAWS[call.function] > 1 else ''}, got {len(call.args)}", None, "arity")
    free = {}
    for index in let.indices:
        if isinstance(index, ast.Name) and index.id in typer.layers:
            free[index.id] = index.span
        elif isinstance(index, ast.Name):
            typer.error(index.span, f"a draw's indices are neuron indices of the phase header, and `{index.id}` "
                        "is not one", f"index it by the neurons it draws for, as in `let {let.name}[j] = "
                        f"{call.function}(...)`", "draw-index")
    # An argument may vary as the draw does, over its neurons and the batch: `bernoulli(sigmoid(z[j]))`.
    for arg in call.args:
        outside = sorted(set(typer.expr(arg).free) - set(free))
        if outside:
            typer.error(arg.span, f"an argument of `{call.function}` varies over `{outside[0]}`, which the draw "
                        f"does not", f"an argument may vary over the draw's neuron indices "
                        f"({', '.join(free) or 'none here'}) and the batch; sum over `{outside[0]}`, or add it to "
                        "the let", "draw-argument")
    if len(call.args) == STEP_DRAWS[call.function]:
        for error in distribution_argument_errors(call, typer.symbols.dims):
            typer.error(error.span, error.message, error.hint, error.code)
    return Ty(free, True)
