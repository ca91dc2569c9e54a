"""Lowers the IR to JAX: one pure function per step, traced once per network shape into one XLA program.

Deliberate choices, each measured in benchmarks/step_bench.py:
* Layouts. A neuron is stored per layer and per state, as separate [batch, neurons] arrays, so that writing or
  reading one state (`a[j, 1] := ...`) never copies the others; an expression over all states stacks them
  state-major. Synapses are channel-major, [channels, source, target]: a per-channel contraction such as
  `sum(i) w[i, j, c] * a[i, c]` is a dot_general whose batch dimension is already leading. Contractions emit
  their result as [states, batch, neurons], the order consumers read, so no transposes are left to XLA.
* Contractions. A sum or mean over a product becomes one `einsum` over all its factors, with the contraction
  order chosen by opt_einsum, instead of a broadcast product followed by a sum; state-mixing matrices are applied
  in the form rulec/lower/contraction.py chooses.
* The bias unit. A sum over `pre+bias` is split into the sum over the real neurons plus the bias row, so that a
  neuron array is never concatenated with a row of ones just to be contracted.
* Specialisation. Genome entries given as constants are folded into the program at trace time.
* Convolutional pairs. A contraction of convolution form is a convolution on the layer, not a matmul over
  gathered patches, and an elementwise expression of patches is computed on the layer (rulec/lower/patch_views.py).
* Dead-state elimination. `predict` and each step of an unroll run the pruned schedule of rulec/ir/liveness.py;
  `step` runs the complete one.
"""

from __future__ import annotations

import functools
import operator
from typing import TypeGuard, assert_never

import jax
import jax.numpy as jnp

from rulec.check.symbols import BATCH
from rulec.functions import elementwise_table, pairwise_table
from rulec.geometry import geometry
from rulec.ir import draws, indexing, liveness, spatial
from rulec.ir import named as nm
from rulec.ir import nodes as ir
from rulec.ir.nodes import walk
from rulec.ir.schedule import Context, StatementRunner, instance_index, refuse
from rulec.losses import loss_table
from rulec.lower import contraction, convolution
from rulec.lower.patch_views import ZERO_KEEPING, View, Views, keeps_zero
from rulec.lower.network_state import NetworkState
from rulec.shapes import Layers
from rulec.syntax.ast import BinOp, Reducer

_FUNCTIONS = elementwise_table(jnp)
_LOSSES = loss_table(jnp)
PAIRWISE_FUNCTIONS = pairwise_table(jnp)


def update_slice(old, selector: tuple[slice | int, ...], new):
    """`old.at[selector].set(new)` for a selector of contiguous slices and single indices, as one
    `dynamic_update_slice`: a static region, which `rulec compile --emit python` prints (a scatter it does not)."""
    starts = [part if isinstance(part, int) else part.start or 0 for part in selector]
    kept = [axis for axis, part in enumerate(selector) if isinstance(part, int)]
    return jax.lax.dynamic_update_slice(old, jnp.expand_dims(new, kept), starts + [0] * (old.ndim - len(starts)))


class JaxStep(StatementRunner):
    """The step and predict functions of one program on one network shape (pure; jit, vmap and grad them)."""

    def __init__(self, program: ir.Program, sizes: Layers, prune: bool = True, contraction: str = "auto"):
        self.program = program
        self.contraction = contraction  # how mixing matrices are applied: see rulec/lower/contraction.py
        self.geometry = geometry(sizes)
        refuse(spatial.refusals(program, self.geometry))
        self.sizes = self.geometry.sizes
        self.depth = len(self.sizes) - 1
        self.full_step = liveness.schedule(program, self.depth)
        # What an unroll and `predict` may leave out (rulec/ir/liveness.py); None when pruning is off.
        self.pruned = liveness.prune(program, self.depth) if prune else None
        self.unroll_step = self.pruned.step if self.pruned else self.full_step
        self.predict_schedule = (self.pruned.predict if self.pruned
                                 else liveness.schedule(program, self.depth, liveness.predict_phases(program)))
        self.schemes = {s.name: s.scheme for s in program.synapses}
        self.persistent = {n.name: n for n in program.neurons if n.persistent}
        self.xp = jnp
        self.per_synapse = {g.name: ir.scheme_of({r for r, _ in g.per_synapse}) for g in program.genome
                            if g.per_synapse}
        self.views = Views()  # the patch arrays of the trace in progress (rulec/lower/patch_views.py)

    # ---- phases ----------------------------------------------------------------------------------------------

    def run(self, genome, network: NetworkState, x, y, schedule, key):
        """Runs `schedule` on a batch with the draws of `key`; returns the values of every stored array."""
        dtype = x.dtype
        self.views = Views()
        neurons = {n.name: [[jnp.zeros((x.shape[0], size), dtype)] * (n.states or 1) for size in self.sizes]
                   for n in self.program.neurons if not n.persistent}
        neurons.update({name: [per_state_arrays(a) for a in network.neurons[name]] for name in self.persistent})
        neurons.update({s.name: network.neurons[s.name] for s in self.program.scalars})
        state = {"genome": genome, "synapses": {k: list(v) for k, v in network.synapses.items()}, "neurons": neurons,
                 "input": x, "target": y, "step": network.step.astype(dtype), "key": key}
        for item in schedule:
            if isinstance(item, liveness.Repeat):
                state["neurons"] = self.repeat(item, state)
            else:
                self.run_instance(item, state)
        self.views = Views()  # holds no tracer past its trace
        return state

    def repeat(self, loop: liveness.Repeat, state):
        """A relaxation loop as one `lax.fori_loop` over the neurons, whose body is traced once: the program does
        not grow with the count. Only neurons change inside it (a loop holds no update)."""
        def iteration(_, neurons):
            local = dict(state, neurons=neurons)
            for run in loop.runs:
                self.run_instance(run, local)
            return local["neurons"]

        with jax.named_scope(f"repeat {loop.count} times"):
            traced = jax.tree.leaves((state["neurons"], state["input"], state["synapses"], state["genome"]))
            if not any(isinstance(leaf, jax.core.Tracer) for leaf in traced):
                # Called outside any trace: a Python loop dispatches the same operations, where a fori_loop would
                # compile its body again at every call.
                return functools.reduce(lambda neurons, i: iteration(i, neurons), range(loop.count), state["neurons"])
            return jax.lax.fori_loop(0, loop.count, iteration, state["neurons"])

    def run_instance(self, run: liveness.Run, state) -> None:
        layers = ", ".join(f"{role}={layer}" for role, layer in run.roles.items())
        with jax.named_scope(f"{run.phase.kind.value} ({layers})"):
            self.run_statements(run.statements, run.roles, state)

    def statement(self, statement, context: Context, state) -> None:
        source = statement.span.source.line(statement.span.line).strip().replace("/", "÷")
        with jax.named_scope(f"line {statement.span.line}: {source}"):
            super().statement(statement, context, state)

    def layer_states(self, stored) -> list:
        return list(stored)  # a layer is a list of [batch, neurons] arrays, one per state

    def stored_layer(self, arrays: list):
        return list(arrays)

    def fold(self, data, pair):
        return convolution.fold(data, pair)

    def patches(self, data, pair):  # [batch, neurons] recorded; with trailing axes (a transposed sum's), not
        return self.views.cut(View(data, pair, None)) if data.ndim == 2 else super().patches(data, pair)

    def from_patches(self, data, pair):
        found = self.views.of(data)  # a state written with a value computed on the layer: that value
        return found.source if found and found.bias is None and found.source.ndim == 2 else super().from_patches(
            data, pair)

    def reduced(self, e: ir.Reduce, value: nm.Named, context: Context, state) -> nm.Named:
        found = self.views.of(value.data)
        return value if found and found.folded else super().reduced(e, value, context, state)

    def step(self, genome, network: NetworkState, x, y, in_unroll: bool = False) -> NetworkState:
        """One inner step: returns the next state. `in_unroll` runs the pruned step, which leaves the synapses
        and persistent neurons that no later step nor `predict` reads at their old values."""
        following, this_step = draws.split_step_key(network.key)
        state = self.run(genome, network, x, y, self.unroll_step if in_unroll else self.full_step, this_step)
        persistent = {name: [stacked_states(states, neuron) for states in state["neurons"][name]]
                      for name, neuron in self.persistent.items()}
        persistent.update({s.name: state["neurons"][s.name] for s in self.program.scalars})
        return NetworkState(state["synapses"], persistent, following, network.step + 1)

    def predict(self, genome, network: NetworkState, x):
        """The forward pass only: state 0 of the first neuron on the output layer, [batch, outputs]. A draw in it
        takes the values the next step's would; `target` reads 0."""
        target = jnp.zeros((x.shape[0], self.sizes[-1]), x.dtype)
        state = self.run(genome, network, x, target, self.predict_schedule, draws.split_step_key(network.key)[1])
        return state["neurons"][self.program.neurons[0].name][self.depth][0]

    def write(self, statement: ir.Write, value: nm.Named, context: Context, state) -> None:
        if statement.kind is ir.Source.NEURON:
            self.write_neuron(statement, value, context, state)
            return
        store = state["synapses"][statement.name]
        key = instance_index(self.schemes[statement.name], context.roles)
        region = indexing.cuts(statement.positions, self.layer_size(context), context.ranges)
        region = region[2:] + region[:2]  # channel-major
        selector, new = indexing.placed(store[key], region, value)
        store[key] = new if all(c.whole for c in region) else update_slice(store[key], selector, new)

    def write_neuron(self, statement: ir.Write, value: nm.Named, context: Context, state) -> None:
        layer = ir.neuron_layer(statement.positions)
        states = state["neurons"][statement.name][context.roles[layer.role]]
        lead = self.batch_axes(statement.name)
        position = ir.neuron_state(statement.positions)
        if isinstance(position, ir.StateAt):
            targets = [(position.value, value)]
        else:
            low, high = indexing.state_span(position, context.ranges)
            targets = [(s, self.views.take(value, position.index, s - low) if position.index in value.axes
                        else value) for s in range(low, high)]
        for s, part in targets:
            aligned = nm.align(part, lead + (layer.index,))
            states[s] = jnp.broadcast_to(aligned, states[s].shape).astype(states[s].dtype)

    # ---- expressions -----------------------------------------------------------------------------------------

    functions, losses, pairwise = _FUNCTIONS, _LOSSES, PAIRWISE_FUNCTIONS

    def number(self, value: float, state) -> nm.Named:
        return nm.Named(jnp.asarray(value, state["input"].dtype), ())

    def mask(self, mask: nm.Named, state) -> nm.Named:
        return nm.Named(jnp.asarray(mask.data, state["input"].dtype), mask.axes)

    def elementwise(self, e: ir.Arith | ir.Neg | ir.Func, fn, *operands: nm.Named) -> nm.Named:
        """fn(*operands), on the layers rather than their patches where it can be (rulec/lower/patch_views.py)."""
        return self.views.elementwise(fn, list(operands), _zero_keeping(e, self.functions)) or fn(*operands)

    def trace_constant(self, e: ir.Expr, context: Context, state) -> float:
        """The value of an expression of numbers and sizes (`is_trace_constant`)."""
        match e:
            case ir.Const():
                return e.value
            case ir.Size():
                return self.size(e, context, state)
            case ir.Neg():
                return -self.trace_constant(e.arg, context, state)
            case ir.Arith():
                return e.op.apply(self.trace_constant(e.left, context, state),
                                  self.trace_constant(e.right, context, state))
            case _:  # the caller asked `is_trace_constant` first
                raise AssertionError(f"not a trace constant: {e}")

    def contract(self, e: ir.Reduce, context: Context, state) -> nm.Named:
        """A sum or mean over a product, as einsums; a sum over a `+bias` index is split off its bias row."""
        biased = [a for a in e.axes if a != BATCH and self.has_bias_row(e.body, a)]
        coefficient = 1.0
        factors: list[tuple[nm.Named, str | None]] = []  # each with the index whose bias row it lacks
        for factor in product_factors(e.body):
            if isinstance(factor, ir.Neg):
                coefficient = -coefficient
            elif is_trace_constant(factor):
                coefficient *= self.trace_constant(factor, context, state)
            elif self.is_unit_neuron(factor, biased):
                # Loaded without the bias row; its bias row is the constant bias, supplied by `einsum`.
                unit = ir.neuron_layer(factor.positions).index
                factors.append((self.load_neuron(factor, context, state, augment=False), unit))
            else:
                factors.append((self.expr(factor, context, state), None))
        layers = [p.index for sub in walk(e.body) if isinstance(sub, ir.Load) for p in sub.positions
                  if isinstance(p, ir.Layer)]
        pair = self.geometry.pair(context.roles)
        total = self.einsum(factors, e.axes, biased, layers, pair, spatial.transposes(e) if pair else None)
        if e.kind is Reducer.MEAN:
            count = 1
            for axis in e.axes:
                count *= next(f.size(axis) + (unit == axis) for f, unit in factors if axis in f.axes)
            coefficient /= count
        return self.views.scaled(total, coefficient) if coefficient != 1.0 else total

    @staticmethod
    def is_unit_neuron(factor: ir.Expr, biased) -> TypeGuard[ir.Load]:
        return (isinstance(factor, ir.Load) and factor.kind is ir.Source.NEURON
                and ir.neuron_layer(factor.positions).bias and ir.neuron_layer(factor.positions).index in biased)

    def einsum(self, factors, reduced, biased, layers, pair=None, transposes=None) -> nm.Named:
        """Contracts (array, unit_axis) factors over `reduced`, splitting each biased axis into neurons + bias row;
        on a convolutional `pair`, one of convolution form is a convolution (rulec/lower/patch_views.py)."""
        if biased:
            axis, rest = biased[0], biased[1:]
            rows = next((f.size(axis) if unit == axis else f.size(axis) - 1) for f, unit in factors if axis in f.axes)
            main, row = [], []
            for f, unit in factors:
                if axis not in f.axes:
                    main.append((f, unit))
                    row.append((f, unit))
                elif unit == axis:
                    # The bias row of a neuron is the constant bias: a scale, times the size of any summed axis
                    # that no other factor carries; its other axes broadcast.
                    main.append((f, None))
                    elsewhere = {a for g, _ in factors if g is not f for a in g.axes}
                    scale = self.program.bias
                    for a in f.axes:
                        if a != axis and a in reduced and a not in elsewhere:
                            scale *= f.size(a)
                    row.append((nm.Named(jnp.asarray(scale, f.data.dtype), ()), None))
                else:
                    main.append((nm.slice_axis(f, axis, 0, rows), unit))
                    row.append((nm.take(f, axis, rows), unit))
            inner = tuple(a for a in reduced if a != axis)
            return nm.combine(operator.add, self.einsum(main, reduced, rest, layers, pair, transposes),
                              self.einsum(row, inner, rest, layers, pair, transposes))
        arrays = [f for f, _ in factors]
        convolved = self.views.contract(arrays, reduced, layers, pair, transposes) if pair else None
        return convolved or contraction.contract(arrays, reduced, layers, self.contraction)

    def has_bias_row(self, body: ir.Expr, index: str) -> bool:
        return any(isinstance(p, ir.Layer) and p.index == index and p.bias
                   for sub in walk(body) if isinstance(sub, ir.Load) for p in sub.positions)

    def load_neuron(self, e: ir.Load, context: Context, state, augment: bool) -> nm.Named:
        """A neuron's states on a layer, [states, batch, neurons]. With `augment`, an index over `+bias` gets the
        bias unit as an extra last neuron; without, the caller accounts for it (see `contract`)."""
        layer = ir.neuron_layer(e.positions)
        states = state["neurons"][e.name][context.roles[layer.role]]
        position = ir.neuron_state(e.positions)
        lead = self.batch_axes(e.name)
        if isinstance(position, ir.StateAt):
            t = nm.Named(states[position.value], lead + (layer.index,))
        else:
            low, high = indexing.state_span(position, context.ranges)
            t = nm.Named(self.views.stacked(states[low:high]), (position.index,) + lead + (layer.index,))
        if layer.bias and augment:
            assert self.program.bias is not None  # an index over `+bias` needs the rule's bias
            if self.views.of(t.data):
                t = nm.Named(self.views.with_unit(t.data, self.program.bias), t.axes)
            else:
                unit = jnp.full(t.data.shape[:-1] + (1,), self.program.bias, t.data.dtype)
                t = nm.Named(jnp.concatenate([t.data, unit], axis=-1), t.axes)
        return nm.diagonal(t)

    def batch_axes(self, neuron: str) -> tuple[str, ...]:
        """A neuron's arrays are [batch, neurons], a persistent neuron's [neurons]."""
        return () if neuron in self.persistent else (BATCH,)

    def load_stored(self, e: ir.Load, context: Context, state) -> nm.Named:
        if e.kind is ir.Source.NEURON:
            return self.load_neuron(e, context, state, augment=True)
        size = self.layer_size(context)
        axes = indexing.axis_names(e.positions)
        if e.kind is ir.Source.SYNAPSE:
            data = state["synapses"][e.name][instance_index(self.schemes[e.name], context.roles)]
            stored = axes[2:] + axes[:2]  # channel-major
        elif e.name in self.per_synapse:
            data = state["genome"][e.name][instance_index(self.per_synapse[e.name], context.roles)]
            stored = axes
        else:
            data, stored = jnp.asarray(state["genome"][e.name]), axes
        return indexing.select(nm.Named(data, stored), axes, e.positions, size, context.ranges)



def _zero_keeping(e: ir.Arith | ir.Neg | ir.Func, functions):
    """From which operands are zero in the padding of patches, whether `e`'s value is."""
    match e:
        case ir.Arith():
            return ZERO_KEEPING[e.op]
        case ir.Neg():
            return all
        case ir.Func():
            return lambda zeros: all(zeros) and keeps_zero(functions[e.name][e.primes])
        case _:
            assert_never(e)


def per_state_arrays(array) -> list:
    """A persistent neuron's stored array, [neurons] or [neurons, states], as the lowering keeps it: per state."""
    return [array] if array.ndim == 1 else [array[:, s] for s in range(array.shape[1])]


def stacked_states(states: list, neuron: ir.NeuronDecl):
    """The inverse of `per_state_arrays`."""
    return jnp.stack(states, axis=-1) if neuron.states else states[0]


def is_trace_constant(e: ir.Expr) -> bool:
    """Whether `e` is made of numbers and sizes only, a number when the network is traced."""
    if isinstance(e, (ir.Const, ir.Size)):
        return True
    if isinstance(e, ir.Neg):
        return is_trace_constant(e.arg)
    return isinstance(e, ir.Arith) and is_trace_constant(e.left) and is_trace_constant(e.right)


def product_factors(e: ir.Expr) -> list[ir.Expr]:
    """The factors of a product tree; a negation is kept as a marker so the sign can be pulled out, and a division
    by a trace constant (`... / size(batch)`) becomes the factor 1 / it, so the contraction stays one einsum."""
    if isinstance(e, ir.Arith) and e.op is BinOp.MUL:
        return product_factors(e.left) + product_factors(e.right)
    if isinstance(e, ir.Arith) and e.op is BinOp.DIV and is_trace_constant(e.right):
        return product_factors(e.left) + [ir.Arith(BinOp.DIV, ir.Const(1.0, e.span), e.right, e.span)]
    if isinstance(e, ir.Neg):
        return [e] + product_factors(e.arg)
    return [e]
