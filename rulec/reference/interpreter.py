"""The reference interpreter: runs a rule's IR step by step with plain NumPy, written for clarity, not speed.

It is the independent target that the JAX lowering is tested against, and, run on arrays of SymPy expressions,
the engine of the symbolic proofs. Every intermediate is a `Named` array: broadcasting and reductions go by
index name, and a reduction materialises its whole summand before summing.

Layouts: a neuron is stored per layer as [batch, neurons] or [batch, neurons, states]; a synapse per instance
(adjacent pair, or hidden layer) as [source, target, channels...], with the bias unit as the last source row.
"""

from __future__ import annotations

import operator

import numpy as np

from rulec.functions import NORMALIZE_EPSILON
from rulec.ir import nodes as ir
from rulec.ir.schedule import PHASE_ORDER, Context, StatementRunner, instance_index, runs
from rulec.losses import loss_table
from rulec.reference import named as nm
from rulec.syntax.ast import Reducer



class Reference(StatementRunner):
    """Runs one program on one network shape.

    Args:
        program: the resolved rule.
        sizes: layer sizes, input first.
        functions: elementwise functions and derivatives (see rulec.functions.elementwise_table).
        constant: converts the rule's numbers (constants and the bias unit) to array elements.
        losses: each loss and its derivative (see rulec.losses.loss_table).
    """

    def __init__(self, program: ir.Program, sizes, functions, constant=float, losses=None):
        self.program = program
        self.losses = losses if losses is not None else loss_table(np)
        self.constant = constant  # turns the rule's numbers into array elements (SymPy uses exact rationals)
        self.sizes = tuple(sizes)
        self.depth = len(self.sizes) - 1
        self.functions = functions
        self.synapse_schemes = {s.name: s.scheme for s in program.synapses}
        self.per_synapse = {g.name: g for g in program.genome if g.per_synapse}

    # ---- the step --------------------------------------------------------------------------------------------

    def step(self, genome, synapses, x, y, phases=PHASE_ORDER):
        """Runs the phases on one batch. Returns the new synapses and the neuron states they were updated from."""
        x = np.asarray(x)
        neurons = {n.name: [np.zeros((x.shape[0], size) + ((n.states,) if n.states else ()), dtype=x.dtype)
                            for size in self.sizes] for n in self.program.neurons}
        state = {"genome": genome, "synapses": {k: list(v) for k, v in synapses.items()}, "neurons": neurons,
                 "input": np.asarray(x), "target": np.asarray(y)}
        for phase, roles in runs(self.program, self.depth, phases):
            context = Context(roles, {}, {})
            for statement in phase.statements:
                self.statement(statement, context, state)
        return state["synapses"], state["neurons"]

    def write(self, statement: ir.Write, value: nm.Named, context: Context, state) -> None:
        if statement.kind == "neuron":
            layer = context.roles[statement.positions[0].role]
            store, key = state["neurons"][statement.name], layer
            axes, region = ["batch"], [slice(None)]
        else:
            store = state["synapses"][statement.name]
            key = instance_index(self.synapse_schemes[statement.name], context.roles)
            axes, region = [], []
        old = np.array(store[key], copy=True)
        for position in statement.positions:
            if isinstance(position, ir.Layer):
                size = self.sizes[context.roles[position.role]]
                region.append(slice(0, size) if position.axis_bias and not position.bias else slice(None))
                axes.append(position.index)
            elif isinstance(position, ir.State):
                low, high = context.ranges.get(position.index, (0, position.extent))
                region.append(slice(low, high))
                axes.append(position.index)
            else:
                region.append(position.value)
        target_shape = np.shape(old[tuple(region)])
        old[tuple(region)] = np.broadcast_to(nm.align(value, tuple(axes)), target_shape)
        store[key] = old

    # ---- expressions -----------------------------------------------------------------------------------------

    def expr(self, e: ir.Expr, context: Context, state) -> nm.Named:
        if isinstance(e, ir.Const):
            return nm.scalar(self.constant(e.value))
        if isinstance(e, ir.Load):
            return self.load(e, context, state)
        if isinstance(e, ir.Arith):
            return nm.combine(e.op.apply, self.expr(e.left, context, state), self.expr(e.right, context, state))
        if isinstance(e, ir.Neg):
            return nm.apply(operator.neg, self.expr(e.arg, context, state))
        if isinstance(e, ir.Func):
            return nm.apply(self.functions[e.name][e.primes], self.expr(e.arg, context, state))
        if isinstance(e, ir.PerState):
            return self.per_state(e, context, state)
        if isinstance(e, ir.Loss):
            return nm.combine(self.losses[e.name][e.primes], self.expr(e.prediction, context, state),
                              self.expr(e.target, context, state))
        body = self.expr(e.body, context, state)
        if e.kind is Reducer.NORMALIZE:
            return nm.normalize(body, e.axes, NORMALIZE_EPSILON)
        return (nm.reduce_sum if e.kind is Reducer.SUM else nm.reduce_mean)(body, e.axes)

    def per_state(self, e: ir.PerState, context: Context, state) -> nm.Named:
        arg = self.expr(e.arg, context, state)
        if isinstance(e.selector, ir.StateAt):
            name, primes = e.functions[e.selector.value]
            return nm.apply(self.functions[name][primes], arg)
        index = e.selector.index
        low, high = context.ranges.get(index, (0, e.selector.extent))
        parts = []
        for s in range(low, high):
            part = nm.take(arg, index, s - low) if index in arg.axes else arg
            name, primes = e.functions[s]
            parts.append(nm.apply(self.functions[name][primes], part))
        axes = parts[0].axes
        return nm.Named(np.stack([np.asarray(p.data) for p in parts], axis=0), (index,) + axes)

    def load(self, e: ir.Load, context: Context, state) -> nm.Named:
        if e.kind == "let":
            return self.load_let(e, context)
        if e.kind in ("input", "target"):
            return nm.Named(state[e.kind], ("batch", e.positions[0].index))
        if e.kind == "neuron":
            layer_position = e.positions[0]
            data = state["neurons"][e.name][self.layer_of(layer_position, context)]
            if layer_position.bias:
                data = self.with_bias_unit(data)
            return self.index(nm.Named(data, ("batch",) + self.axis_names(e.positions)), e.positions, context)
        if e.kind == "synapse":
            data = state["synapses"][e.name][instance_index(self.synapse_schemes[e.name], context.roles)]
        elif e.name in self.per_synapse:
            scheme = ir.scheme_of({role for role, _ in self.per_synapse[e.name].per_synapse})
            data = state["genome"][e.name][instance_index(scheme, context.roles)]
        else:
            data = state["genome"][e.name]
        return self.index(nm.Named(np.asarray(data), self.axis_names(e.positions)), e.positions, context)

    def layer_of(self, position: ir.Layer, context: Context) -> int:
        return context.roles[position.role]

    def with_bias_unit(self, data: np.ndarray) -> np.ndarray:
        shape = list(np.shape(data))
        shape[1] = 1
        return np.concatenate([data, np.full(shape, self.constant(self.program.bias), dtype=data.dtype)], axis=1)

    @staticmethod
    def axis_names(positions) -> tuple[str, ...]:
        return tuple(p.index if not isinstance(p, ir.StateAt) else f"#{i}" for i, p in enumerate(positions))

    def index(self, t: nm.Named, positions, context: Context) -> nm.Named:
        """Applies bias slicing, state ranges and fixed states to a freshly loaded array."""
        offset = len(t.axes) - len(positions)
        for i, position in enumerate(positions):
            axis = t.axes[offset + i] if offset + i < len(t.axes) else None
            if isinstance(position, ir.Layer) and position.axis_bias and not position.bias:
                t = nm.slice_axis(t, axis, 0, self.sizes[self.layer_of(position, context)])
            elif isinstance(position, ir.State) and position.index in context.ranges:
                t = nm.slice_axis(t, axis, *context.ranges[position.index])
        for i, position in reversed(list(enumerate(positions))):
            if isinstance(position, ir.StateAt):
                t = nm.take(t, f"#{i}", position.value)
        return nm.diagonal(t)

    def load_let(self, e: ir.Load, context: Context) -> nm.Named:
        value, defined = context.lets[e.name]
        mapping = {d.index: u.index for d, u in zip(defined, e.positions) if not isinstance(u, ir.StateAt)
                   and not isinstance(d, ir.StateAt)}
        t = value
        for d, u in zip(defined, e.positions):
            if isinstance(u, ir.StateAt):
                t = nm.take(t, d.index, u.value)
            elif isinstance(u, ir.Layer) and d.bias and not u.bias:
                t = nm.slice_axis(t, d.index, 0, self.sizes[self.layer_of(u, context)])
            elif isinstance(u, ir.State) and u.index in context.ranges:
                # A let holds all its states (lets run in the phase's context, which has no ranges).
                t = nm.slice_axis(t, d.index, *context.ranges[u.index])
        return nm.rename(t, mapping)
