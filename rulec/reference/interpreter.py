"""The reference interpreter: runs a rule's IR step by step with plain NumPy, written for clarity, not speed.

It is the independent target that the JAX lowering is tested against, and, run on arrays of SymPy expressions,
the engine of the symbolic proofs. Every intermediate is a `Named` array: broadcasting and reductions go by
index name, and a reduction materialises its whole summand before summing.

Layouts: a neuron is stored per layer as [batch, neurons] or [batch, neurons, states]; a synapse per instance
(adjacent pair, or hidden layer) as [source, target, channels...], with the bias unit as the last source row.
"""

from __future__ import annotations

import numpy as np

from rulec.check.symbols import BATCH
from rulec.functions import pairwise_table
from rulec.geometry import geometry
from rulec.ir import draws, indexing, spatial
from rulec.ir import named as nm
from rulec.ir import nodes as ir
from rulec.ir.liveness import predict_phases
from rulec.ir.schedule import PHASE_ORDER, Context, StatementRunner, instance_index, refuse, runs
from rulec.losses import loss_table
from rulec.shapes import Layers
from rulec.syntax.ast import Reducer

PAIRWISE_FUNCTIONS = pairwise_table(np)


class Reference(StatementRunner):
    """Runs one program on one network shape.

    Args:
        program: the resolved rule.
        sizes: layer sizes, input first.
        functions: elementwise functions and derivatives (see rulec.functions.elementwise_table).
        constant: converts the rule's numbers (constants and the bias unit) to array elements.
        losses: each loss and its derivative (see rulec.losses.loss_table).
        draw: `draw(e, roles, shape)`, the array a draw inside the step takes (the proofs give symbols); by
            default the numbers the JAX lowering draws (rulec/ir/draws.py).
    """

    def __init__(self, program: ir.Program, sizes: Layers, functions, constant=float, losses=None, draw=None):
        self.program = program
        self.geometry = geometry(sizes)
        refuse(spatial.refusals(program, self.geometry))
        self.losses = losses if losses is not None else loss_table(np)
        self.constant = constant  # turns the rule's numbers into array elements (SymPy uses exact rationals)
        self.sizes = self.geometry.sizes
        self.depth = len(self.sizes) - 1
        self.functions = functions
        self.synapse_schemes = {s.name: s.scheme for s in program.synapses}
        self.per_synapse = {g.name: g for g in program.genome if g.per_synapse}
        self.given_draw = draw
        self.xp = np
        self.persistent = {n.name: n for n in program.neurons if n.persistent}

    # ---- the step --------------------------------------------------------------------------------------------

    def step(self, genome, synapses, x, y, phases=PHASE_ORDER, key=None, step=0, persistent=None):
        """Runs the phases on one batch. Returns the new synapses and the neuron states they were updated from.

        `key` is the network state's key (split here as the lowering splits it; needed by a rule that draws),
        `step` the step counter, and `persistent` the persistent neurons ({name: [array per layer]}, each
        [neurons] or [neurons, states]) and persistent scalars ({name: number}), by default their declared initial
        values; the neurons returned hold their new values."""
        x = np.asarray(x)
        neurons = {n.name: [np.zeros((x.shape[0], size) + ((n.states,) if n.states else ()), dtype=x.dtype)
                            for size in self.sizes] for n in self.program.neurons if not n.persistent}
        for n in self.persistent.values():
            given = (persistent or {}).get(n.name)
            neurons[n.name] = (list(given) if given is not None else
                               [np.full((size,) + ((n.states,) if n.states else ()), self.constant(n.initial),
                                        dtype=x.dtype) for size in self.sizes])
        for scalar in self.program.scalars:
            given = (persistent or {}).get(scalar.name)
            neurons[scalar.name] = np.asarray(given if given is not None else self.constant(scalar.initial),
                                              dtype=x.dtype)
        state = {"genome": genome, "synapses": {k: list(v) for k, v in synapses.items()}, "neurons": neurons,
                 "input": np.asarray(x), "target": np.asarray(y), "step": np.asarray(step, dtype=x.dtype),
                 "key": None if key is None else draws.split_step_key(key)[1]}
        for phase, roles in runs(self.program, self.depth, phases):
            self.run_statements(phase.statements, roles, state)
        return state["synapses"], state["neurons"]

    def predict(self, genome, synapses, x, **step):
        """The output `predict` gives, state 0 of the first neuron on the output layer ([batch, outputs]): the
        phases it runs (rulec/ir/liveness.py) with `target` read as 0. `step` takes `step`'s keywords."""
        x = np.asarray(x)
        target = np.zeros((x.shape[0], self.sizes[-1]), dtype=x.dtype)
        _, neurons = self.step(genome, synapses, x, target, predict_phases(self.program), **step)
        output = neurons[self.program.neurons[0].name][-1]
        return output[..., 0] if self.program.neurons[0].states else output

    def layer_states(self, stored) -> list:
        return [stored]  # a layer is one array, [batch, neurons] or [batch, neurons, states]

    def stored_layer(self, arrays: list):
        return arrays[0]

    def write(self, statement: ir.Write, value: nm.Named, context: Context, state) -> None:
        region = indexing.cuts(statement.positions, self.layer_size(context), context.ranges)
        if statement.kind is ir.Source.NEURON:
            store, key = state["neurons"][statement.name], context.roles[ir.neuron_layer(statement.positions).role]
            if statement.name not in self.persistent:
                region = (indexing.Cut(slice(None), BATCH, True),) + region
        else:
            store = state["synapses"][statement.name]
            key = instance_index(self.synapse_schemes[statement.name], context.roles)
        old = np.array(store[key], copy=True)
        selector, new = indexing.placed(old, region, value)
        old[selector] = new
        store[key] = old

    # ---- expressions -----------------------------------------------------------------------------------------

    pairwise = PAIRWISE_FUNCTIONS

    def number(self, value: float, state) -> nm.Named:
        return nm.scalar(self.constant(value))

    def mask(self, mask: nm.Named, state) -> nm.Named:
        return mask

    def contract(self, e: ir.Reduce, context: Context, state) -> nm.Named:
        """A sum or mean over its whole summand, materialised."""
        body = self.expr(e.body, context, state)
        return (nm.reduce_sum if e.kind is Reducer.SUM else nm.reduce_mean)(body, e.axes)

    def draw(self, e: ir.Draw, context: Context, state) -> nm.Named:
        if self.given_draw is None:
            return super().draw(e, context, state)
        size = draws.shape(e, self.layer_size(context), self.examples(context, state))
        return nm.Named(self.given_draw(e, context.roles, size), draws.axes(e))

    def load_stored(self, e: ir.Load, context: Context, state) -> nm.Named:
        size = self.layer_size(context)
        axes = indexing.axis_names(e.positions)
        if e.kind is ir.Source.NEURON:
            layer_position = ir.neuron_layer(e.positions)
            data = state["neurons"][e.name][context.roles[layer_position.role]]
            stored = axes if e.name in self.persistent else (BATCH,) + axes
            if layer_position.bias:
                data = self.with_bias_unit(data, stored.index(layer_position.index))
            return indexing.select(nm.Named(data, stored), axes, e.positions, size, context.ranges)
        if e.kind is ir.Source.SYNAPSE:
            data = state["synapses"][e.name][instance_index(self.synapse_schemes[e.name], context.roles)]
        elif e.name in self.per_synapse:
            layer_sets = self.per_synapse[e.name].per_synapse
            assert layer_sets is not None, e  # `per_synapse` holds the per-synapse entries only
            scheme = ir.scheme_of({role for role, _ in layer_sets})
            data = state["genome"][e.name][instance_index(scheme, context.roles)]
        else:
            data = state["genome"][e.name]
        return indexing.select(nm.Named(np.asarray(data), axes), axes, e.positions, size, context.ranges)

    def with_bias_unit(self, data: np.ndarray, axis: int) -> np.ndarray:
        shape = list(np.shape(data))
        shape[axis] = 1
        return np.concatenate([data, np.full(shape, self.constant(self.program.bias), dtype=data.dtype)], axis=axis)
