"""The population engine: evaluate many genomes (and synapse initialisations) at once, sharded over devices.

A population is a pytree whose leaves have a leading population axis. It is vmapped, and placed on a 1-D
`jax.sharding.Mesh` over every device with the population axis split across them (`NamedSharding` with
`PartitionSpec("population")`), so XLA runs one slice per device. A population that does not divide evenly is
padded with copies of its last member, whose results are dropped.

Under `jax.distributed` (see `distributed`) the mesh spans the devices of every process, and each process holds
the whole population on its host, as every process runs the same search. The engine builds the global input
arrays from each process's own slices (`jax.make_array_from_callback`), and gathers the outputs back to every
process (`process_allgather`), so that every process continues with the same results, as host-local arrays.

Every meta-learning method runs on it: CMA-ES evaluates a generation of genomes, the gradient method steps a
population of independent runs, PES advances each member's own network by one truncation.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from jax.experimental.multihost_utils import process_allgather
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from rulec.meta import distributed

AXIS = "population"


def mesh(devices=None) -> Mesh:
    """A 1-D mesh over the given devices (all of them by default)."""
    return Mesh(np.asarray(devices if devices is not None else jax.devices()), (AXIS,))


def pad(tree, size: int):
    """The population padded to `size` members by repeating the last one."""
    def grow(leaf):
        missing = size - leaf.shape[0]
        return leaf if missing == 0 else jnp.concatenate([leaf, jnp.repeat(leaf[-1:], missing, axis=0)])
    return jax.tree.map(grow, tree)


def _global(leaf, sharding: NamedSharding):
    """A global array of the host-local `leaf`, which every process holds whole: each device gets its slice."""
    if jnp.issubdtype(leaf.dtype, jax.dtypes.prng_key):  # keys travel as their raw bits
        return jax.random.wrap_key_data(_global(jax.random.key_data(leaf), sharding), impl=jax.random.key_impl(leaf))
    host = np.asarray(leaf)
    return jax.make_array_from_callback(host.shape, sharding, lambda index: host[index])


def shard(tree, population_mesh: Mesh):
    """Places each leaf's leading (population) axis across the mesh's devices, of every process."""
    sharding = NamedSharding(population_mesh, PartitionSpec(AXIS))
    return jax.tree.map(lambda leaf: _global(leaf, sharding), tree)


class Engine:
    """Runs `member(member_args, shared)` for every member of a population: vmapped over the members, jitted once,
    with the members sharded over the mesh and `shared` (data, step keys) replicated. Returns the outputs of the
    real members, padding dropped, whole on every process."""

    def __init__(self, member, population_mesh: Mesh | None = None):
        self.mesh = population_mesh or mesh()
        self.run = jax.jit(jax.vmap(member, in_axes=(0, None)))
        self._executables = {}  # input shapes -> compiled program, with several processes

    def __call__(self, members, shared):
        size = jax.tree.leaves(members)[0].shape[0]
        devices = self.mesh.devices.size
        padded = -(-size // devices) * devices
        args = (shard(pad(members, padded), self.mesh), shared)
        outputs = process_allgather(self._program(args)(*args), tiled=True)
        return jax.tree.map(lambda leaf: jnp.asarray(leaf[:size]), outputs)

    def _program(self, args):
        """The jitted program; with several processes, compiled ahead and run only once every process has
        compiled it too (see `distributed.synchronise`)."""
        if jax.process_count() == 1:
            return self.run
        key = (jax.tree.structure(args), tuple((leaf.shape, leaf.dtype) for leaf in jax.tree.leaves(args)))
        if key not in self._executables:
            self._executables[key] = self.run.lower(*args).compile()
            distributed.synchronise("the first run of a compiled population program")
        return self._executables[key]
