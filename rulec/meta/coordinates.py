"""Normalised genome coordinates, shared by the meta-learning methods.

Genome entries live on very different scales: `nu ~ normal(0, 1)` spreads over about 1, while `eta_w = -0.001`
matters at the third decimal. A search or an optimiser step of one size for every entry would leave nu unexplored
or blow eta_w up 500-fold (a single raw Adam step of 1e-3 flips its sign). Every method therefore moves the genome
in units of each entry's scale: the spread of its declared initialiser, or, for a constant, its magnitude.
Evolution (PES too) searches in fixed coordinates around its start; gradient descent takes the larger of this
scale and the entry's current size as its unit, so that gates can also grow by orders of magnitude. A search from
a genome file whose constants have moved far from their declarations (blur_scaled's eta_w of -1.5, declared
-0.001) can ask for the same larger unit at its start (`--search-scale start`); otherwise a step size of 0.1
moves that entry by 0.0001, a fifteen-thousandth of itself.

A bounded entry (`f_w = 1.0 in [0, 1]`) is clipped into its bounds: evolution evaluates a member outside them at
the nearest point inside (and reads its mean the same way), gradient descent projects each step back. Clipping,
rather than a reparameterisation such as a sigmoid, lets an entry sit exactly on a bound (a decay of exactly 1,
no decay at all) and leaves the search's coordinates, and so its step sizes, as they are inside the bounds.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp


def search_scale(net, start: dict | None = None, draws: int = 256) -> dict:
    """Per element, the spread of the genome's initialiser over `draws` draws, or |value| where it is constant;
    given a `start` genome, a constant's unit is the larger of that and its size there."""
    samples = jax.vmap(net.init_genome)(jax.random.split(jax.random.key(0), draws))

    def spread(leaf, value_at_start=0.0):
        # A constant is an entry whose draws are all equal. Its float32 std is not always exactly 0 (0.57735 or
        # 0.01, averaged over the draws, round), and that rounding would be a unit of 1e-8: a frozen entry.
        constant = jnp.all(leaf == leaf[:1], axis=0)
        magnitude = jnp.abs(leaf[0])
        unit = jnp.maximum(jnp.where(magnitude > 0, magnitude, 1.0), jnp.abs(value_at_start))
        return jnp.where(constant, unit, jnp.std(leaf, axis=0))

    return jax.tree.map(spread, samples) if start is None else jax.tree.map(spread, samples, start)


def denormalise(z, start, scale):
    """The genome at normalised coordinates z around `start`: start + scale * z."""
    return jax.tree.map(lambda z, start, scale: start + scale * z, z, start, scale)


def bounds_of(net) -> dict:
    """{entry: (low, high)} of the genome's bounded entries."""
    return {entry.name: entry.bounds for entry in net.rule.program.genome if entry.bounds is not None}


def into_bounds(genome: dict, bounds: dict) -> dict:
    """The genome with each bounded entry clipped into its bounds (a per-synapse entry layer by layer)."""
    return {name: jax.tree.map(lambda leaf, b=bounds.get(name): leaf if b is None else jnp.clip(leaf, *b), value)
            for name, value in genome.items()}


def genome_at(z, start, scale, bounds: dict) -> dict:
    """The genome an evolution strategy's point z stands for: denormalised around `start`, then clipped into the
    bounds (a member, and the search's mean, alike)."""
    return into_bounds(denormalise(z, start, scale), bounds)
