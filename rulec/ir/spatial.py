"""Convolutional pairs, written once for every interpreter: a convolutional pair is a dense pair over patches.

An instance of a phase on a convolutional pair runs the rule's equations on a view of its two layers:
* the pre layer, [batch, height x width x channels], is cut into patches, [batch x positions, receptive field];
* the post layer, [batch, positions x channels], is read as [batch x positions, channels];
so every output position is one more example, and the dense rule runs unchanged. Afterwards a state of the post
layer is read back by a reshape; a state of the pre layer that the instance wrote holds, in every patch, the same
value for a neuron, which is read back from one patch that holds it (`ConvPair.home_table`).

The one place where a patch differs from a dense pair: a sum (or mean) over the post index whose result keeps the
pre index, `sum(j) w[i, j] * a[j, 1]`, is the transposed convolution: it is summed back over every patch that
holds each pre neuron (`transposed`), and the result, the same in each of them, is what the patch holds. A term
outside such a reduction acts on the pre neuron once, as on a dense pair.

A lateral instance on an image layer reads the layer as [batch x positions, channels]: the lateral synapse joins
channels at one position.

This is the semantics, and the NumPy reference computes it so, with explicit patches. The JAX lowering computes
the same numbers, but runs an equation that is a contraction of convolution form as a convolution on the layer,
and an elementwise one on the layer rather than on its patches (rulec/lower/patch_views.py): XLA then never
builds those patches, nor folds a transposed sum only to cut it again.

`refusals` lists what cannot follow a convolution, each located at the rule's text, before anything runs.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from rulec.check.symbols import BATCH
from rulec.diagnostics import Diagnostic
from rulec.geometry import ConvPair, Geometry, Roles
from rulec.ir import named as nm
from rulec.ir import nodes as ir
from rulec.ir.instances import holds, instances
from rulec.ir.nodes import walk
from rulec.syntax.ast import Reducer

TRANSPOSABLE = (Reducer.SUM, Reducer.MEAN)


def patches(data, pair: ConvPair, xp):
    """[batch, neurons, rest...] -> [batch x positions, receptive field, rest...], zeros in the padding."""
    batch, rest = np.shape(data)[0], tuple(np.shape(data)[2:])
    padded = xp.concatenate([data, xp.zeros((batch, 1) + rest, dtype=data.dtype)], axis=1)
    table = np.where(pair.patch_table >= 0, pair.patch_table, np.shape(data)[1])  # padding reads the zero row
    taken = xp.take(padded, table.reshape(-1), axis=1)
    return xp.reshape(taken, (batch * pair.positions, pair.receptive_field) + rest)


def from_patches(data, pair: ConvPair, xp):
    """The inverse of `patches` on a value that is the same in every patch holding a neuron."""
    rest = tuple(np.shape(data)[2:])
    flat = xp.reshape(data, (np.shape(data)[0] // pair.positions, pair.positions * pair.receptive_field) + rest)
    return xp.take(flat, pair.home_table, axis=1)


def positions_as_examples(data, positions: int, channels: int, xp):
    """An image layer, [batch, positions x channels, rest...] -> [batch x positions, channels, rest...]."""
    shape = np.shape(data)
    return xp.reshape(data, (shape[0] * positions, channels) + tuple(shape[2:]))


def examples_as_positions(data, positions: int, xp):
    """The inverse of `positions_as_examples`."""
    shape = np.shape(data)
    return xp.reshape(data, (shape[0] // positions, positions * shape[1]) + tuple(shape[2:]))


def layer_views(geometry: Geometry, roles: Roles, runner) -> list[tuple[int, Callable, Callable]]:
    """[(layer, into its view, back out of it)] for each layer an instance reads through a view; [] for a dense
    instance. `runner` gives the array module and the interpreter's own `patches`."""
    xp = runner.xp
    pair = geometry.pair(roles)
    if pair is not None:
        return [(roles["pre"], lambda d: runner.patches(d, pair), lambda d: runner.from_patches(d, pair)),
                (roles["post"], lambda d: positions_as_examples(d, pair.positions, pair.conv.channels, xp),
                 lambda d: examples_as_positions(d, pair.positions, xp))]
    image = geometry.lateral_image(roles)
    if image is not None:
        positions = image[0] * image[1]
        return [(roles["post"], lambda d: positions_as_examples(d, positions, image[2], xp),
                 lambda d: examples_as_positions(d, positions, xp))]
    return []


def index_roles(e: ir.Expr) -> dict[str, ir.Role]:
    """The role of each neuron index that the loads in `e` read."""
    return {p.index: p.role for sub in walk(e) if isinstance(sub, ir.Load)
            for p in sub.positions if isinstance(p, ir.Layer)} | {
        b.index: b.role for sub in walk(e) if isinstance(sub, ir.Reduce) for b in sub.fresh}


def transposes(e: ir.Reduce) -> tuple[str, str] | None:
    """(pre index, post index) when `e` sums over a post index and keeps a pre index: a transposed convolution
    on a convolutional pair."""
    roles = index_roles(e.body)
    post = next((a for a in e.axes if roles.get(a) == "post"), None)
    pre = next((a for a, role in roles.items() if role == "pre" and a not in e.axes), None)
    return None if post is None or pre is None else (pre, post)


def transposed(value: nm.Named, pre: str, examples: int, pair: ConvPair, runner) -> nm.Named:
    """`value`, a reduction over the post index that keeps the pre index `pre`, summed over every patch holding
    each pre neuron; the bias row, held by every patch, over every position of the example."""
    xp = runner.xp
    rest = tuple(a for a in value.axes if a not in (BATCH, pre))
    axes = (BATCH, pre) + rest
    data = nm.align(value, axes)
    shape = (examples, np.shape(data)[1]) + tuple(np.shape(data)[2:])
    data = xp.broadcast_to(data, shape)
    bias = shape[1] > pair.receptive_field
    neurons = data[:, :pair.receptive_field]
    summed = runner.patches(runner.fold(neurons, pair), pair)
    if bias:
        row = data[:, pair.receptive_field:]
        per_example = xp.reshape(row, (examples // pair.positions, pair.positions) + tuple(np.shape(row)[1:]))
        total = xp.sum(per_example, axis=1, keepdims=True)
        row = xp.reshape(xp.broadcast_to(total, np.shape(per_example)), np.shape(row))
        summed = xp.concatenate([summed, row], axis=1)
    return nm.Named(summed, axes)


def fold(data, pair: ConvPair, xp):
    """[batch x positions, receptive field, rest...] -> [batch, neurons, rest...]: each pre neuron's sum over the
    patches that hold it (the transpose of `patches`), by an explicit scatter-add over the index table."""
    rest = tuple(np.shape(data)[2:])
    neurons = int(np.max(pair.patch_table)) + 1
    flat = np.reshape(data, (np.shape(data)[0] // pair.positions, -1) + rest)
    table = pair.patch_table.reshape(-1)
    result = np.zeros((np.shape(flat)[0], neurons + 1) + rest, dtype=flat.dtype)
    np.add.at(result, (slice(None), np.where(table >= 0, table, neurons)), flat)  # type: ignore[arg-type]
    return xp.asarray(result[:, :neurons])


def refusals(program: ir.Program, geometry: Geometry) -> list[Diagnostic]:
    """What in `program` cannot run on `geometry`'s convolutions, each with its place in the rule's text."""
    if not geometry.convolutional:
        return []
    found = []
    for neuron in program.neurons:
        if neuron.persistent:
            span = next(n.span for n in program.rule.neurons if n.name == neuron.name)
            found.append(Diagnostic(span, f"the persistent neuron `{neuron.name}` cannot live on a "
                                    "convolutional layer: it has no batch axis, and there every position is one "
                                    "more example", "run this rule on a network of dense layers",
                                    "convolution"))
    spatial = {ir.Scheme.PAIRS, ir.Scheme.LATERAL}
    for phase in program.phases:
        if phase.scheme not in spatial:
            continue
        ends = [b for b in phase.bindings if b.role in ("input", "output")]
        if ends:
            found.append(Diagnostic(phase.span, f"`{phase.kind.value}` binds `{ends[0].index} in {ends[0].role}` "
                                    "besides its pair: on a convolutional pair its examples are the positions, "
                                    f"which the {ends[0].role} layer does not have",
                                    "a skip synapse from an image input is dense: read it in a phase of its own",
                                    "convolution"))
        for statement in phase.statements:
            if not runs_on_a_convolution(statement, phase, geometry):
                continue
            for sub in walk(statement.value):
                if isinstance(sub, ir.Load) and sub.kind in (ir.Source.INPUT, ir.Source.TARGET):
                    found.append(Diagnostic(sub.span, f"`{phase.kind.value}` reads the {sub.kind.value} in a "
                                            "phase over layer pairs: on a convolutional pair the examples are the "
                                            "positions, which the input and the target do not have",
                                            "read it in the input or feedback phase", "convolution"))
                elif isinstance(sub, ir.Reduce) and sub.kind not in TRANSPOSABLE and transposes(sub):
                    found.append(Diagnostic(sub.span, f"`{sub.kind.value}` over the post index, keeping the pre "
                                            "index, has no transpose on a convolutional pair: only a sum or a mean "
                                            "over the post index is summed back over the patches",
                                            "write it as sum(...) or mean(...)", "convolution"))
                elif isinstance(sub, ir.Draw) and "pre" in {p.role for p in draw_layers(sub)}:
                    found.append(Diagnostic(sub.span, "a draw over the pre index of a convolutional pair would "
                                            "give a neuron another value in every patch that holds it",
                                            "draw it over the post index, or in the input phase", "convolution"))
    return found


def runs_on_a_convolution(statement: ir.Statement, phase: ir.Phase, geometry: Geometry) -> bool:
    """Whether some instance of `phase` that runs `statement` is a convolutional pair or a lateral instance on an
    image layer (`for j in output` keeps a write to the output pair, which is dense)."""
    depth = len(geometry.sizes) - 1
    when = getattr(statement, "when", ())
    return any(geometry.examples(roles) > 1 and all(holds(roles[c.role], c.subset, depth) for c in when)
               for roles in instances(phase.scheme, depth))


def draw_layers(e: ir.Draw) -> list[ir.Layer]:
    return [p for p in getattr(e, "positions", ()) if isinstance(p, ir.Layer)]
