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

import inspect

import jax
import jax.numpy as jnp
import numpy as np

from rulec.meta import objectives
from rulec.meta.coordinates import bounds_of, genome_at, search_scale
from rulec.meta.method import Method, Settings
from rulec.meta.networks import Network, at, step_record
from rulec.meta.population import Engine
from rulec.runtime.resources import Estimate


def build_strategy(name: str, population: int, template: dict, sigma: float):
    """The evosax strategy `name` with initial step size `sigma`, and its parameters.

    The contract of an evolution strategy (each `_evolution` entry of rulec/meta/methods.py): an evosax class
    built from a population size and a template solution alone, that samples around a mean it reports
    (`get_mean`), with a step size rulec can set: `std_init` in its parameters (CMA-ES), or a `std_schedule` it is
    built with (OpenAI-ES), which then stays `sigma` throughout. A class outside the contract is refused here,
    when a run builds it, before any work."""
    import evosax.algorithms  # imported here: it pulls in flax, which only meta-training needs
    import optax

    def refuse(why: str):
        return TypeError(f"evosax's {name} cannot be a rulec evolution strategy: {why}")

    cls = getattr(evosax.algorithms, name, None)
    if not isinstance(cls, type):
        raise refuse("evosax.algorithms has no such class")
    parameters = inspect.signature(cls.__init__).parameters
    needs = [p for p, spec in parameters.items() if p not in ("self", "population_size", "solution")
             and spec.default is spec.empty and spec.kind is spec.POSITIONAL_OR_KEYWORD]
    if needs or not {"population_size", "solution"} <= parameters.keys():
        raise refuse(f"it is built from {', '.join(needs) or 'other arguments'}, not only a population size and a "
                     "solution")
    if not hasattr(cls, "get_mean"):
        raise refuse("it keeps a population, not a mean (get_mean) that is the genome")
    if "std_schedule" in parameters:
        built = cls(population_size=population, solution=template, std_schedule=optax.constant_schedule(sigma))
        return built, built.default_params
    built = cls(population_size=population, solution=template)
    if not hasattr(built.default_params, "std_init"):
        raise refuse("it has no step size rulec can set (a `std_init` parameter or a `std_schedule`)")
    return built, built.default_params.replace(std_init=jnp.asarray(sigma, jnp.float32))


class Evolution(Method):
    """One evolution strategy over genomes. The carry is the strategy's state; the genome is its mean.

    `strategy` names an evosax class that fits the contract of `build_strategy` (rulec/meta/methods.py maps the
    --method names to them)."""

    def __init__(self, networks: list[Network], tasks, strategy: str, population: int, sigma: float,
                 template: dict, population_mesh=None, scale_from_start: bool = False):
        self.networks, self.tasks, self.population = networks, tasks, population
        self.strategy, self.params = build_strategy(strategy, population, template, sigma)
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
