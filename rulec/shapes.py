"""Concrete shapes of a program's synapses and genome on a network with given layer sizes.

A synapse is stored per instance of its scheme: for `pairs`, one array per adjacent pair of layers (instance l
joins layer l to l + 1); for `hidden`, one per hidden layer (instance h - 1 joins hidden layer h and the output).
A layer axis with `+bias` has one extra row, the bias unit, last.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import numpy as np

from rulec.geometry import Geometry, LayerSpec, geometry
from rulec.initializers import DEFAULT_SYNAPSE_INIT, evaluate
from rulec.ir import nodes as ir
from rulec.ir.instances import instances
from rulec.syntax import ast, parse


Layers = Sequence[LayerSpec] | Geometry  # layer sizes, input first, or a network's geometry


def instance_roles(scheme: ir.Scheme, depth: int) -> list[dict[ir.Role, int]]:
    """The role bindings of every stored instance of a scheme, in storage order."""
    return instances(scheme, depth)


def axis_size(layer_set: tuple[str, bool], roles: dict[ir.Role, int], layers: Layers) -> int:
    """The size of a stored axis over a layer role in one instance: over a convolutional pair, the receptive
    field (pre) or the channels (post), so that the synapse is the kernel (rulec/geometry.py)."""
    name, bias = layer_set
    return geometry(layers).layer_size(roles)(name) + (1 if bias else 0)


def synapse_shapes(synapse: ir.SynapseDecl, layers: Layers) -> list[tuple[int, ...]]:
    shape = geometry(layers)
    return [(axis_size(synapse.source, roles, shape), axis_size(synapse.target, roles, shape)) + synapse.channels
            for roles in instance_roles(synapse.scheme, len(shape.sizes) - 1)]


def genome_shapes(entry: ir.GenomeDecl, layers: Layers) -> list[tuple[int, ...]]:
    shape, axes = geometry(layers), entry.per_synapse
    assert axes is not None, entry  # only a per-synapse entry has a shape per instance
    scheme = ir.scheme_of({name for name, _ in axes})
    return [tuple(axis_size(axis, roles, shape) for axis in axes) + entry.shape
            for roles in instance_roles(scheme, len(shape.sizes) - 1)]


@functools.cache
def default_synapse_initialiser() -> ast.Expr:
    init = parse(f"rule r\nsynapse w ~ {DEFAULT_SYNAPSE_INIT}\n").synapses[0].init
    assert init is not None  # the declaration above gives one
    return init


def synapse_initialiser(synapse: ir.SynapseDecl) -> ast.Expr:
    return synapse.init or default_synapse_initialiser()


def init_synapses(program: ir.Program, sizes: Layers, sample, functions) -> dict[str, list]:
    """Draws every synapse, fixed ones included. `sample(name, a, b, shape)` draws from a distribution."""
    result = {}
    for synapse in program.synapses:
        arrays = []
        for shape in synapse_shapes(synapse, sizes):
            names = dict(program.dims, fan_in=shape[0], fan_out=shape[1])
            value = evaluate(synapse_initialiser(synapse), shape, names, sample, functions)
            # A constant initialiser (`~ 0`) evaluates to a number; every instance is still a full array.
            arrays.append(value if np.shape(value) == shape else np.broadcast_to(value, shape))
        result[synapse.name] = arrays
    return result


def init_genome(program: ir.Program, sizes: Layers, sample, functions, broadcast) -> dict:
    """Draws a genome. Per-synapse entries need `sizes`; `broadcast(value, shape)` fills constant entries."""
    genome = {}
    for entry in program.genome:
        shapes = genome_shapes(entry, sizes) if entry.per_synapse else [entry.shape]
        values = [broadcast(evaluate(entry.init, shape, dict(program.dims), sample, functions), shape)
                  for shape in shapes]
        genome[entry.name] = values if entry.per_synapse else values[0]
    return genome
