"""Meta-learning by persistent evolution strategies (PES, Vicol et al. 2021), evosax's `PersistentES`.

Scoring a genome after a long unroll (1000 inner steps) costs the whole unroll for every member of every
generation. PES cuts the unroll of `protocol.unroll` steps into truncations of `protocol.truncation` steps. Each
generation advances every member's own network by one truncation under its own perturbed genome, scores it on
held-out batches, and moves the genome's mean along the perturbations each member has accumulated since the
unroll began: the estimate of the gradient of the smoothed objective is unbiased for the whole unroll (truncated
ES, which forgets the earlier perturbations, is not), while a generation costs one truncation. When the unroll
ends, every member starts again from fresh synapses.

So the carry holds a network state per member (and per task), beside evosax's state, whose counter says where in
the unroll the members are. The members of one generation share the batches and the synapse initialisation
(common random numbers), and come in antithetic pairs (+e, -e), so the population must be even. The objective
is the meta-loss of `--loss` on the held-out batches after each truncation (evosax minimises it); a member whose
network went NaN or infinite gets the generation's worst finite loss, so that one diverged member does not make
the step NaN. As for the other evolution strategies, the search runs in normalised coordinates, bounded entries
clipped into their bounds, and the mean is stepped by Adam (`--lr`) after clipping the estimate's global norm
(`--clip`).
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import optax

from rulec.meta import objectives
from rulec.meta.coordinates import bounds_of, genome_at, search_scale
from rulec.meta.method import Method, Settings
from rulec.meta.networks import Network
from rulec.meta.population import Engine
from rulec.meta.tasks import sample
from rulec.runtime.resources import Estimate


class Persistent(Method):
    """PES on one network. The carry: evosax's state (mean, Adam state, accumulated perturbations, the position in
    the unroll), the members' network states (one per task, each with a leading population axis) and the search's
    centre and scale."""

    def __init__(self, network: Network, tasks, population: int, sigma: float, learning_rate: float, clip: float,
                 loss: str, template: dict, population_mesh=None, scale_from_start: bool = False):
        import evosax.algorithms  # imported here: it pulls in flax, which only meta-training needs

        self.network, self.tasks, self.population, self.loss = network, tasks, population, loss
        protocol = network.protocol
        self.strategy = evosax.algorithms.PersistentES(
            population_size=population, solution=template, std_schedule=optax.constant_schedule(sigma),
            optimizer=optax.chain(optax.clip_by_global_norm(clip), optax.adam(learning_rate)))
        self.params = self.strategy.default_params.replace(T=protocol.unroll, K=protocol.truncation)
        self.bounds, self.scale_from_start = bounds_of(network.net), scale_from_start
        self.engine = Engine(self._member, population_mesh)

    def _member(self, member, shared):
        """One member: each task's network advanced by one truncation under the member's genome, then scored."""
        z, kept = member
        key, tasks, start, scale = shared
        net, protocol = self.network.net, self.network.protocol
        genome = genome_at(z, start, scale, self.bounds)
        stepped, losses, accuracies = [], [], []
        for index, (task, state) in enumerate(zip(tasks, map(_live, kept))):
            train_key, held_key = jax.random.split(jax.random.fold_in(key, index))
            xs, ys, _ = sample(train_key, task.train, protocol.truncation, protocol.batch, protocol.outputs)
            held = sample(held_key, task.held_out, protocol.eval_batches, protocol.batch, protocol.outputs)
            state = net.unroll(genome, state, xs, ys, remat=False)
            loss, accuracy = objectives.scores(*objectives.predicted(net, genome, state, held, task), self.loss)
            stepped.append(_kept(state))
            losses.append(loss)
            accuracies.append(accuracy)
        diverged = ~objectives.finite([(s.synapses, s.neurons) for s in stepped])
        return stepped, jnp.mean(jnp.stack(losses)), jnp.mean(jnp.stack(accuracies)), diverged

    @classmethod
    def build(cls, settings: Settings, networks: list[Network], tasks, template: dict, variant: str | None
              ) -> Persistent:
        (network,) = networks  # the command line refuses a grid: the members' network states have one shape
        return cls(network, tasks, settings.population, settings.sigma, settings.learning_rate, settings.clip,
                   settings.loss, template, scale_from_start=settings.search_scale == "start")

    @classmethod
    def refused(cls, settings: Settings) -> list[tuple[str, str]]:
        """PES cuts the unroll into truncations, draws antithetic pairs, scores after every truncation on one
        synapse draw per task, and keeps every member's network from one generation to the next."""
        protocol, found = settings.protocol, []
        if protocol.unroll % protocol.truncation:
            found.append(("truncation", f"the unroll of {protocol.unroll} steps is not a whole number of "
                                        f"truncations of {protocol.truncation}"))
        if settings.population % 2:
            found.append(("population", f"pes draws its members in antithetic pairs; make the population even, "
                                        f"not {settings.population}"))
        scored_once = {"horizons": bool(protocol.horizons), "score_at": bool(protocol.score_at),
                       "stability": protocol.stability > 0, "inits": protocol.inits > 1}
        found += [(setting, "pes scores the members after every truncation, on one synapse draw per task; leave it "
                            "out") for setting, given in scored_once.items() if given]
        if len(settings.hidden) * len(settings.batches) > 1:
            found.append(("hidden", "pes keeps every member's network from one generation to the next, so it "
                                    "trains one network: give one --layers and one --batch"))
        return found

    @staticmethod
    def member_cost(step: Estimate, protocol: objectives.Protocol) -> Estimate:
        """One truncation and the scored batches, the network state kept between generations."""
        return Estimate(2 * step.bytes, step.flops * (protocol.truncation + protocol.eval_batches))

    def unroll_at(self, step: int) -> int:
        return self.network.protocol.unroll

    def init(self, key, initial, random_start: bool = False) -> dict:
        """Centred on `initial(key)`. The members' networks here give the carry its structure (a resume restores
        into it); the first step, like every step that begins an unroll, draws fresh ones."""
        draw_key, init_key = jax.random.split(key)
        start = initial(draw_key)
        search = self.strategy.init(init_key, jax.tree.map(jnp.zeros_like, start), self.params)
        scale = search_scale(self.network.net, start if self.scale_from_start else None)
        return {"search": search, "states": self._fresh(init_key), "start": start, "scale": scale}

    def _fresh(self, key) -> list:
        """Every member's networks at a fresh synapse draw, one draw per task shared by the members."""
        def members(state):
            return jax.tree.map(lambda leaf: jnp.broadcast_to(leaf, (self.population, *leaf.shape)), _kept(state))
        return [members(self.network.net.init(jax.random.fold_in(key, index))) for index in range(len(self.tasks))]

    def step(self, carry: dict, key, step: int) -> tuple[dict, dict]:
        init_key, ask_key, evaluate_key, tell_key = jax.random.split(key, 4)
        search = carry["search"]
        # evosax's counter is back at 0 when the last truncation ended the unroll: every member starts afresh.
        states = self._fresh(init_key) if int(search.inner_step_counter) == 0 else carry["states"]
        members, search = self.strategy.ask(ask_key, search, self.params)
        states, loss, accuracy, diverged = self.engine((members, states),
                                                       (evaluate_key, self.tasks, carry["start"], carry["scale"]))
        loss, accuracy, diverged = np.asarray(loss), np.asarray(accuracy), np.asarray(diverged)
        diverged = diverged | ~np.isfinite(loss)
        alive = ~diverged
        worst = loss[alive].max() if alive.any() else 0.0  # all diverged: no direction to prefer
        search = self.strategy.tell(tell_key, members, jnp.asarray(np.where(alive, loss, worst)), search,
                                    self.params)[0]
        record = {"best": float(accuracy[alive].max()) if alive.any() else objectives.WORST,
                  "mean": float(accuracy[alive].mean()) if alive.any() else objectives.WORST,
                  "loss": float(loss[alive].mean()) if alive.any() else float("nan"),
                  "unroll": int(carry["search"].inner_step_counter) + self.network.protocol.truncation,
                  "diverged": int(diverged.sum())}
        return carry | {"search": search, "states": states}, record

    def genome(self, carry: dict) -> dict:
        return genome_at(self.strategy.get_mean(carry["search"]), carry["start"], carry["scale"], self.bounds)


def _kept(state):
    """A network state as the carry keeps it: its key as raw bits, which a checkpoint stores as a plain array."""
    return dataclasses.replace(state, key=jax.random.key_data(state.key))


def _live(kept):
    """The network state of `_kept`, its key wrapped again."""
    return dataclasses.replace(kept, key=jax.random.wrap_key_data(kept.key))
