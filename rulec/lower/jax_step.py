"""Lowers the IR to JAX: one pure function per step, traced once per network shape into one XLA program.

Deliberate choices, each measured in benchmarks/step_bench.py:
* Layouts. Neurons are state-major, [states, batch, neurons]; synapses channel-major, [channels, source, target].
  A per-state contraction such as `sum(i) w[i, j, c] * a[i, c]` is then a dot_general whose batch dimension is
  already leading, with no transposes.
* Contractions. A sum or mean over a product becomes one `einsum` over all its factors, with the contraction
  order chosen by opt_einsum, instead of a broadcast product followed by a sum.
* The bias unit. A sum over `pre+bias` is split into the sum over the real neurons plus the bias row, so that no
  neuron array is ever concatenated with a row of ones.
* Specialisation. Genome entries given as constants are folded into the program at trace time.
"""

from __future__ import annotations

import operator
import string

import jax.numpy as jnp

from rulec.functions import NORMALIZE_EPSILON, elementwise_table
from rulec.ir import nodes as ir
from rulec.ir.resolve import walk
from rulec.ir.schedule import PHASE_ORDER, holds, instance_index, instances
from rulec.reference import named as nm
from rulec.syntax.ast import BinOp, PhaseKind, Reducer

_OPERATORS = {BinOp.ADD: operator.add, BinOp.SUB: operator.sub, BinOp.MUL: operator.mul,
              BinOp.DIV: operator.truediv, BinOp.POW: operator.pow}
_FUNCTIONS = elementwise_table(jnp)


class Context:
    def __init__(self, roles, ranges, lets):
        self.roles, self.ranges, self.lets = roles, ranges, lets


class JaxStep:
    """The step and predict functions of one program on one network shape (pure; jit, vmap and grad them)."""

    def __init__(self, program: ir.Program, sizes):
        self.program = program
        self.sizes = tuple(sizes)
        self.depth = len(self.sizes) - 1
        self.schemes = {s.name: s.scheme for s in program.synapses}
        self.per_synapse = {g.name: ir.scheme_of({r for r, _ in g.per_synapse}) for g in program.genome
                            if g.per_synapse}

    # ---- phases ----------------------------------------------------------------------------------------------

    def run(self, genome, synapses, x, y, phases):
        dtype = x.dtype
        neurons = {n.name: [jnp.zeros(((n.states,) if n.states else ()) + (x.shape[0], size), dtype)
                            for size in self.sizes] for n in self.program.neurons}
        state = {"genome": genome, "synapses": {k: list(v) for k, v in synapses.items()}, "neurons": neurons,
                 "input": x, "target": y}
        for kind in phases:
            phase = self.program.phase(kind)
            if phase is None:
                continue
            for roles in instances(kind, phase.scheme, self.depth):
                context = Context(roles, {}, {})
                for statement in phase.statements:
                    self.statement(statement, context, state)
        return state

    def step(self, genome, synapses, x, y):
        """One inner step: returns the new synapses."""
        return self.run(genome, synapses, x, y, PHASE_ORDER)["synapses"]

    def predict(self, genome, synapses, x):
        """The forward pass only: state 0 of the first neuron on the output layer, [batch, outputs]."""
        state = self.run(genome, synapses, x, None, (PhaseKind.INPUT, PhaseKind.FORWARD))
        first = self.program.neurons[0]
        out = state["neurons"][first.name][self.depth]
        return out[0] if first.states else out

    def statement(self, statement, context: Context, state) -> None:
        if isinstance(statement, ir.Let):
            context.lets[statement.name] = (self.expr(statement.value, context, state), statement.positions)
            return
        if not all(holds(context.roles[role], subset, self.depth) for role, subset in statement.when):
            return
        if any(low == high for _, low, high in statement.ranges):
            return  # an empty state range, such as `for c in 2..k` when k = 2
        local = Context(context.roles, {i: (lo, hi) for i, lo, hi in statement.ranges}, context.lets)
        self.write(statement, self.expr(statement.value, local, state), local, state)

    def write(self, statement: ir.Write, value: nm.Named, context: Context, state) -> None:
        positions = statement.positions
        if statement.kind == "neuron":
            store, key = state["neurons"][statement.name], context.roles[positions[0].role]
            order = list(positions[1:]) + ["batch", positions[0]]
        else:
            store = state["synapses"][statement.name]
            key = instance_index(self.schemes[statement.name], context.roles)
            order = list(positions[2:]) + [positions[0], positions[1]]
        old = store[key]
        region, axes, full = [], [], True
        for position in order:
            if position == "batch":
                region.append(slice(None))
                axes.append("batch")
            elif isinstance(position, ir.StateAt):
                region.append(position.value)
                full = False
            elif isinstance(position, ir.State):
                low, high = context.ranges.get(position.index, (0, position.extent))
                region.append(slice(low, high))
                axes.append(position.index)
                full = full and (low, high) == (0, position.extent)
            else:
                rows = self.sizes[context.roles[position.role]]
                trimmed = position.axis_bias and not position.bias
                region.append(slice(0, rows) if trimmed else slice(None))
                axes.append(position.index)
                full = full and not trimmed
        shape = old[tuple(region)].shape
        new = jnp.broadcast_to(nm.align(value, tuple(axes)), shape).astype(old.dtype)
        store[key] = new if full else old.at[tuple(region)].set(new)

    # ---- expressions -----------------------------------------------------------------------------------------

    def expr(self, e: ir.Expr, context: Context, state) -> nm.Named:
        if isinstance(e, ir.Const):
            return nm.Named(jnp.asarray(e.value, state["input"].dtype), ())
        if isinstance(e, ir.Load):
            return self.load(e, context, state)
        if isinstance(e, ir.Arith):
            return nm.combine(_OPERATORS[e.op], self.expr(e.left, context, state), self.expr(e.right, context, state))
        if isinstance(e, ir.Neg):
            return nm.apply(operator.neg, self.expr(e.arg, context, state))
        if isinstance(e, ir.Func):
            return nm.apply(_FUNCTIONS[e.name][e.primes], self.expr(e.arg, context, state))
        if isinstance(e, ir.PerState):
            return self.per_state(e, context, state)
        if e.kind is Reducer.NORMALIZE:
            return nm.normalize(self.expr(e.body, context, state), e.axes, NORMALIZE_EPSILON)
        return self.contract(e, context, state)

    def per_state(self, e: ir.PerState, context: Context, state) -> nm.Named:
        arg = self.expr(e.arg, context, state)
        if isinstance(e.selector, ir.StateAt):
            name, primes = e.functions[e.selector.value]
            return nm.apply(_FUNCTIONS[name][primes], arg)
        index = e.selector.index
        low, high = context.ranges.get(index, (0, e.selector.extent))
        parts = [nm.apply(_FUNCTIONS[e.functions[s][0]][e.functions[s][1]],
                          nm.take(arg, index, s - low) if index in arg.axes else arg) for s in range(low, high)]
        return nm.Named(jnp.stack([p.data for p in parts]), (index,) + parts[0].axes)

    def contract(self, e: ir.Reduce, context: Context, state) -> nm.Named:
        """A sum or mean over a product, as einsums; a sum over a `+bias` index is split off its bias row."""
        coefficient, factors = 1.0, []
        for factor in product_factors(e.body):
            if isinstance(factor, ir.Const):
                coefficient *= factor.value
            elif isinstance(factor, ir.Neg):
                coefficient = -coefficient
            else:
                factors.append(self.expr(factor, context, state))
        biased = [a for a in e.axes if a != "batch" and self.has_bias_row(e.body, a)]
        total = self.einsum(factors, e.axes, biased, context)
        if e.kind is Reducer.MEAN:
            sizes = {a: f.size(a) for f in factors for a in f.axes}
            count = 1
            for axis in e.axes:
                count *= sizes[axis]
            coefficient /= count
        return nm.Named(total.data * coefficient, total.axes) if coefficient != 1.0 else total

    def einsum(self, factors, reduced, biased, context) -> nm.Named:
        if biased:
            axis = biased[0]
            rows = min(f.size(axis) for f in factors if axis in f.axes) - 1
            main = [nm.slice_axis(f, axis, 0, rows) if axis in f.axes else f for f in factors]
            row = [nm.take(f, axis, rows) if axis in f.axes else f for f in factors]
            inner = tuple(a for a in reduced if a != axis)
            first = self.einsum(main, reduced, biased[1:], context)
            second = self.einsum(row, inner, [b for b in biased[1:]], context)
            return nm.combine(operator.add, first, second)
        axes = []
        for f in factors:
            axes += [a for a in f.axes if a not in axes]
        letters = dict(zip(axes, string.ascii_letters))
        output = [a for a in axes if a not in reduced]
        spec = ",".join("".join(letters[a] for a in f.axes) for f in factors) + "->" + "".join(letters[a]
                                                                                           for a in output)
        if not factors:
            return nm.Named(jnp.asarray(1.0), ())
        return nm.Named(jnp.einsum(spec, *[f.data for f in factors], optimize="optimal"), tuple(output))

    def has_bias_row(self, body: ir.Expr, index: str) -> bool:
        return any(isinstance(p, ir.Layer) and p.index == index and p.bias
                   for sub in walk(body) if isinstance(sub, ir.Load) for p in sub.positions)

    def load(self, e: ir.Load, context: Context, state) -> nm.Named:
        if e.kind == "let":
            return self.load_let(e, context)
        if e.kind in ("input", "target"):
            return nm.Named(state[e.kind], ("batch", e.positions[0].index))
        names = [p.index if not isinstance(p, ir.StateAt) else f"#{i}" for i, p in enumerate(e.positions)]
        if e.kind == "neuron":
            layer = e.positions[0]
            data = state["neurons"][e.name][context.roles[layer.role]]
            if layer.bias:
                unit = jnp.full(data.shape[:-1] + (1,), self.program.bias, data.dtype)
                data = jnp.concatenate([data, unit], axis=-1)
            axes = tuple(names[1:]) + ("batch", names[0])
        elif e.kind == "synapse":
            data = state["synapses"][e.name][instance_index(self.schemes[e.name], context.roles)]
            axes = tuple(names[2:]) + (names[0], names[1])
        elif e.name in self.per_synapse:
            data = state["genome"][e.name][instance_index(self.per_synapse[e.name], context.roles)]
            axes = tuple(names)
        else:
            data, axes = jnp.asarray(state["genome"][e.name]), tuple(names)
        t = nm.Named(data, axes)
        for i, position in enumerate(e.positions):
            if isinstance(position, ir.Layer) and position.axis_bias and not position.bias:
                t = nm.slice_axis(t, names[i], 0, self.sizes[context.roles[position.role]])
            elif isinstance(position, ir.State) and position.index in context.ranges:
                t = nm.slice_axis(t, names[i], *context.ranges[position.index])
        for i, position in enumerate(e.positions):
            if isinstance(position, ir.StateAt):
                t = nm.take(t, names[i], position.value)
        return nm.diagonal(t)

    def load_let(self, e: ir.Load, context: Context) -> nm.Named:
        t, defined = context.lets[e.name]
        mapping = {}
        for d, u in zip(defined, e.positions):
            if isinstance(u, ir.StateAt):
                t = nm.take(t, d.index, u.value)
                continue
            if isinstance(u, ir.Layer) and d.bias and not u.bias:
                t = nm.slice_axis(t, d.index, 0, self.sizes[context.roles[u.role]])
            elif isinstance(u, ir.State) and u.index in context.ranges and d.index not in context.ranges:
                t = nm.slice_axis(t, d.index, *context.ranges[u.index])
            mapping[d.index] = u.index
        return nm.rename(t, mapping)


def product_factors(e: ir.Expr) -> list[ir.Expr]:
    """The factors of a product tree; a negation is kept as a marker so the sign can be pulled out."""
    if isinstance(e, ir.Arith) and e.op is BinOp.MUL:
        return product_factors(e.left) + product_factors(e.right)
    if isinstance(e, ir.Neg):
        return [e] + product_factors(e.arg)
    return [e]
