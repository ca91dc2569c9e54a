"""The state of a network between steps: a small pytree, so jit, vmap, scan and grad carry it as a whole."""

from __future__ import annotations

import dataclasses

import jax


@jax.tree_util.register_dataclass
@dataclasses.dataclass(frozen=True)
class NetworkState:
    """What one step hands the next.

    synapses: {name: [array per instance]}, channel-major ([channels..., source, target]).
    neurons: the persistent neurons, {name: [array per layer]}, each [neurons] or [neurons, states], and the
        persistent scalars, {name: array of shape ()}; the other neurons start every step at zero and are not kept.
    key: the key the next step splits its draws from (rulec/ir/draws.py).
    step: the number of steps taken, an integer scalar; equations read it as `step`.
    """

    synapses: dict
    neurons: dict
    key: jax.Array
    step: jax.Array

    def __getitem__(self, name: str) -> list:
        """A synapse by name, `state["w"]`: its array per instance, as when the state was the synapses alone."""
        return self.synapses[name]


# `rulec compile --emit stablehlo` serialises the step, whose arguments and result hold a NetworkState. Its
# fields are all data, so the tree node carries nothing to serialise.
jax.export.register_pytree_node_serialization(NetworkState, serialized_name="rulec.NetworkState",
                                              serialize_auxdata=lambda meta: b"",
                                              deserialize_auxdata=lambda data: ())
