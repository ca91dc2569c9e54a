"""Arrays with named axes: broadcasting and reductions by axis name.

The functions work on any array module with the array API (NumPy, also with dtype=object for SymPy
expressions, and jax.numpy): each call uses the namespace of the array it is given.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np


def namespace(data):
    return data.__array_namespace__() if hasattr(data, "__array_namespace__") else np


@dataclasses.dataclass(frozen=True)
class Named:
    data: Any  # an array of NumPy (dtype=object for SymPy expressions) or of JAX, by the array API
    axes: tuple[str, ...]

    def __post_init__(self):
        assert np.ndim(self.data) == len(self.axes), (np.shape(self.data), self.axes)

    def size(self, axis: str) -> int:
        return np.shape(self.data)[self.axes.index(axis)]


def scalar(value) -> Named:
    return Named(np.asarray(value), ())


def align(t: Named, axes: tuple[str, ...]) -> np.ndarray:
    """`t.data` transposed to follow `axes`, with a length-1 axis for each axis `t` lacks."""
    present = [a for a in axes if a in t.axes]
    data = t.data
    if t.axes and present != list(t.axes):
        data = namespace(data).permute_dims(data, [t.axes.index(a) for a in present])
    shape = [np.shape(data)[present.index(a)] if a in present else 1 for a in axes]
    return namespace(data).reshape(data, tuple(shape)) if len(shape) != np.ndim(data) else data


def combine(op, left: Named, right: Named) -> Named:
    axes = left.axes + tuple(a for a in right.axes if a not in left.axes)
    return Named(op(align(left, axes), align(right, axes)), axes)


def apply(fn, t: Named) -> Named:
    return Named(fn(t.data), t.axes)


def reduce_sum(t: Named, axes: tuple[str, ...]) -> Named:
    keep = tuple(a for a in t.axes if a not in axes)
    if not axes:
        return t
    return Named(namespace(t.data).sum(t.data, axis=tuple(t.axes.index(a) for a in axes)), keep)


def reduce_mean(t: Named, axes: tuple[str, ...]) -> Named:
    count = int(np.prod([t.size(a) for a in axes]))
    summed = reduce_sum(t, axes)
    return Named(summed.data / count, summed.axes)


def normalize(t: Named, axes: tuple[str, ...], epsilon: float) -> Named:
    """Standardises over `axes`, keeping them: (t - mean) / sqrt(var + epsilon)."""
    xp = namespace(t.data)
    positions = tuple(t.axes.index(a) for a in axes)
    mean = xp.mean(t.data, axis=positions, keepdims=True)
    centred = t.data - mean
    variance = xp.mean(centred * centred, axis=positions, keepdims=True)
    return Named(centred / xp.sqrt(variance + epsilon), t.axes)


def stack(parts: list[Named], axis: str) -> Named:
    """Named arrays with the same axes, stacked along a new leading axis `axis`."""
    xp = namespace(parts[0].data)
    return Named(xp.stack([xp.asarray(p.data) for p in parts]), (axis,) + parts[0].axes)


def take(t: Named, axis: str, index: int) -> Named:
    position = t.axes.index(axis)
    selector: list[slice | int] = [slice(None)] * len(t.axes)
    selector[position] = index
    return Named(t.data[tuple(selector)], t.axes[:position] + t.axes[position + 1:])


def slice_axis(t: Named, axis: str, low: int, high: int) -> Named:
    position = t.axes.index(axis)
    index = [slice(None)] * len(t.axes)
    index[position] = slice(low, high)
    return Named(t.data[tuple(index)], t.axes)


def rename(t: Named, mapping: dict[str, str]) -> Named:
    return Named(t.data, tuple(mapping.get(a, a) for a in t.axes))


def diagonal(t: Named) -> Named:
    """Merges repeated axis names: `nu[d, d]` reads the diagonal."""
    while len(set(t.axes)) < len(t.axes):
        name = next(a for i, a in enumerate(t.axes) if a in t.axes[:i])
        first = t.axes.index(name)
        second = t.axes.index(name, first + 1)
        # An einsum rather than `diagonal`: jax.numpy's diagonal traces to a platform-dependent branch that
        # `rulec compile --emit python` cannot print, and einsum reads the same diagonal in every array module.
        letters = [chr(ord("a") + i) for i in range(len(t.axes))]
        letters[second] = letters[first]
        kept = [l for i, l in enumerate(letters) if i not in (first, second)] + [letters[first]]
        data = namespace(t.data).einsum(f"{''.join(letters)}->{''.join(kept)}", t.data)
        t = Named(data, tuple(a for i, a in enumerate(t.axes) if i not in (first, second)) + (name,))
    return t


def reduce_max(t: Named, axes: tuple[str, ...]) -> Named:
    keep = tuple(a for a in t.axes if a not in axes)
    return Named(namespace(t.data).max(t.data, axis=tuple(t.axes.index(a) for a in axes)), keep)


def logsumexp(t: Named, axes: tuple[str, ...]) -> Named:
    """log(sum(exp(t))) over `axes`, stable: the maximum is taken out first, so no exp overflows."""
    xp = namespace(t.data)
    positions = tuple(t.axes.index(a) for a in axes)
    peak = xp.max(t.data, axis=positions, keepdims=True)
    total = xp.log(xp.sum(xp.exp(t.data - peak), axis=positions, keepdims=True)) + peak
    return Named(xp.squeeze(total, axis=positions), tuple(a for a in t.axes if a not in axes))


def softmax(t: Named, axes: tuple[str, ...]) -> Named:
    """exp(t) / sum(exp(t)) over `axes`, keeping them; the maximum is subtracted first, so no exp overflows."""
    xp = namespace(t.data)
    positions = tuple(t.axes.index(a) for a in axes)
    shifted = xp.exp(t.data - xp.max(t.data, axis=positions, keepdims=True))
    return Named(shifted / xp.sum(shifted, axis=positions, keepdims=True), t.axes)


# The reductions other than sum and mean, computed the same way by every numeric interpreter.
REDUCTIONS = {"max": reduce_max, "logsumexp": logsumexp, "softmax": softmax}
