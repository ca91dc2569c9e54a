"""Dead-state elimination: the writes of a step that no later step of an unroll, nor `predict`, ever reads.

A location is one state of a neuron on one layer, or one channel of a synapse in one instance (adjacent pair or
hidden layer), or a persistent scalar. Neurons start every step at zero, so only synapses, persistent neurons and
persistent scalars carry values from one step to the next. The pass walks the schedule backwards from what is
read afterwards (the live set), as a compiler's liveness analysis does over a loop body:
* a write none of whose locations is live is skipped, and its locations keep the values they had;
* a write some of whose states are live is narrowed to the range of states that covers them;
* a kept write kills the locations it overwrites and makes live every location its value reads;
* a `let` is kept when a kept statement reads it (a let is always computed over all its states).
`predict` runs the input and forward phases, and, inside a relaxation loop that holds forward, the loop's other
phases that settle the prediction (backward: rulec/phases.py); its result is state 0 of the first neuron on the
output layer. A loop (`repeat n` ... `end`) is a `Repeat` of its body's runs: its body runs at least once, and
what an iteration reads is live at the end of the one before, so the body is swept from the least fixpoint of
what is live after the loop plus what the body reads first.
The synapses live across steps are the least fixpoint: those `predict` reads, plus those a kept statement of a
step reads. Asymmetric BLUR's backward weights into the input layer are an example: only their own update reads
them, because the backward pass never writes the input layer.

The lowering consumes the pruned schedule; the reference interpreter runs the unpruned one and stays the
definition of a step.
"""

from __future__ import annotations

import dataclasses
import itertools

from rulec.ir import nodes as ir
from rulec.ir.schedule import PHASE_ORDER, Context, instance_index, phase_runs, segments, write_context
from rulec.phases import PHASES, SPEC

PREDICT_PHASES = tuple(spec.kind for spec in PHASES if spec.predicts)
# What a step keeps between phases, and so what can be dead.
STORED = (ir.Source.NEURON, ir.Source.SYNAPSE, ir.Source.SCALAR)

# (Source.NEURON, name, layer, state), (Source.SYNAPSE, name, instance, channels) or (Source.SCALAR, name)
Location = tuple


@dataclasses.dataclass(frozen=True)
class Run:
    """One instance of a phase: its role bindings and the statements it executes, in order."""

    phase: ir.Phase
    roles: dict[ir.Role, int]
    statements: tuple[ir.Statement, ...]


@dataclasses.dataclass(frozen=True)
class Repeat:
    """A loop: its body's runs, run `count` times in a row."""

    count: int
    runs: tuple[Run, ...]


@dataclasses.dataclass(frozen=True)
class Skipped:
    """A write the pruned schedule leaves out (`ranges` None) or computes over fewer states (`ranges`)."""

    phase: ir.Phase
    roles: dict[ir.Role, int]
    statement: ir.Write
    ranges: tuple[ir.StateRange, ...] | None


@dataclasses.dataclass(frozen=True)
class Pruned:
    """The schedules of one step inside an unroll and of `predict`, and what each leaves out."""

    step: tuple[Run | Repeat, ...]
    predict: tuple[Run | Repeat, ...]
    step_skipped: tuple[Skipped, ...]
    predict_skipped: tuple[Skipped, ...]


def predict_phases(program: ir.Program) -> tuple:
    """The phases `predict` runs: those that predict, and, in a loop that holds one, those that settle the
    prediction (the top-down drive of a relaxation); never feedback, which reads the target."""
    kinds = set(PREDICT_PHASES)
    for loop in program.loops:
        if any(SPEC[kind].predicts for kind in loop.kinds):
            kinds |= {kind for kind in loop.kinds if SPEC[kind].settles_prediction}
    return tuple(kind for kind in PHASE_ORDER if kind in kinds)


def schedule(program: ir.Program, depth: int, phases=PHASE_ORDER) -> tuple[Run | Repeat, ...]:
    """The unpruned schedule: every statement of every instance the phases run over, a loop as a `Repeat`."""
    items: list[Run | Repeat] = []
    for count, grouped in segments(program, phases):
        body = tuple(Run(phase, roles, phase.statements) for p in grouped for phase, roles in phase_runs(p, depth))
        items += [Repeat(count, body)] if count > 1 else body
    return tuple(items)


def flat(items) -> tuple[Run, ...]:
    """The runs of a schedule with each loop's body once: every instance and statement a step can run."""
    return tuple(run for item in items for run in (item.runs if isinstance(item, Repeat) else (item,)))


def prune(program: ir.Program, depth: int) -> Pruned:
    """The step and predict schedules with every write that nothing reads afterwards left out."""
    output = (ir.Source.NEURON, program.neurons[0].name, depth, 0)
    predict_schedule = schedule(program, depth, predict_phases(program))
    predict, predict_skipped, live = _sweep(program, depth, predict_schedule, {output})
    carried = _carried(live, program)
    full = schedule(program, depth)
    while True:
        step, step_skipped, live = _sweep(program, depth, full, carried)
        grown = carried | _carried(live, program)
        if grown == carried:
            return Pruned(step, predict, step_skipped, predict_skipped)
        carried = grown


def describe(skipped: Skipped) -> str:
    """One line for `rulec compile`: where the write is, and what of it is skipped."""
    statement = skipped.statement
    roles = ", ".join(f"{role}={layer}" for role, layer in skipped.roles.items())
    source = " ".join(statement.span.source.line(statement.span.line).split())
    where = f"line {statement.span.line}, {skipped.phase.kind.value} ({roles}): `{source}`"
    if skipped.ranges is None:
        return f"{where} is skipped (never read afterwards)"
    kept = ", ".join(f"{r.index} in {r.low}..{r.high - 1}" for r in skipped.ranges)
    return f"{where} runs only for {kept} (the other states are never read afterwards)"


def report(pruned) -> str:
    """What dead-state elimination leaves out of a network (its `pruned`), as `rulec compile` prints it."""
    skipped = [f"  unroll step: {describe(s)}" for s in pruned.step_skipped]
    skipped += [f"  predict: {describe(s)}" for s in pruned.predict_skipped]
    if not skipped:
        return "dead-state elimination: every write is read afterwards; nothing is skipped"
    return "\n".join(["dead-state elimination (the emitted step stays complete; predict and each step of "
                      "`unroll` skip these):", *skipped])


def _carried(live: set[Location], program: ir.Program) -> frozenset[Location]:
    """The locations of `live` that the network state carries from step to step: synapses, persistent neurons and
    persistent scalars."""
    persistent = {n.name for n in program.neurons if n.persistent}
    return frozenset(location for location in live
                     if location[0] in (ir.Source.SYNAPSE, ir.Source.SCALAR) or location[1] in persistent)


def _sweep_loop(program: ir.Program, depth: int, loop: Repeat, live_out: set):
    """A loop's body swept from what is live at the end of each iteration: `live_out` and what the next
    iteration reads first, a least fixpoint. Returns (the kept loop, skipped writes, locations live before it)."""
    needed = set(live_out)
    while True:
        body, skipped, live_in = _sweep(program, depth, loop.runs, needed)
        if live_in <= needed:
            return Repeat(loop.count, body), skipped, live_in
        needed |= live_in


def _sweep(program: ir.Program, depth: int, runs_in_order, live_out):
    """Walks the runs (and loops) backwards from `live_out`: (kept runs, skipped writes, locations live before
    the first)."""
    live = set(live_out)
    kept_runs, skipped = [], []
    for run in reversed(runs_in_order):
        if isinstance(run, Repeat):
            kept_loop, loop_skipped, live = _sweep_loop(program, depth, run, live)
            kept_runs.append(kept_loop)
            skipped.extend(reversed(loop_skipped))
            continue
        context = Context(run.roles, {}, {})
        kept: list[ir.Statement] = []
        wanted_lets: set[str] = set()
        for statement in reversed(run.statements):
            if isinstance(statement, ir.Let):
                if statement.name in wanted_lets:
                    wanted_lets.discard(statement.name)
                    kept.append(statement)
                    live |= _reads(statement.value, context, program, depth)
                    wanted_lets |= _lets_read(statement.value)
                continue
            local = write_context(statement, context, depth)
            if local is None:
                continue
            written, complete = _written(statement, local, program, depth)
            needed = written & live
            if not needed:
                skipped.append(Skipped(run.phase, run.roles, statement, None))
                continue
            narrowed = _narrow(statement, needed, local)
            if narrowed is not statement:
                skipped.append(Skipped(run.phase, run.roles, statement, narrowed.ranges))
                local = write_context(narrowed, context, depth)
                assert local is not None  # the narrowed write still covers what is needed
            if complete:
                live -= written
            live |= _reads(narrowed.value, local, program, depth)
            wanted_lets |= _lets_read(narrowed.value)
            kept.append(narrowed)
        kept_runs.append(Run(run.phase, run.roles, tuple(reversed(kept))))
    return tuple(reversed(kept_runs)), tuple(reversed(skipped)), live


def _state_values(position, ranges) -> range:
    if isinstance(position, ir.StateAt):
        return range(position.value, position.value + 1)
    return range(*ranges.get(position.index, (0, position.extent)))


def _layers(role: ir.Role, roles: dict[ir.Role, int], depth: int) -> range:
    """The layers a neuron index over `role` can name: its instance's binding, or every layer it may range over."""
    if role in roles:
        return range(roles[role], roles[role] + 1)
    return {ir.Role.INPUT: range(0, 1), ir.Role.OUTPUT: range(depth, depth + 1)}.get(role, range(depth + 1))


def _locations(kind: ir.Source, name: str, positions, context: Context, program: ir.Program, depth: int):
    if kind is ir.Source.SCALAR:
        return {(kind, name)}
    if kind is ir.Source.NEURON:
        states = _state_values(positions[1], context.ranges) if len(positions) > 1 else range(1)
        return {(kind, name, layer, s) for layer in _layers(positions[0].role, context.roles, depth)
                for s in states}
    scheme = next(s.scheme for s in program.synapses if s.name == name)
    instance = instance_index(scheme, context.roles)
    channels = itertools.product(*(_state_values(p, context.ranges) for p in positions[2:]))
    return {(kind, name, instance, c) for c in channels}


def _written(statement: ir.Write, context: Context, program: ir.Program, depth: int):
    """The locations a write stores into, and whether it overwrites them whole (a synapse write that leaves out
    the bias row does not)."""
    locations = _locations(statement.kind, statement.name, statement.positions, context, program, depth)
    complete = statement.kind is not ir.Source.SYNAPSE or not any(
        isinstance(p, ir.Layer) and p.axis_bias and not p.bias for p in statement.positions)
    return locations, complete


def _reads(e: ir.Expr, context: Context, program: ir.Program, depth: int) -> set[Location]:
    return {location for sub in ir.walk(e) if isinstance(sub, ir.Load) and sub.kind in STORED
            for location in _locations(sub.kind, sub.name, sub.positions, context, program, depth)}


def _lets_read(e: ir.Expr) -> set[str]:
    return {sub.name for sub in ir.walk(e) if isinstance(sub, ir.Load) and sub.kind is ir.Source.LET}


def _narrow(statement: ir.Write, needed: set[Location], context: Context) -> ir.Write:
    """The write restricted, on each of its state indices, to the range that covers the needed locations."""
    neuron = statement.kind is ir.Source.NEURON
    first = 1 if neuron else 2
    ranges = dict(context.ranges)
    # A reduction over a state index (`normalize(c) ...`) mixes its states: narrowing it would change the others.
    mixed = {axis for sub in ir.walk(statement.value) if isinstance(sub, ir.Reduce) for axis in sub.axes}
    for axis, position in enumerate(statement.positions[first:]):
        if isinstance(position, ir.State) and position.index not in mixed:
            values = [location[3] if neuron else location[3][axis] for location in needed]
            envelope = (min(values), max(values) + 1)
            if envelope != ranges.get(position.index, (0, position.extent)):
                ranges[position.index] = envelope
    if ranges == context.ranges:
        return statement
    narrowed = tuple(ir.StateRange(index, low, high) for index, (low, high) in ranges.items())
    return dataclasses.replace(statement, ranges=narrowed)
