"""Draws inside a step (`let xi[j] = normal(0, 1)`): their keys, shapes and samples, one definition for both
numeric interpreters, so the NumPy reference and the JAX lowering draw the same numbers.

A network's state holds a key. Each step splits it into the key the next step starts from and the key of this
step; each draw folds into the step's key its site (its number in the program) and the layers of its instance.
A draw therefore does not depend on which other draws run, so the pruned step of an unroll and the complete step
draw the same numbers, and a member of a vmapped population, given its own key, gets its own stream.

JAX is imported inside the functions: checking a rule, and the SymPy proofs, never load it.
"""

from __future__ import annotations

from rulec.check.symbols import BATCH
from rulec.ir import indexing
from rulec.ir import named as nm
from rulec.ir import nodes as ir


def split_step_key(key):
    """(the key the next step starts from, the key of this step's draws)."""
    import jax

    following, this_step = jax.random.split(key)
    return following, this_step


def site_key(step_key, site: int, roles: dict[ir.Role, int]):
    """The key of one draw site in one instance (its layers, by role name)."""
    import jax

    key = jax.random.fold_in(step_key, site)
    for role in sorted(roles):
        key = jax.random.fold_in(key, roles[role])
    return key


def axes(e: ir.Draw) -> tuple[str, ...]:
    return (BATCH,) + indexing.axis_names(e.positions)


def shape(e: ir.Draw, layer_size: indexing.LayerSize, batch: int) -> tuple[int, ...]:
    """[batch, one axis per index of the let], a neuron axis with the bias unit where the index includes it."""
    layers = [p for p in e.positions if isinstance(p, ir.Layer)]
    assert len(layers) == len(e.positions), e  # a draw's indices are neuron indices
    return (batch,) + tuple(layer_size(p.role) + p.bias for p in layers)


def sample(e: ir.Draw, args: list[nm.Named], key, size: tuple[int, ...], convert) -> nm.Named:
    """The draw with named axes; `args` are its arguments' values, each over some of the draw's axes (a
    per-neuron probability), and `convert` turns a float32 JAX array into the interpreter's arrays. The standard
    draw is made in float32 whatever the interpreter computes in, so a run in float64 draws what the same run in
    float32 draws."""
    import jax

    aligned = [nm.align(arg, axes(e)) for arg in args]
    if e.distribution == "normal":
        mean, std = aligned
        return nm.Named(mean + std * convert(jax.random.normal(key, size)), axes(e))
    uniform = convert(jax.random.uniform(key, size))
    if e.distribution == "uniform":
        low, high = aligned
        return nm.Named(low + (high - low) * uniform, axes(e))
    (probability,) = aligned
    return nm.Named((uniform < probability) * uniform.dtype.type(1), axes(e))
