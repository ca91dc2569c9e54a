"""Arrays with named axes, for the reference interpreter: broadcasting and reductions by axis name.

Everything is plain NumPy, so the arrays may hold floats or SymPy expressions (dtype=object).
"""

from __future__ import annotations

import dataclasses

import numpy as np


@dataclasses.dataclass(frozen=True)
class Named:
    data: np.ndarray
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
    data = np.transpose(np.asarray(t.data), [t.axes.index(a) for a in present]) if t.axes else np.asarray(t.data)
    shape = [np.shape(data)[present.index(a)] if a in present else 1 for a in axes]
    return np.reshape(data, shape)


def combine(op, left: Named, right: Named) -> Named:
    axes = left.axes + tuple(a for a in right.axes if a not in left.axes)
    return Named(op(align(left, axes), align(right, axes)), axes)


def apply(fn, t: Named) -> Named:
    return Named(fn(t.data), t.axes)


def reduce_sum(t: Named, axes: tuple[str, ...]) -> Named:
    keep = tuple(a for a in t.axes if a not in axes)
    data = np.sum(t.data, axis=tuple(t.axes.index(a) for a in axes)) if axes else t.data
    return Named(np.asarray(data), keep)


def reduce_mean(t: Named, axes: tuple[str, ...]) -> Named:
    count = int(np.prod([t.size(a) for a in axes]))
    summed = reduce_sum(t, axes)
    return Named(summed.data / count, summed.axes)


def normalize(t: Named, axes: tuple[str, ...], epsilon: float) -> Named:
    """Standardises over `axes`, keeping them: (t - mean) / sqrt(var + epsilon)."""
    positions = tuple(t.axes.index(a) for a in axes)
    mean = np.mean(t.data, axis=positions, keepdims=True)
    centred = t.data - mean
    variance = np.mean(centred * centred, axis=positions, keepdims=True)
    return Named(centred / np.sqrt(variance + epsilon), t.axes)


def take(t: Named, axis: str, index: int) -> Named:
    position = t.axes.index(axis)
    return Named(np.take(t.data, index, axis=position), t.axes[:position] + t.axes[position + 1:])


def slice_axis(t: Named, axis: str, low: int, high: int) -> Named:
    position = t.axes.index(axis)
    index = [slice(None)] * len(t.axes)
    index[position] = slice(low, high)
    return Named(t.data[tuple(index)], t.axes)


def rename(t: Named, mapping: dict[str, str]) -> Named:
    return Named(t.data, tuple(mapping.get(a, a) for a in t.axes))
