"""One contraction (a sum over a product) as einsums, with its state-mixing matrices applied in one of two forms.

A BLUR contraction such as `sum(i, d) w[i, j, c] * nu[d, c] * a[i, d]` carries a small state-mixing matrix
(`nu`). It can be applied in two ways:
* "mix": to the activation first, `m[c, b, i] = sum(d) nu[d, c] * a[d, b, i]`, then k per-channel matmuls;
* "fold": into the weights, `W[d, i, c, j] = nu[d, c] * w[c, i, j]`, then one larger matmul over (d, i), which
  does k times the FLOPs of the per-channel ones but is a single GEMM.
`form="auto"` chooses per contraction by a cost model: the FLOPs of each form's einsums, as opt_einsum counts
them on the shapes at trace time. benchmarks/contraction_bench.py validates it against measured times.
"""

from __future__ import annotations

import functools
import string

import jax.numpy as jnp
import numpy as np
import opt_einsum

from rulec.check.symbols import BATCH
from rulec.ir import named as nm

MIXING_SIZE = 64  # a factor over state axes only, with at most this many entries, is a mixing matrix
FORMS = ("auto", "mix", "fold")


def contract(arrays: list[nm.Named], reduced, layers, form: str = "auto") -> nm.Named:
    """Sums the product of `arrays` over the `reduced` axes, applying mixing matrices in the chosen form."""
    if form == "auto":
        form = min(("mix", "fold"), key=lambda f: cost(arrays, reduced, layers, f))
    return _contract(arrays, reduced, layers, form, functools.partial(jnp.einsum, optimize="optimal"))


def _contract(arrays, reduced, layers, form: str, einsum) -> nm.Named:
    if form == "fold":
        arrays = fold_into_weights(arrays, layers, einsum)
    arrays = fold_mixing_matrices(arrays, reduced, layers, einsum)
    if not arrays:
        return nm.Named(jnp.asarray(1.0), ())
    if len(arrays) == 1:
        return nm.reduce_sum(arrays[0], tuple(a for a in reduced if a in arrays[0].axes))
    axes = []
    for f in arrays:
        axes += [a for a in f.axes if a not in axes]
    free = [a for a in axes if a not in reduced]
    # Emit [states..., batch, neurons...]: the order in which neurons are stored and synapse updates read.
    output = ([a for a in free if a not in layers and a != BATCH] + [a for a in free if a == BATCH]
              + [a for a in free if a in layers])
    return nm.Named(einsum(_spec([f.axes for f in arrays], output), *[f.data for f in arrays]), tuple(output))


def fold_mixing_matrices(arrays: list[nm.Named], reduced, layers, einsum) -> list[nm.Named]:
    """Applies each state-mixing matrix (a small genome factor such as nu_h[e, c]) to the activation it shares a
    summed state index with, before the main contraction. Left inside one einsum, the mixing becomes dot_generals
    with a contraction of size k whose layouts force transposes around the large matmul; measured on the
    Hebbian update, folding first is 1.5-2x faster (benchmarks/step_bench.py)."""
    arrays = list(arrays)
    while True:
        for small in [f for f in arrays if _is_mixing(f, layers)]:
            for host in arrays:
                if host is small or BATCH not in host.axes:
                    continue
                others = [f for f in arrays if f is not small and f is not host]
                elsewhere = {a for f in others for a in f.axes}
                summed = [a for a in small.axes if a in host.axes and a in reduced and a not in elsewhere]
                if summed:
                    kept = [a for a in small.axes if a not in summed] + [a for a in host.axes if a not in summed]
                    mixed = nm.Named(einsum(_spec([small.axes, host.axes], kept), small.data, host.data), tuple(kept))
                    arrays = others + [mixed]
                    break
            else:
                continue
            break
        else:
            return arrays


def fold_into_weights(arrays: list[nm.Named], layers, einsum) -> list[nm.Named]:
    """Multiplies each mixing matrix into a weight factor (no batch axis) it shares a state index with: an outer
    product over the mixing matrix's other index, which the main contraction then sums with the neurons."""
    arrays = list(arrays)
    for small in [f for f in arrays if _is_mixing(f, layers)]:
        host = next((f for f in arrays if f is not small and BATCH not in f.axes and not _is_mixing(f, layers)
                     and set(small.axes) & set(f.axes)), None)
        if host is not None:
            union = list(dict.fromkeys(small.axes + host.axes))
            folded = nm.Named(einsum(_spec([small.axes, host.axes], union), small.data, host.data), tuple(union))
            arrays = [folded if f is host else f for f in arrays if f is not small]
    return arrays


def _is_mixing(f: nm.Named, layers) -> bool:
    return np.size(f.data) <= MIXING_SIZE and not any(a == BATCH or a in layers for a in f.axes)


def _spec(inputs, output) -> str:
    letters = dict(zip(dict.fromkeys(a for axes in inputs for a in axes), string.ascii_letters))
    return ",".join("".join(letters[a] for a in axes) for axes in inputs) + "->" + "".join(letters[a]
                                                                                    for a in output)


class _FlopCounter:
    """An einsum that only counts: it adds opt_einsum's FLOP estimate and returns a zero-stride array of the
    result's shape, so a form can be costed on the shapes without emitting any computation."""

    def __init__(self):
        self.flops = 0

    def __call__(self, spec: str, *operands):
        shapes = [np.shape(o) for o in operands]
        _, info = opt_einsum.contract_path(spec, *shapes, shapes=True, optimize="optimal")
        self.flops += info.opt_cost
        sizes = {letter: size for term, shape in zip(spec.split("->")[0].split(","), shapes)
                 for letter, size in zip(term, shape)}
        return np.broadcast_to(np.float32(0), tuple(sizes[letter] for letter in spec.split("->")[1]))


def cost(arrays, reduced, layers, form: str) -> int:
    """The FLOPs of one form of the contraction, counted on the shapes of `arrays` without computing anything."""
    counter = _FlopCounter()
    shaped = [nm.Named(np.broadcast_to(np.float32(0), np.shape(f.data)), f.axes) for f in arrays]
    _contract(shaped, reduced, layers, form, counter)
    return counter.flops
