"""The schedule: which instances (layer pairs, hidden layers) each phase runs over, and in what order.

For a network with layers 0..depth: `input` runs on layer 0, `forward` over pairs (l, l+1) from the input up,
`feedback` on the output layer, `backward` over pairs from the output down (never writing the input layer), and
`update` over every pair. A `hidden` scheme pairs each hidden layer h with the output layer. A lateral synapse
(`post -> post`) is stored once per layer 1..depth and read by the pairs phases at their post layer; a skip synapse
(`input -> output`) is stored once, and a phase that binds `input` or `output` besides its pair reads it.
"""

from __future__ import annotations

import dataclasses
import functools
import operator
from collections.abc import Callable
from typing import Any, assert_never

import numpy as np

from rulec.check.symbols import BATCH
from rulec.diagnostics import Diagnostic, RuleError
from rulec.functions import NORMALIZE_EPSILON, PAIRWISE
from rulec.geometry import Geometry
from rulec.ir import draws, indexing, spatial
from rulec.ir import named as nm
from rulec.ir import nodes as ir
from rulec.ir.instances import holds, instances
from rulec.ir.nodes import Role
from rulec.losses import LOSSES
from rulec.phases import PHASES, SPEC
from rulec.syntax.ast import Reducer

PHASE_ORDER = tuple(spec.kind for spec in PHASES)


def instance_index(scheme: ir.Scheme, roles: dict[ir.Role, int]) -> int:
    """Where a synapse (or per-synapse genome entry) of `scheme` is stored in its per-instance list."""
    if scheme is ir.Scheme.LATERAL:
        return roles[Role.POST] - 1  # read from a pairs phase, whose post layer holds the synapse
    if scheme is ir.Scheme.SKIP:
        return 0
    return roles[Role.PRE] if scheme is ir.Scheme.PAIRS else roles[Role.HIDDEN] - 1


def segments(program, phases=PHASE_ORDER) -> list[tuple[int, tuple]]:
    """The given phases of the program in step order, grouped as they run: (count, phases) for the phases of a
    loop (`repeat n` ... `end`), which run one after the other n times, and (1, (phase,)) for any other."""
    looped = {kind: loop for loop in program.loops for kind in loop.kinds}
    grouped: list[tuple[int, tuple]] = []
    for kind in (k for k in PHASE_ORDER if k in phases and program.phase(k) is not None):
        loop = looped.get(kind)
        if loop is not None and grouped and grouped[-1][1][-1].kind in loop.kinds:
            grouped[-1] = (loop.count, grouped[-1][1] + (program.phase(kind),))
        else:
            grouped.append((loop.count if loop else 1, (program.phase(kind),)))
    return grouped


def phase_runs(phase: ir.Phase, depth: int):
    """(phase, role bindings) for every instance of one phase, in execution order."""
    for roles in instances(phase.scheme, depth, SPEC[phase.kind].top_down):
        yield phase, with_end_layers(phase, roles, depth)


def runs(program, depth: int, phases=PHASE_ORDER):
    """(phase, role bindings) for every instance the given phases run over, in execution order: a loop's
    phases as many times as it repeats."""
    for count, grouped in segments(program, phases):
        for _ in range(count):
            for phase in grouped:
                yield from phase_runs(phase, depth)


def with_end_layers(phase: ir.Phase, roles: dict[ir.Role, int], depth: int) -> dict[ir.Role, int]:
    """The roles of an instance, plus the input and output layers where the phase header also binds them (as
    `forward (i in pre, j in post, r in input)` does to read a skip synapse): those are the same in every
    instance."""
    ends = {Role.INPUT: 0, Role.OUTPUT: depth}
    return roles | {b.role: ends[b.role] for b in phase.bindings if b.role in ends and b.role not in roles}


def refuse(problems: list[Diagnostic]) -> None:
    """Raises the located errors of what a network cannot run (rulec/ir/spatial.py), if any."""
    if problems:
        raise RuleError(problems)


@dataclasses.dataclass
class Context:
    """Where a statement runs: the layer of each role, the state ranges in force, and the phase's lets so far."""

    roles: dict[ir.Role, int]
    ranges: dict[str, tuple[int, int]]
    lets: dict


class StatementRunner:
    """The part of an interpreter that is the same for all of them: a `let` binds its value for the rest of the
    phase; a write runs in its context, when the instance and its state ranges allow. Subclasses provide `sizes`
    (the layer sizes), `geometry` (rulec/geometry.py), `depth`, `xp`, the tables and hooks of `expr`,
    `load_stored(e, context, state)`, `write(statement, value, context, state)` (of a neuron or a synapse) and
    `layer_arrays` (see `run_statements`). `state` holds the batch ("input", "target"), the step counter ("step"),
    this step's key ("key") and the neurons ("neurons"), whose entry for a persistent scalar is its one number, read
    and written here the same for every interpreter."""

    program: ir.Program
    sizes: tuple[int, ...]
    geometry: Geometry
    depth: int
    xp: Any  # the array module of the interpreter's arrays (numpy, jax.numpy)
    # The interpreter's own arithmetic, which `expr` dispatches to: elementwise functions and their derivatives
    # (rulec.functions.elementwise_table), losses (rulec.losses.loss_table), pairwise functions (pairwise_table);
    # `number(value, state)`, a number of the rule or the network as a scalar; `mask(named, state)`, an index
    # comparison's 0/1 NumPy mask as the interpreter's array; `contract(e, context, state)`, a sum or mean.
    functions: dict
    losses: dict
    pairwise: dict
    number: Callable[[float, Any], nm.Named]
    mask: Callable[[nm.Named, Any], nm.Named]
    contract: Callable[[ir.Reduce, Context, Any], nm.Named]
    load_stored: Callable[[ir.Load, Context, Any], nm.Named]
    write: Callable[[ir.Write, nm.Named, Context, Any], None]

    def layer_size(self, context: Context):
        """The number of neurons each role's index ranges over in `context` (see rulec/ir/indexing.py): on a
        convolutional pair, the receptive field (pre) and the channels (post)."""
        return self.geometry.layer_size(context.roles)

    def examples(self, context: Context, state) -> int:
        """The batch of an instance: the examples times, on a convolutional pair, the positions."""
        return state["input"].shape[0] * self.geometry.examples(context.roles)

    def size(self, e: ir.Size, context: Context, state) -> int:
        """The value of `size(i)` or `size(batch)` in `context`: a number of the network, the same in every
        interpreter (a constant of the trace for JAX)."""
        return indexing.size(e, self.layer_size(context), self.examples(context, state))

    def run_statements(self, statements, roles: dict[Role, int], state) -> None:
        """Runs one instance's statements. On a convolutional pair (or a lateral instance on an image layer) they
        run on a view of its layers (rulec/ir/spatial.py): each non-persistent neuron's layer is replaced by its
        view, and the states the instance wrote are read back."""
        context = Context(roles, {}, {})
        neurons = state["neurons"]
        saved = {}
        for layer, into, out in spatial.layer_views(self.geometry, roles, self):
            for neuron in self.program.neurons:
                if not neuron.persistent:
                    originals = self.layer_states(neurons[neuron.name][layer])
                    shown = [into(a) for a in originals]
                    neurons[neuron.name][layer] = self.stored_layer(shown)
                    saved[neuron.name, layer] = (originals, shown, out)
        for statement in statements:
            self.statement(statement, context, state)
        for (name, layer), (originals, shown, out) in saved.items():
            written = self.layer_states(neurons[name][layer])
            neurons[name][layer] = self.stored_layer([old if new is view else out(new)
                                                      for old, view, new in zip(originals, shown, written)])

    def layer_states(self, stored) -> list:
        """The arrays a layer of a neuron is stored as (one for all states, or one per state), as a list."""
        raise NotImplementedError

    def stored_layer(self, arrays: list):
        """The inverse of `layer_states`."""
        raise NotImplementedError

    def reduced(self, e: ir.Reduce, value: nm.Named, context: Context, state) -> nm.Named:
        """A sum or mean's value, summed back over the patches where it is a transposed convolution."""
        pair = self.geometry.pair(context.roles)
        over = None if pair is None else spatial.transposes(e)
        if pair is None or over is None or over[0] not in value.axes:
            return value
        return spatial.transposed(value, over[0], self.examples(context, state), pair, self)

    def patches(self, data, pair):
        """[batch, neurons, rest...] -> [batch x positions, receptive field, rest...] (rulec/ir/spatial.py)."""
        return spatial.patches(data, pair, self.xp)

    def from_patches(self, data, pair):
        """The inverse of `patches` on a value that is the same in every patch holding a neuron."""
        return spatial.from_patches(data, pair, self.xp)

    def fold(self, data, pair):
        """The transpose of `patches`: each neuron's sum over the patches that hold it."""
        return spatial.fold(data, pair, self.xp)

    def load(self, e: ir.Load, context: Context, state):
        """Reads a let or a built-in, the same in every interpreter; a stored array comes from `load_stored`,
        which subclasses provide for their own layouts. `state` holds the batch as "input" and "target"."""
        if e.kind is ir.Source.LET:
            value, defined = context.lets[e.name]
            return indexing.load_let(value, defined, e.positions, self.layer_size(context), context.ranges)
        if e.kind in (ir.Source.INPUT, ir.Source.TARGET):
            (neuron,) = e.positions
            assert isinstance(neuron, ir.Layer), e  # `x[j]`, `target[j]`
            return nm.Named(state[e.kind.value], (BATCH, neuron.index))
        if e.kind is ir.Source.STEP:
            return nm.Named(state["step"], ())
        if e.kind is ir.Source.SCALAR:
            return nm.Named(state["neurons"][e.name], ())
        return self.load_stored(e, context, state)

    def draw(self, e: ir.Draw, context: Context, state) -> nm.Named:
        """A draw from this step's key, `state["key"]` (see rulec/ir/draws.py), in the input's dtype."""
        args = [self.expr(a, context, state) for a in e.args]
        size = draws.shape(e, self.layer_size(context), self.examples(context, state))
        key = draws.site_key(state["key"], e.site, context.roles)
        dtype = state["input"].dtype
        return draws.sample(e, args, key, size, lambda data: self.xp.asarray(data, dtype))

    def elementwise(self, e: ir.Arith | ir.Neg | ir.Func, fn, *operands: nm.Named) -> nm.Named:
        """`e`'s value, fn(*operands); the JAX lowering computes some of them on a layer instead of its patches."""
        return fn(*operands)

    def expr(self, e: ir.Expr, context: Context, state) -> nm.Named:
        """The value of `e` in `context`: the dispatch over the IR's expressions, shared by every interpreter,
        each computing with its own arrays through the tables and hooks above."""
        match e:
            case ir.Const():
                return self.number(e.value, state)
            case ir.Load():
                return self.load(e, context, state)
            case ir.Arith():
                return self.elementwise(e, functools.partial(nm.combine, e.op.apply), self.expr(e.left, context, state),
                                        self.expr(e.right, context, state))
            case ir.Neg():
                return self.elementwise(e, functools.partial(nm.apply, operator.neg), self.expr(e.arg, context, state))
            case ir.Func():
                return self.elementwise(e, functools.partial(nm.apply, self.functions[e.name][e.primes]),
                                        self.expr(e.arg, context, state))
            case ir.PerState():
                return indexing.per_state(e, self.expr(e.arg, context, state), self.functions, context.ranges)
            case ir.Pairwise():
                return nm.combine(self.pairwise[e.name], self.expr(e.left, context, state),
                                  self.expr(e.right, context, state))
            case ir.Size():
                return self.number(self.size(e, context, state), state)
            case ir.IndexCompare():
                # A constant of the network: the sizes are known, so the mask is computed here, not in the step.
                return self.mask(indexing.index_mask(e, self.layer_size(context), np, PAIRWISE[e.op]), state)
            case ir.Loss():
                return indexing.loss(self.losses[e.name][e.primes], LOSSES[e.name].couples_outputs,
                                     self.expr(e.prediction, context, state), self.expr(e.target, context, state))
            case ir.Draw():
                return self.draw(e, context, state)
            case ir.Reduce():
                if e.kind is Reducer.NORMALIZE:
                    return nm.normalize(self.expr(e.body, context, state), e.axes, NORMALIZE_EPSILON)
                if e.kind.value in nm.REDUCTIONS:  # max, logsumexp, softmax: no product to contract
                    return nm.REDUCTIONS[e.kind.value](self.expr(e.body, context, state), e.axes)
                return self.reduced(e, self.contract(e, context, state), context, state)
            case _:
                assert_never(e)

    def statement(self, statement, context: Context, state) -> None:
        if isinstance(statement, ir.Let):
            context.lets[statement.name] = (self.expr(statement.value, context, state), statement.positions)
            return
        local = write_context(statement, context, self.depth)
        if local is None:
            return
        value = self.expr(statement.value, local, state)
        if statement.kind is ir.Source.SCALAR:
            # One number, the same layout in every interpreter; the checker has made the value a scalar.
            assert value.axes == (), value.axes
            old = state["neurons"][statement.name]
            state["neurons"][statement.name] = self.xp.asarray(value.data).astype(old.dtype)
        else:
            self.write(statement, value, local, state)


def write_context(statement, context: Context, depth: int) -> Context | None:
    """The context of a write in this instance, or None when a `for j in output`-style condition or an empty
    state range (such as `for c in 2..k` when k = 2) skips it."""
    if not all(holds(context.roles[c.role], c.subset, depth) for c in statement.when):
        return None
    if any(r.low == r.high for r in statement.ranges):
        return None
    return Context(context.roles, {r.index: (r.low, r.high) for r in statement.ranges}, context.lets)
