"""Meta-learning by evolution strategies (paper section 4.4): CMA-ES and its relatives from evosax.

evosax keeps a whole generation on the device: `ask` and `tell` are jitted, the search state is a pytree of
arrays (so checkpoints are plain .npz), and the genome pytree is flattened into one search vector for us. Each
generation's members share the network (of a grid, rulec/meta/networks.py), the batches and the synapse
initialisations (common random numbers), so they are ranked on the same draw. evosax minimises, so it is told
minus the accuracy; a diverged member's WORST (-1) becomes the largest value it can see.

The search runs in normalised coordinates z (see `coordinates`), genome = start + scale * z, so one step size
means the same relative change for every entry; bounded entries are clipped into their bounds.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from rulec.meta import objectives
from rulec.meta.coordinates import bounds_of, genome_at, search_scale
from rulec.meta.method import Method, Settings
from rulec.meta.networks import Network, at, step_record
from rulec.meta.population import Engine
from rulec.runtime.resources import Estimate


class Evolution(Method):
    """One evolution strategy over genomes. The carry is the strategy's state; the genome is its mean.

    `strategy` names an evosax class (rulec/meta/methods.py maps the --method names to them); every one of them
    samples around a mean with a step size `std_init`."""

    def __init__(self, networks: list[Network], tasks, strategy: str, population: int, sigma: float,
                 template: dict, population_mesh=None, scale_from_start: bool = False):
        import evosax.algorithms  # imported here: it pulls in flax, which only meta-training needs

        self.networks, self.tasks, self.population = networks, tasks, population
        self.strategy = getattr(evosax.algorithms, strategy)(population_size=population, solution=template)
        self.params = self.strategy.default_params.replace(std_init=jnp.asarray(sigma, jnp.float32))
        self.bounds, self.scale_from_start = bounds_of(networks[0].net), scale_from_start

        def member_on(network: Network):
            def member(z, shared):
                key, tasks, start, scale = shared
                return objectives.evaluate(network.net, genome_at(z, start, scale, self.bounds), key, tasks,
                                           network.protocol)
            return member

        self.engines = [Engine(member_on(network), population_mesh) for network in networks]

    @classmethod
    def build(cls, settings: Settings, networks: list[Network], tasks, template: dict, variant: str | None
              ) -> Evolution:
        return cls(networks, tasks, variant, settings.population, settings.sigma, template,
                   scale_from_start=settings.search_scale == "start")

    @staticmethod
    def member_cost(step: Estimate, protocol: objectives.Protocol) -> Estimate:
        """One network at a time: the unroll, then the scored batches."""
        return Estimate(step.bytes, step.flops * (protocol.unroll + protocol.scored_batches()))

    def unroll_at(self, step: int) -> int:
        return self.networks[at(self.networks, step)].protocol.unroll

    def init(self, key, initial, random_start: bool = False) -> dict:
        """Centres the search on `initial(key)`, or, with `random_start`, on the fittest of one population's worth
        of genomes drawn by `initial` (random genomes of a rule are mostly inert, so one draw is a poor place to
        start)."""
        draw_key, evaluate_key, init_key = jax.random.split(key, 3)
        start = initial(draw_key)
        scale = search_scale(self.networks[0].net, start if self.scale_from_start else None)
        if random_start:  # the draws share their constants (the declared ones), so the scale holds for each
            drawn = jax.vmap(initial)(jax.random.split(draw_key, self.population))
            z = jax.tree.map(lambda d, s, c: (d - s) / c, drawn, start, scale)
            fitness, _ = self.engines[0](z, (evaluate_key, self.tasks, start, scale))
            start = jax.tree.map(lambda d: d[int(jnp.argmax(fitness))], drawn)
        zero = jax.tree.map(jnp.zeros_like, start)
        return {"search": self.strategy.init(init_key, zero, self.params), "start": start, "scale": scale}

    def step(self, carry: dict, key, step: int) -> tuple[dict, dict]:
        ask_key, evaluate_key, tell_key = jax.random.split(key, 3)
        members, search = self.strategy.ask(ask_key, carry["search"], self.params)
        engine = self.engines[at(self.networks, step)]
        fitness, diverged = engine(members, (evaluate_key, self.tasks, carry["start"], carry["scale"]))
        search, _ = self.strategy.tell(tell_key, members, -fitness, search, self.params)
        fitness, diverged = np.asarray(fitness), np.asarray(diverged)
        alive = fitness[~diverged]
        record = {"best": float(fitness.max()), "mean": float(alive.mean()) if alive.size else objectives.WORST,
                  "diverged": int(diverged.sum()), **step_record(self.networks, step)}
        return carry | {"search": search}, record

    def genome(self, carry: dict) -> dict:
        return genome_at(self.strategy.get_mean(carry["search"]), carry["start"], carry["scale"], self.bounds)
