"""Typing of `size(i)` and `size(batch)`: how many neurons a neuron index ranges over in an instance (its bias
unit counted when it has one), and the batch size. Both are numbers of the network, scalars of no index, so an
equation can scale by its layer's fan-in (`eta_w / size(i)`) or average over the batch without writing a width.
"""

from __future__ import annotations

from rulec.check.indices import SCALAR, Ty
from rulec.check.symbols import BATCH
from rulec.syntax import ast

USAGE = "write `size(i)` with a neuron index bound in the phase header or a sum, or `size(batch)`"


def size_call(typer, call: ast.Call) -> Ty:
    """The type of `size(...)` in the phase `typer` (a PhaseTyper): a scalar; its argument is an index, not a
    value, so it is not typed as one."""
    if call.primes or call.selector:
        typer.error(call.span, "`size` counts an index's neurons and has no derivative or state selector", USAGE,
                    "size-argument")
        return SCALAR
    if len(call.args) != 1 or not isinstance(call.args[0], ast.Ref) or call.args[0].indices:
        typer.error(call.span, "`size` takes one index", USAGE, "size-argument")
        return SCALAR
    index = call.args[0]
    if index.name == BATCH:
        return SCALAR
    layer = typer.layers.get(index.name)
    if layer is None:
        if index.name in typer.states:
            hint = "the number of states is a dim: write the dim itself, such as `k`"
            typer.error(index.span, f"`{index.name}` is a state index; `size` counts a neuron index's neurons",
                        hint, "size-argument")
        else:
            typer.error(index.span, f"`size` counts the neurons of an index, but `{index.name}` is not a neuron "
                        "index bound here", USAGE, "size-argument")
        return SCALAR
    typer.index_types[index.span] = layer  # where the index is bound says which layer it counts
    return SCALAR
