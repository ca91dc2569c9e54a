"""Arrays with named axes (rulec/ir/named.py), which the NumPy reference and the JAX lowering share: each function
against the same computation written in plain NumPy, on NumPy arrays and on jax.numpy ones."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
import pytest

from rulec.ir import named as nm

RNG = np.random.default_rng(0)
A = RNG.normal(size=(2, 3, 4))  # axes i, j, c
B = RNG.normal(size=(4, 3))  # axes c, j


@pytest.fixture(params=[np, jnp], ids=["numpy", "jax"])
def xp(request):
    return request.param


def named(xp, data, axes) -> nm.Named:
    return nm.Named(xp.asarray(data, xp.float32), axes)


def close(t: nm.Named, axes: tuple[str, ...], expected) -> None:
    assert t.axes == axes
    np.testing.assert_allclose(np.asarray(t.data), expected, rtol=1e-5, atol=1e-6)


def test_align_transposes_and_adds_a_unit_axis_for_each_missing_name(xp):
    aligned = nm.align(named(xp, A, ("i", "j", "c")), ("c", "batch", "i", "j"))
    np.testing.assert_allclose(np.asarray(aligned), np.transpose(A, (2, 0, 1))[:, None], rtol=1e-6)


def test_combine_broadcasts_by_name(xp):
    product = nm.combine(lambda a, b: a * b, named(xp, A, ("i", "j", "c")), named(xp, B, ("c", "j")))
    close(product, ("i", "j", "c"), np.einsum("ijc,cj->ijc", A, B))
    outer = nm.combine(lambda a, b: a - b, named(xp, B, ("c", "j")), named(xp, A[:, 0, 0], ("i",)))
    close(outer, ("c", "j", "i"), B[:, :, None] - A[:, 0, 0][None, None, :])


def test_sums_and_means_run_over_the_named_axes(xp):
    t = named(xp, A, ("i", "j", "c"))
    close(nm.reduce_sum(t, ("i", "c")), ("j",), A.sum(axis=(0, 2)))
    close(nm.reduce_mean(t, ("j",)), ("i", "c"), A.mean(axis=1))
    assert nm.reduce_sum(t, ()) is t


def test_normalize_standardises_over_the_axes_and_keeps_them(xp):
    mean, variance = A.mean(axis=(0, 1), keepdims=True), A.var(axis=(0, 1), keepdims=True)
    close(nm.normalize(named(xp, A, ("i", "j", "c")), ("i", "j"), 1e-3), ("i", "j", "c"),
          (A - mean) / np.sqrt(variance + 1e-3))


def test_take_slice_stack_and_rename(xp):
    t = named(xp, A, ("i", "j", "c"))
    close(nm.take(t, "j", 2), ("i", "c"), A[:, 2, :])
    close(nm.slice_axis(t, "c", 1, 3), ("i", "j", "c"), A[:, :, 1:3])
    close(nm.stack([nm.take(t, "c", 3), nm.take(t, "c", 0)], "s"), ("s", "i", "j"), A[:, :, [3, 0]].transpose(2, 0, 1))
    close(nm.rename(t, {"c": "d", "x": "y"}), ("i", "j", "d"), A)


def test_a_repeated_name_reads_the_diagonal(xp):
    square = RNG.normal(size=(3, 2, 3))  # nu[d, e, d]
    close(nm.diagonal(named(xp, square, ("d", "e", "d"))), ("e", "d"), np.einsum("ded->ed", square))
    twice = RNG.normal(size=(2, 2, 3, 3))  # two repeated names: m[a, a, b, b]
    close(nm.diagonal(named(xp, twice, ("a", "a", "b", "b"))), ("a", "b"), np.einsum("aabb->ab", twice))


def test_max_logsumexp_and_softmax(xp):
    t = named(xp, A, ("i", "j", "c"))
    close(nm.reduce_max(t, ("j", "c")), ("i",), A.max(axis=(1, 2)))
    close(nm.logsumexp(t, ("c",)), ("i", "j"), np.log(np.exp(A).sum(axis=2)))
    close(nm.softmax(t, ("j",)), ("i", "j", "c"), np.exp(A) / np.exp(A).sum(axis=1, keepdims=True))
    # Far past exp's float32 range (88), the maximum taken out keeps both finite and exact: against the float32
    # inputs, shifted back in float64.
    far = named(xp, A + 1000.0, ("i", "j", "c"))
    shifted = np.asarray(far.data, np.float64) - 1000.0
    close(nm.logsumexp(far, ("c",)), ("i", "j"), np.log(np.exp(shifted).sum(axis=2)) + 1000.0)
    close(nm.softmax(far, ("j",)), ("i", "j", "c"), np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True))
    assert set(nm.REDUCTIONS) == {"max", "logsumexp", "softmax"}
