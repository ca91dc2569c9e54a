"""The population engine: evaluate many genomes (and synapse initialisations) at once, sharded over devices.

A population is a pytree whose leaves have a leading population axis. It is vmapped, and placed on a 1-D
`jax.sharding.Mesh` over every device with the population axis split across them (`NamedSharding` with
`PartitionSpec("population")`), so XLA runs one slice per device; with `jax.distributed` the same mesh spans
several hosts. A population that does not divide evenly is padded with copies of its last member, whose results
are dropped.

Fitness is accuracy on held-out batches after training on the training batches. A member whose synapses become
NaN or infinite gets the worst fitness, -1, and is flagged; the others are unaffected.
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

AXIS = "population"
WORST = -1.0


def mesh(devices=None) -> Mesh:
    """A 1-D mesh over the given devices (all of them by default)."""
    return Mesh(np.asarray(devices if devices is not None else jax.devices()), (AXIS,))


def pad(tree, size: int):
    """The population padded to `size` members by repeating the last one."""
    def grow(leaf):
        missing = size - leaf.shape[0]
        return leaf if missing == 0 else jnp.concatenate([leaf, jnp.repeat(leaf[-1:], missing, axis=0)])
    return jax.tree.map(grow, tree)


def shard(tree, population_mesh: Mesh):
    """Places each leaf's leading (population) axis across the mesh's devices."""
    sharding = NamedSharding(population_mesh, PartitionSpec(AXIS))
    return jax.tree.map(lambda leaf: jax.device_put(leaf, sharding), tree)


@dataclasses.dataclass(frozen=True)
class Evaluation:
    fitness: np.ndarray  # [population] accuracy on the held-out batches, WORST for a diverged member
    diverged: np.ndarray  # [population] bool


def member_fitness(net, genome, key, train, held_out):
    """Accuracy of one member on the held-out batches after training on `train` (xs, ys), and whether it diverged."""
    state = net.unroll(genome, net.init(key), *train, remat=False)
    finite = jnp.all(jnp.asarray([jnp.all(jnp.isfinite(leaf)) for leaf in jax.tree.leaves(state)]))
    xs, ys = held_out
    logits = jax.vmap(lambda x: net.predict(genome, state, x))(xs)
    accuracy = jnp.mean(jnp.argmax(logits, -1) == jnp.argmax(ys, -1))
    return jnp.where(finite & jnp.isfinite(accuracy), accuracy, WORST), ~finite


def evaluate(net, genomes, keys, train, held_out, population_mesh: Mesh | None = None) -> Evaluation:
    """Fitness of every member: genomes and keys have a leading population axis; train and held_out are shared
    (xs [batches, batch, inputs], ys [batches, batch, outputs])."""
    population_mesh = population_mesh or mesh()
    size = jax.tree.leaves(genomes)[0].shape[0]
    devices = population_mesh.devices.size
    padded = -(-size // devices) * devices
    genomes, keys = shard(pad(genomes, padded), population_mesh), shard(pad(keys, padded), population_mesh)
    run = jax.jit(jax.vmap(lambda g, k: member_fitness(net, g, k, train, held_out)))
    fitness, diverged = run(genomes, keys)
    return Evaluation(np.asarray(fitness)[:size], np.asarray(diverged)[:size])
