"""Checks the IR's invariants between stages: a failure here is a bug in rulec, not in the rule.

The pipeline calls `verify` after resolving and after specialising when RULEC_CHECKS=1 (the test suite sets it),
as JAX does with `enable_checks`. The invariants:
* every load resolves: a declared name of its kind, a built-in, or a let defined earlier in the phase;
* every index is bound: a neuron index by the phase header or an enclosing reduction, and used over the role it
  is bound to; a state index by the left-hand side or an enclosing reduction;
* every write is allowed in its phase: neurons of the layers the phase kind writes (rulec/phases.py), never a
  bias unit; synapses only in a phase that writes them (update), and never a `fixed` one; a persistent scalar
  only in that phase's instance at the output layer (update over pairs), so once a step;
* shapes agree: a load or write has one position per axis, a neuron index on a neuron axis of its layer set, and
  a state index of the axis' extent (a fixed state and a range within it);
* every loop repeats at least once a run of phases the program has, consecutive in step order, each repeatable
  (so no loop writes a synapse), and no phase is in two loops.
"""

from __future__ import annotations

import dataclasses
import os

from rulec.check.symbols import BATCH
from rulec.ir import nodes as ir
from rulec.phases import PHASES, SPEC

Axis = tuple[str, bool] | int  # a neuron axis (layer set, has a bias row; "*" for a neuron's own), or a state extent
BUILTINS = {ir.Source.INPUT: ("x", ir.Role.INPUT), ir.Source.TARGET: ("target", ir.Role.OUTPUT)}


class IRError(Exception):
    """An internal inconsistency in the IR."""


def enabled() -> bool:
    return os.environ.get("RULEC_CHECKS") == "1"


@dataclasses.dataclass(frozen=True)
class Scope:
    """The indices bound where an expression is: neuron indices with their binding, state indices with their
    extent (None for one bound by a reduction, whose extent its uses give)."""

    layers: dict[str, ir.Binding]
    states: dict[str, int | None]
    when: tuple[ir.Condition, ...]


def verify(program: ir.Program) -> ir.Program:
    """Raises IRError at the first broken invariant (see the module's docstring); returns the program."""
    shapes: dict[ir.Source, dict[str, tuple]]  # the axes of each name, by what it is
    shapes = {ir.Source.NEURON: {n.name: (("*", False),) + ((n.states,) if n.states else ()) for n in program.neurons},
              ir.Source.SYNAPSE: {s.name: (s.source, s.target) + s.channels for s in program.synapses},
              ir.Source.GENOME: {g.name: tuple(g.per_synapse or ()) + g.shape for g in program.genome},
              ir.Source.LET: {}, ir.Source.STEP: {"step": ()}, ir.Source.SCALAR: {p.name: () for p in program.scalars}}
    fixed = {s.name for s in program.synapses if s.fixed}
    persistent = {n.name for n in program.neurons if n.persistent}
    for phase in program.phases:
        if ir.scheme_of({b.role for b in phase.bindings}) is not phase.scheme:
            raise IRError(f"line {phase.span.line}: the {phase.kind.value} phase is a {phase.scheme.value} phase, "
                          f"but binds {', '.join(b.role for b in phase.bindings)}")
        header = {b.index: b for b in phase.bindings}
        shapes[ir.Source.LET] = {}  # a let lives until the end of its phase
        for statement in phase.statements:
            scope = _left_hand_side(statement, header)
            if isinstance(statement, ir.Write):
                _check_write(statement, phase, shapes, fixed, persistent)
            _check_expr(statement.value, scope, shapes)
            if isinstance(statement, ir.Let):
                if statement.name in shapes[ir.Source.LET]:
                    raise IRError(f"line {statement.span.line}: let `{statement.name}` is defined twice")
                shapes[ir.Source.LET][statement.name] = tuple(
                    p.extent if isinstance(p, ir.State) else (p.role, p.bias) for p in statement.positions
                    if not isinstance(p, ir.StateAt))  # none: `_left_hand_side` refused a let at a fixed state
    _check_loops(program)
    return program


def _check_loops(program: ir.Program) -> None:
    present = [spec.kind for spec in PHASES if program.phase(spec.kind) is not None]
    looped = [kind for loop in program.loops for kind in loop.kinds]
    if len(looped) != len(set(looped)):
        raise IRError("a phase is in two loops")
    for loop in program.loops:
        start = present.index(loop.kinds[0]) if loop.kinds and loop.kinds[0] in present else -1
        if loop.count < 1 or start < 0 or tuple(present[start:start + len(loop.kinds)]) != loop.kinds:
            raise IRError(f"line {loop.span.line}: the loop's phases {[k.value for k in loop.kinds]} are not a run "
                          f"of the program's phases {[k.value for k in present]}, or it runs {loop.count} times")
        if not all(SPEC[kind].repeatable for kind in loop.kinds):
            raise IRError(f"line {loop.span.line}: the loop holds a phase that cannot repeat")


def _left_hand_side(statement: ir.Statement, header: dict[str, ir.Binding]) -> Scope:
    """The scope of a statement's right-hand side: the header's neuron indices and the left-hand side's states."""
    line = statement.span.line
    names = [p.index for p in statement.positions if not isinstance(p, ir.StateAt)]
    if len(set(names)) < len(names):
        raise IRError(f"line {line}: an index appears twice on the left-hand side of `{statement.name}`")
    states: dict[str, int | None] = {}
    for p in statement.positions:
        if isinstance(p, ir.Layer):
            _check_layer_index(p, header, (), statement.name, line)
        elif isinstance(p, ir.State):
            states[p.index] = p.extent
        elif isinstance(statement, ir.Let):
            raise IRError(f"line {line}: let `{statement.name}` is defined at a fixed state {p.value}")
    return Scope(header, states, statement.when if isinstance(statement, ir.Write) else ())


def _check_write(write: ir.Write, phase: ir.Phase, shapes, fixed: set[str], persistent: set[str]) -> None:
    line = write.span.line
    if write.kind not in (ir.Source.NEURON, ir.Source.SYNAPSE, ir.Source.SCALAR):
        raise IRError(f"line {line}: a write to {write.kind.value} `{write.name}`: only neurons, synapses and "
                      "persistent scalars are written")
    if write.name not in shapes[write.kind]:
        raise IRError(f"line {line}: write to undeclared {write.kind.value} `{write.name}`")
    _check_shape(write.positions, shapes[write.kind][write.name], write.name, line, write.when)
    if write.kind is ir.Source.SCALAR:
        if not SPEC[phase.kind].writes_scalars or phase.scheme is not ir.Scheme.PAIRS or \
                ir.Condition(ir.Role.POST, ir.Role.OUTPUT) not in write.when or write.ranges:
            raise IRError(f"line {line}: persistent scalar `{write.name}` is written other than once a step, in the "
                          f"update's instance at the output layer")
    elif write.kind is ir.Source.SYNAPSE:
        if not SPEC[phase.kind].writes_synapses:
            raise IRError(f"line {line}: the {phase.kind.value} phase writes synapse `{write.name}`")
        if write.name in fixed:
            raise IRError(f"line {line}: fixed synapse `{write.name}` is written")
    else:
        layer = write.positions[0]
        assert isinstance(layer, ir.Layer), write  # `_check_shape` has refused a state on the neuron axis
        spec = SPEC[phase.kind]
        if layer.role not in spec.neuron_writes | (spec.persistent_writes if write.name in persistent else set()):
            raise IRError(f"line {line}: the {phase.kind.value} phase writes `{write.name}` on `{layer.role}`")
        if layer.bias:
            raise IRError(f"line {line}: the write to `{write.name}` covers the bias unit")
    for r in write.ranges:
        extent = next((p.extent for p in write.positions if isinstance(p, ir.State) and p.index == r.index), None)
        if extent is None or not 0 <= r.low <= r.high <= extent:
            raise IRError(f"line {line}: range {r.index} in {r.low}..{r.high} does not fit the states of "
                          f"`{write.name}`")


def _check_expr(e: ir.Expr, scope: Scope, shapes) -> None:
    if isinstance(e, ir.Load):
        _check_load(e, scope, shapes)
    elif isinstance(e, ir.PerState):
        _check_state_index(e.selector, len(e.functions), scope, "the activation", e.span.line)
    elif isinstance(e, ir.Reduce):
        fresh = {f.index: f for f in e.fresh}
        # Any other index it reduces over, but a neuron index bound outside, is a state index it binds.
        reduced_states = {a: None for a in e.axes if a != BATCH and a not in fresh and a not in scope.layers}
        scope = Scope({**scope.layers, **fresh}, {**scope.states, **reduced_states}, scope.when)
    for child in ir.children(e):
        _check_expr(child, scope, shapes)


def _check_load(e: ir.Load, scope: Scope, shapes) -> None:
    line = e.span.line
    if e.kind in BUILTINS:
        name, layer_set = BUILTINS[e.kind]
        if e.name != name:
            raise IRError(f"line {line}: a {e.kind.value} load of `{e.name}`")
        axes: tuple[Axis, ...] = (("*", False),)
        layer = e.positions[0] if e.positions else None
        if isinstance(layer, ir.Layer) and layer.role != layer_set and ir.Condition(layer.role, layer_set) \
                not in scope.when:
            raise IRError(f"line {line}: `{e.name}` is read over `{layer.role}`, not the {layer_set} layer")
    elif e.name not in shapes[e.kind]:
        what = "read before it is defined" if e.kind is ir.Source.LET else "undeclared"
        raise IRError(f"line {line}: {e.kind.value} `{e.name}` is {what}")
    else:
        axes = shapes[e.kind][e.name]
    _check_shape(e.positions, axes, e.name, line, scope.when)
    for p in e.positions:
        if isinstance(p, ir.Layer):
            _check_layer_index(p, scope.layers, scope.states, e.name, line)
        else:
            _check_state_index(p, None, scope, f"`{e.name}`", line)


def _check_layer_index(p: ir.Layer, layers: dict[str, ir.Binding], states, name: str, line: int) -> None:
    binding = layers.get(p.index)
    if binding is None:
        kind = "a state index" if p.index in states else "bound nowhere"
        raise IRError(f"line {line}: neuron index `{p.index}` of `{name}` is {kind}")
    if binding.role != p.role or (p.bias and not binding.bias):
        raise IRError(f"line {line}: `{p.index}` of `{name}` is read over `{p.role}{'+bias' * p.bias}`, but is bound "
                      f"to `{binding.role}{'+bias' * binding.bias}`")


def _check_state_index(p: ir.Position, extent: int | None, scope: Scope, owner: str, line: int) -> None:
    if isinstance(p, ir.StateAt):
        if extent is not None and not 0 <= p.value < extent:
            raise IRError(f"line {line}: state {p.value} of {owner} is outside 0..{extent - 1}")
        return
    if isinstance(p, ir.Layer) or p.index in scope.layers:
        raise IRError(f"line {line}: `{p.index}` indexes a state of {owner}, but is a neuron index")
    if extent is not None and p.extent != extent:
        raise IRError(f"line {line}: `{p.index}` has {p.extent} states, but {owner} has {extent}")
    if p.index not in scope.states:
        raise IRError(f"line {line}: state index `{p.index}` of {owner} is bound neither by the left-hand side nor "
                      "by a reduction")
    known = scope.states[p.index]
    if known is not None and p.extent != known:
        raise IRError(f"line {line}: state index `{p.index}` of {owner} has {p.extent} states here and {known} on "
                      "the left-hand side")


def _check_shape(positions: tuple[ir.Position, ...], axes: tuple[Axis, ...], name: str, line: int,
                 when: tuple[ir.Condition, ...] = ()) -> None:
    """`when` are the conditions in force: an index over `post` narrowed to `output` reads an output axis (the
    skip synapse's)."""
    if len(positions) != len(axes):
        raise IRError(f"line {line}: `{name}` has {len(axes)} axes, indexed with {len(positions)}")
    for n, (p, axis) in enumerate(zip(positions, axes), start=1):
        if isinstance(axis, tuple):
            layer_set, bias_row = axis
            if not isinstance(p, ir.Layer):
                raise IRError(f"line {line}: position {n} of `{name}` is a neuron axis, indexed by a state")
            narrowed = layer_set != "*" and ir.Condition(p.role, ir.Role(layer_set)) in when
            if layer_set != "*" and ((p.role != layer_set and not narrowed) or p.axis_bias != bias_row):
                raise IRError(f"line {line}: position {n} of `{name}` ranges over `{layer_set}{'+bias' * bias_row}`, "
                              f"indexed over `{p.role}{'+bias' * p.axis_bias}`")
            if layer_set == "*" and p.axis_bias != p.bias:
                raise IRError(f"line {line}: position {n} of `{name}` has a bias row only where its index includes it")
        elif isinstance(p, ir.Layer):
            raise IRError(f"line {line}: position {n} of `{name}` is a state axis, indexed by neuron index "
                          f"`{p.index}`")
        elif isinstance(p, ir.StateAt) and not 0 <= p.value < axis:
            raise IRError(f"line {line}: state {p.value} of `{name}` is outside 0..{axis - 1}")
        elif isinstance(p, ir.State) and p.extent != axis:
            raise IRError(f"line {line}: `{name}` is indexed by `{p.index}` of extent {p.extent}, not {axis}")
