"""Typing of `loss(h, t)` and `loss'(h, t)`, the declared loss and its derivative in the prediction.

A loss of one output (`mse`, `logistic`) applies elementwise. A loss that couples the outputs (`xent`, whose
derivative is softmax(h) - p over the whole output layer) is read only as `loss'` over the output layer: its
prediction and target vary over one neuron index bound to `output`, and over nothing else but the batch.
"""

from __future__ import annotations

from rulec.check.indices import Ty
from rulec.losses import LOSSES
from rulec.syntax import ast


def loss_call(typer, call: ast.Call, ty: Ty) -> Ty:
    """The type of `call`, whose arguments have the joined type `ty`, in the phase `typer` (a PhaseTyper)."""
    if not typer.loss:
        typer.error(call.span, "`loss` is used, but the rule declares no loss",
                    "add a line such as `loss mse`", "no-loss")
    if len(call.args) != 2:
        typer.error(call.span, f"`loss` takes 2 arguments, the prediction and the target, got {len(call.args)}",
                    "write `loss'(a[j, 0], target[j])`", "arity")
    if call.primes > 1 or call.selector:
        typer.error(call.span, "only `loss(h, t)` and its derivative `loss'(h, t)` are defined", None,
                    "no-derivative")
    record = LOSSES.get(typer.loss)
    if record is not None and record.couples_outputs:
        _coupled(typer, call, ty, record.name)
    return ty


def _coupled(typer, call: ast.Call, ty: Ty, name: str) -> None:
    if call.primes != 1:
        typer.error(call.span, f"the `{name}` loss couples the outputs: an equation can read its derivative "
                    f"`loss'(h, t)`, not its value", "write `loss'(a[j, 0], target[j])`", "coupled-loss")
        return
    layers = [index for index in ty.free if index in typer.layers]
    over_output = len(layers) == 1 and typer.layers[layers[0]].effective == "output"
    if not over_output or len(ty.free) != 1:
        free = ", ".join(f"`{i}`" for i in ty.free) or "no index"
        typer.error(call.span, f"the `{name}` loss couples the outputs, so `loss'` must range over the output "
                    f"layer by one neuron index, and over nothing else; here it ranges over {free}",
                    "read it in the feedback phase as `loss'(a[j, 0], target[j])`, with `j in output`",
                    "coupled-loss")
