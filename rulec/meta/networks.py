"""The networks a meta-training run trains on: one, or a grid of hidden layers and batch sizes.

`--layers` lists the alternative hidden layers separated by `/`, each the sizes of one network's hidden layers
separated by `,`, so a grid may vary the width, the depth or both: `--layers 128/256/512 --batch 32/128` make the
grid of every (hidden layers, batch) pair, six networks here, and `--layers 256/256,256/256,256,256,256` three
networks of 1, 2 and 4 hidden layers of 256. A genome tuned on one width, one depth and one batch size is tuned to
them (the Hebbian term sums over the batch, a layer's input sums over its fan-in, and an error that crosses more
layers on its way down arrives changed), so the grid asks it to work on all of them. Generation or meta-step `s`
trains on network `s mod n` of the grid, as learned-optimiser meta-training samples one task per outer step: a
step costs one network, not n, and over n steps the search is pushed towards what works on every network. The
members of one generation share their network, so they are still ranked on one draw. Meta-validation scores
every network of the grid and averages.

Every network shares the genome, so the genome's shape must not depend on the layer sizes or their number: a rule
with per-synapse genome entries (abcd_hebbian) is refused a grid of widths or depths, with a message.
"""

from __future__ import annotations

import dataclasses
import itertools
from typing import Any

import jax

from rulec.data.errors import DataError
from rulec.geometry import Conv, Geometry, geometry, on_data
from rulec.geometry import describe as describe_layers
from rulec.meta.objectives import Protocol


@dataclasses.dataclass(frozen=True)
class Network:
    """One network of the grid: the lowered network (`Rule.network(sizes)`) and its protocol, with its batch."""
    net: Any
    protocol: Protocol


def grid(hidden: tuple[tuple[int | Conv, ...], ...], batches: tuple[int, ...]
         ) -> list[tuple[tuple[int | Conv, ...], int]]:
    """Every (hidden layers, batch) pair, hidden layers first: 128/256 with 32/128 gives (128, 32), (128, 128),
    (256, 32), (256, 128)."""
    return list(itertools.product(hidden, batches))


def at(networks, step: int) -> int:
    """The index of the network that meta-step `step` (from 0) trains on."""
    return step % len(networks)


def step_record(networks, step: int) -> dict:
    """What a step's record says of its network: the index, for a grid; nothing for a single network."""
    return {"network": at(networks, step)} if len(networks) > 1 else {}


def build(rule, inputs: int, outputs: int, hidden, batches, protocol: Protocol, image=None) -> list[Network]:
    """The grid's networks for `rule`, each with `protocol` at its batch; a DataError when their genomes differ
    in shape. Convolutions among the hidden layers need the tasks' `image` (rulec/geometry.py)."""
    networks = [Network(rule.network(layers_on(layers, inputs, image, outputs)),
                        dataclasses.replace(protocol, batch=batch)) for layers, batch in grid(hidden, batches)]
    shapes = [jax.tree.map(lambda leaf: leaf.shape, n.net.init_genome(jax.random.key(0))) for n in networks]
    for network, shape in zip(networks[1:], shapes[1:]):
        if shape != shapes[0]:
            raise DataError(f"rule `{rule.name}` has genome entries whose shape depends on the layer sizes, so "
                            f"layers {describe_sizes(networks[0].net.geometry)} and "
                            f"{describe_sizes(network.net.geometry)} cannot share one genome",
                            "meta-train on one set of hidden layer sizes (a grid of batch sizes is fine)")
    return networks


def layers_on(hidden, inputs: int, image, outputs: int) -> Geometry:
    """The network of `hidden` layers on the tasks; a DataError for a convolution on tasks without images."""
    try:
        return geometry(on_data(hidden, inputs, image, outputs))
    except ValueError as error:
        raise DataError(str(error)) from None


def describe_sizes(sizes) -> str:
    return describe_layers(sizes) if isinstance(sizes, Geometry) else "-".join(map(str, sizes))


def describe(networks: list[Network]) -> str:
    """`layers 100-256-10, batch 128`, or for a grid the alternatives and how they are used."""
    layers = list(dict.fromkeys(describe_sizes(n.net.geometry) for n in networks))
    batches = list(dict.fromkeys(str(n.protocol.batch) for n in networks))
    text = f"layers {' / '.join(layers)}, batch {' / '.join(batches)}"
    return text if len(networks) == 1 else text + f" (a grid of {len(networks)} networks, one per step in turn)"
