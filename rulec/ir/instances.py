"""The instances of a phase: the role bindings (layer pairs, hidden layers) it runs with on a network with layers
0..depth, and which layers a `when` subset holds. The schedule (rulec/ir/schedule.py) orders them; the checks on a
convolutional network (rulec/ir/spatial.py) look at them too.
"""

from __future__ import annotations

from rulec.ir import nodes as ir
from rulec.ir.nodes import Role


def instances(scheme: ir.Scheme, depth: int, top_down: bool = False) -> list[dict[ir.Role, int]]:
    """The role bindings a phase of `scheme` runs with, in order, for a network with layers 0..depth. Bottom-up
    (the default) covers every instance, in the order synapses are stored; top-down runs from the output down
    and leaves out the instance at the input layer, which only the input phase writes."""
    if scheme is ir.Scheme.INPUT:
        return [{Role.INPUT: 0}]
    if scheme is ir.Scheme.OUTPUT:
        return [{Role.OUTPUT: depth}]
    if scheme is ir.Scheme.PAIRS:
        layers = range(depth - 1, 0, -1) if top_down else range(depth)
        return [{Role.PRE: l, Role.POST: l + 1} for l in layers]
    if scheme is ir.Scheme.LATERAL:
        return [{Role.POST: l} for l in range(1, depth + 1)]
    if scheme is ir.Scheme.SKIP:
        return [{Role.INPUT: 0, Role.OUTPUT: depth}]
    layers = range(depth - 1, 0, -1) if top_down else range(1, depth)
    return [{Role.HIDDEN: h, Role.OUTPUT: depth} for h in layers]


def holds(role_layer: int, subset: ir.Role, depth: int) -> bool:
    return {Role.INPUT: role_layer == 0, Role.OUTPUT: role_layer == depth, Role.HIDDEN: 0 < role_layer < depth}[subset]
