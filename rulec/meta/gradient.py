"""Meta-learning by gradients through the unrolled inner loop (paper sections 3.2-3.3).

A population of independent runs (the paper trains 8) is stepped together on the population engine, each with its
own genome, Adam state and batches. The meta-gradient of `objectives.meta_loss` goes through `net.unroll`, with
rematerialisation so that unrolls of 50 fit in memory. The optimiser is the paper's Adam (5e-4) after clipping
the global norm at 10, stepping in units of each entry's size (see `optimiser`) so that one step moves `nu`
(spread 1) and `eta_w` (-0.001) by the same fraction, and wrapped in `optax.apply_if_finite`: a NaN or infinite
meta-gradient leaves the genome and the Adam state as they were, and the skip is counted. Bounded entries are
projected back into their bounds after each step.

The curriculum lengthens the unroll by `unroll_step` every `unroll_every` steps, up to `max_unroll`; at each
increase every run restarts from the run with the lowest meta-loss, as the paper synchronises its 8 runs.
"""

from __future__ import annotations

import dataclasses
import math

import jax
import jax.numpy as jnp
import numpy as np
import optax

from rulec.meta import objectives
from rulec.meta.coordinates import bounds_of, into_bounds, search_scale
from rulec.meta.method import Curriculum, Method, Settings
from rulec.meta.networks import Network, at, step_record
from rulec.meta.population import Engine
from rulec.runtime.resources import Estimate

NEVER_GIVE_UP = 2**31 - 1  # apply_if_finite's limit on consecutive skips before it applies a non-finite update


def optimiser(learning_rate: float, clip: float, floor=None) -> optax.GradientTransformation:
    """Clip, then Adam. With `floor` (a genome-shaped pytree), both happen in coordinates where each entry's unit
    is max(|entry|, floor): the gradient is multiplied by that unit before clipping and Adam, and Adam's step by it
    after. Every entry then moves by about the same fraction of its size, so a learning rate that moves `nu` also
    lets `eta_w = -0.001` grow or shrink by orders of magnitude over a run without one step flipping its sign."""
    steps = [optax.clip_by_global_norm(clip), optax.adam(learning_rate)]
    if floor is not None:
        unit = lambda params: jax.tree.map(lambda p, f: jnp.maximum(jnp.abs(p), f), params, floor)  # noqa: E731
        in_units = optax.stateless(lambda updates, params: jax.tree.map(jnp.multiply, updates, unit(params)))
        steps = [in_units, *steps, in_units]
    return optax.apply_if_finite(optax.chain(*steps), max_consecutive_errors=NEVER_GIVE_UP)


class Gradient(Method):
    """Population-based gradient meta-training. The carry holds every run's genome, optimiser state and last loss."""

    def __init__(self, networks: list[Network], tasks, curriculum: Curriculum, loss: str, learning_rate: float,
                 clip: float, population: int, population_mesh=None):
        self.networks, self.tasks, self.curriculum = networks, tasks, curriculum
        self.loss, self.population, self.mesh = loss, population, population_mesh
        net = networks[0].net
        self.optimiser, self.bounds = optimiser(learning_rate, clip, search_scale(net)), bounds_of(net)
        self._engines: dict[tuple[int, int], Engine] = {}

    @classmethod
    def build(cls, settings: Settings, networks: list[Network], tasks, template: dict, variant: str | None
              ) -> Gradient:
        return cls(networks, tasks, settings.curriculum, settings.loss, settings.learning_rate, settings.clip,
                   settings.population)

    @classmethod
    def refused(cls, settings: Settings) -> list[tuple[str, str]]:
        found = super().refused(settings)
        if settings.search_scale != "declared":
            found.append(("search_scale", "grad already steps each entry in units of the larger of its declared "
                                          "scale and its current size; leave it out"))
        if settings.protocol.horizons and settings.curriculum.unroll_step > 0:
            found.append(("horizons", "gradient meta-training scores horizons over one fixed unroll; a growing "
                                      "curriculum (--unroll-step) would cut the long ones off"))
        return found

    @staticmethod
    def member_cost(step: Estimate, protocol: objectives.Protocol) -> Estimate:
        """The unroll's residuals are kept for the backward pass (about 2 sqrt(unroll) states when rematerialised),
        and the gradient costs about three times the forward work."""
        kept = 2 * math.isqrt(protocol.unroll) + 2 if protocol.remat else protocol.unroll
        return Estimate(step.bytes * kept, 3 * step.flops * protocol.unroll)

    def unroll_at(self, step: int) -> int:
        return self.curriculum.at(step)

    def engine(self, unroll: int, network: int = 0) -> Engine:
        """One compiled engine per network of the grid and unroll length the curriculum reaches."""
        if (network, unroll) not in self._engines:
            net, protocol = self.networks[network].net, dataclasses.replace(self.networks[network].protocol,
                                                                            unroll=unroll)

            def member(run, tasks):
                genome, opt_state, key = run
                objective = lambda g: objectives.meta_loss(net, g, key, tasks, protocol, self.loss)  # noqa: E731
                (loss, accuracy), grads = jax.value_and_grad(objective, has_aux=True)(genome)
                updates, opt_state = self.optimiser.update(grads, opt_state, genome)
                stepped = into_bounds(optax.apply_updates(genome, updates), self.bounds)  # projected onto the bounds
                return stepped, opt_state, loss, accuracy, ~opt_state.last_finite

            self._engines[network, unroll] = Engine(member, self.mesh)
        return self._engines[network, unroll]

    def init(self, key, initial, random_start: bool = False) -> dict:
        """Each run starts from its own draw of `initial`, random or not."""
        genomes = jax.vmap(initial)(jax.random.split(key, self.population))
        return {"genomes": genomes, "opt": jax.vmap(self.optimiser.init)(genomes),
                "loss": jnp.zeros(self.population, jnp.float32)}

    def step(self, carry: dict, key, step: int) -> tuple[dict, dict]:
        unroll = self.curriculum.at(step)
        if step > 0 and unroll > self.curriculum.at(step - 1) and self.population > 1:
            carry = synchronise(carry)
        keys = jax.random.split(key, self.population)
        engine = self.engine(unroll, at(self.networks, step))
        genomes, opt, loss, accuracy, skipped = engine((carry["genomes"], carry["opt"], keys), self.tasks)
        loss, accuracy, skipped = np.asarray(loss), np.asarray(accuracy), np.asarray(skipped)
        finite = np.isfinite(loss)
        record = {"best": float(accuracy[finite].max()) if finite.any() else objectives.WORST,
                  "mean": float(accuracy[finite].mean()) if finite.any() else objectives.WORST,
                  "loss": float(loss[finite].min()) if finite.any() else float("nan"),
                  "skipped": int(skipped.sum()), "unroll": unroll, **step_record(self.networks, step)}
        return {"genomes": genomes, "opt": opt, "loss": jnp.where(finite, loss, jnp.inf)}, record

    def genome(self, carry: dict) -> dict:
        """The run with the lowest meta-loss at its last step."""
        best = int(jnp.argmin(carry["loss"]))
        return jax.tree.map(lambda leaf: leaf[best], carry["genomes"])


def synchronise(carry: dict) -> dict:
    """Every run takes the genome and optimiser state of the run with the lowest last meta-loss."""
    best = jnp.argmin(carry["loss"])
    return jax.tree.map(lambda leaf: jnp.broadcast_to(leaf[best], leaf.shape), carry)
