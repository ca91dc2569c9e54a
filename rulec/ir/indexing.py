"""What a load reads and a write covers, written once for every interpreter.

An interpreter fetches the stored array (or a let's value) in its own layout, names its axes, and hands it here:
`select` trims a bias row the index leaves out, narrows state indices to the ranges in force, picks fixed states
and reads diagonals; `cuts` says which part of a stored array a write covers, and `placed` shapes the value for
it. The NumPy reference and the JAX lowering differ only in layout (the JAX side keeps neurons per state and
synapses channel-major) and in how they evaluate reductions, not in any of this.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from rulec.check.symbols import BATCH
from rulec.ir import named as nm
from rulec.ir import nodes as ir

LayerSize = Callable[[str], int]  # the number of neurons (without the bias unit) of the layer a role is bound to
Ranges = dict  # state index -> (low, high), the `for c in low..high` ranges in force


def state_span(position: ir.State, ranges: Ranges) -> tuple[int, int]:
    """The states [low, high) a state index covers where `ranges` are in force."""
    return ranges.get(position.index, (0, position.extent))


def axis_names(positions: tuple[ir.Position, ...]) -> tuple[str, ...]:
    """A name for each axis of a stored array read at `positions`: its index, or `#n` for a fixed state."""
    return tuple(f"#{n}" if isinstance(p, ir.StateAt) else p.index for n, p in enumerate(positions))


def select(t: nm.Named, axes: tuple[str, ...], positions: tuple[ir.Position, ...], layer_size: LayerSize,
           ranges: Ranges) -> nm.Named:
    """The part of `t` that `positions` read, with each axis named after the index that reads it.

    `axes` names the axis of `t` for each position (other axes of `t`, such as the batch, are kept as they are).
    A neuron index without the bias unit drops the bias row of an axis that has one; a state index in a range
    keeps that range; a fixed state picks its state; an index used twice reads the diagonal."""
    for axis, position in zip(axes, positions):
        if isinstance(position, ir.Layer) and position.axis_bias and not position.bias:
            t = nm.slice_axis(t, axis, 0, layer_size(position.role))
        elif isinstance(position, ir.State) and position.index in ranges:
            t = nm.slice_axis(t, axis, *ranges[position.index])
        elif isinstance(position, ir.StateAt):
            t = nm.take(t, axis, position.value)
    renamed = {axis: p.index for axis, p in zip(axes, positions) if not isinstance(p, ir.StateAt)}
    return nm.diagonal(nm.rename(t, renamed))


def load_let(value: nm.Named, defined: tuple[ir.Position, ...], used: tuple[ir.Position, ...],
             layer_size: LayerSize, ranges: Ranges) -> nm.Named:
    """A let read at `used`: its value is computed over all it was `defined` on (lets run before any range of
    the write that reads them is in force), so the read narrows it like a stored array."""
    assert not any(isinstance(d, ir.StateAt) for d in defined), defined  # a let is defined over indices
    return select(value, tuple(d.index for d in defined if not isinstance(d, ir.StateAt)), used, layer_size, ranges)


@dataclasses.dataclass(frozen=True, slots=True)
class Cut:
    """What a write covers along one axis of the stored array: `selector` (a slice, or one state), the index
    whose values run along the axis (None for a fixed state), and whether the cut is the whole axis."""

    selector: slice | int
    axis: str | None
    whole: bool


def cuts(positions: tuple[ir.Position, ...], layer_size: LayerSize, ranges: Ranges) -> tuple[Cut, ...]:
    """One Cut per position of a write, in the order of its positions."""
    result = []
    for position in positions:
        if isinstance(position, ir.StateAt):
            result.append(Cut(position.value, None, False))
        elif isinstance(position, ir.State):
            low, high = state_span(position, ranges)
            result.append(Cut(slice(low, high), position.index, (low, high) == (0, position.extent)))
        else:
            trimmed = position.axis_bias and not position.bias
            rows = slice(0, layer_size(position.role)) if trimmed else slice(None)
            result.append(Cut(rows, position.index, not trimmed))
    return tuple(result)


def placed(old, region: tuple[Cut, ...], value: nm.Named):
    """(selector, data): where in `old` a write goes, and `value` aligned and broadcast to fill it."""
    selector = tuple(c.selector for c in region)
    axes = tuple(c.axis for c in region if c.axis is not None)
    target = old[selector]
    data = nm.namespace(target).broadcast_to(nm.align(value, axes), target.shape)
    return selector, data.astype(old.dtype)


def per_state(e: ir.PerState, arg: nm.Named, functions, ranges: Ranges) -> nm.Named:
    """`phi[c](arg)`: the function of each state c applied to that state of `arg` (or to all of `arg`, when
    it does not vary with c), stacked along c. `functions` maps a name to its derivatives, as the tables of
    rulec/functions.py."""
    if isinstance(e.selector, ir.StateAt):
        name, primes = e.functions[e.selector.value]
        return nm.apply(functions[name][primes], arg)
    assert isinstance(e.selector, ir.State), e.selector  # an activation is selected by a state
    index = e.selector.index
    low, high = state_span(e.selector, ranges)
    parts = []
    for s in range(low, high):
        name, primes = e.functions[s]
        parts.append(nm.apply(functions[name][primes], nm.take(arg, index, s - low) if index in arg.axes else arg))
    return nm.stack(parts, index)


def size(e: ir.Size, layer_size: LayerSize, batch: int) -> int:
    """The value of `size(i)` (the neurons of i's layer, with the bias unit when i has it) or `size(batch)`."""
    return batch if e.layer is None else layer_size(e.layer.role) + e.layer.bias


def index_mask(e: ir.IndexCompare, layer_size: LayerSize, xp, test) -> nm.Named:
    """`[k <= j]`: 1 or 0 for each pair of positions of the two indices (the bias unit, when an index has it,
    is the last position). `test(xp, a, b)` is the comparison, from rulec.functions.PAIRWISE."""
    left, right = (xp.arange(layer_size(p.role) + p.bias) for p in (e.left, e.right))
    return nm.diagonal(nm.Named(test(xp, left[:, None], right[None, :]), (e.left.index, e.right.index)))


def loss(function, couples_outputs: bool, prediction: nm.Named, target: nm.Named) -> nm.Named:
    """`loss(h, t)` or `loss'(h, t)` by `function` (from rulec.losses.loss_table): elementwise, or, for a loss
    that couples the outputs, along the one neuron axis the checker lets its arguments vary over."""
    if not couples_outputs:
        return nm.combine(function, prediction, target)
    axes = prediction.axes + tuple(a for a in target.axes if a not in prediction.axes)
    unit = next(a for a in axes if a != BATCH)
    return nm.Named(function(nm.align(prediction, axes), nm.align(target, axes), axes.index(unit)), axes)
