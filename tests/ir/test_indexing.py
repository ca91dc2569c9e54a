"""What a load reads and a write covers (rulec/ir/indexing.py), which the NumPy reference and the JAX lowering
share: each function against the same indexing written in plain NumPy, on NumPy arrays and on jax.numpy ones."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
import pytest

from rulec.diagnostics import Source, Span
from rulec.functions import PAIRWISE
from rulec.ir import indexing
from rulec.ir import named as nm
from rulec.ir import nodes as ir

RNG = np.random.default_rng(0)
SIZES = {"pre": 3, "post": 2}  # neurons of each role's layer, without the bias unit
SPAN = Span(Source("test.rule", ""), 1, 1, 1, 1)

# w[i, j, c] on a synapse from pre+bias: the stored pre axis has a bias row (4 rows for 3 neurons).
I_NO_BIAS = ir.Layer("i", "pre", bias=False, axis_bias=True)
I_BIAS = ir.Layer("i", "pre", bias=True, axis_bias=True)
J = ir.Layer("j", "post", bias=False, axis_bias=False)
C = ir.State("c", 3)
W = RNG.normal(size=(4, 2, 3))


@pytest.fixture(params=[np, jnp], ids=["numpy", "jax"])
def xp(request):
    return request.param


def close(t: nm.Named, axes: tuple[str, ...], expected) -> None:
    assert t.axes == axes
    np.testing.assert_allclose(np.asarray(t.data), expected, rtol=1e-5, atol=1e-6)


def test_a_load_without_the_bias_drops_its_row_and_a_state_range_narrows(xp):
    stored = nm.Named(xp.asarray(W, xp.float32), ("p", "q", "r"))
    close(indexing.select(stored, ("p", "q", "r"), (I_NO_BIAS, J, C), SIZES.get, {}), ("i", "j", "c"), W[:3])
    close(indexing.select(stored, ("p", "q", "r"), (I_BIAS, J, C), SIZES.get, {"c": (1, 3)}), ("i", "j", "c"),
          W[:, :, 1:3])


def test_a_fixed_state_is_picked_and_its_axis_dropped(xp):
    stored = nm.Named(xp.asarray(W, xp.float32), ("p", "q", "r"))
    positions = (I_BIAS, J, ir.StateAt(2))
    assert indexing.axis_names(positions) == ("i", "j", "#2")
    close(indexing.select(stored, ("p", "q", "r"), positions, SIZES.get, {}), ("i", "j"), W[:, :, 2])


def test_an_index_used_twice_reads_the_diagonal(xp):
    nu = RNG.normal(size=(3, 3))
    d = ir.State("d", 3)
    close(indexing.select(nm.Named(xp.asarray(nu, xp.float32), ("#0", "#1")), ("#0", "#1"), (d, d), SIZES.get, {}),
          ("d",), np.diagonal(nu))


def test_a_let_is_read_like_a_stored_array():
    """A let computed over all states and over pre+bias, read at `z[i, c]` without the bias in `for c in 1..3`."""
    value = nm.Named(RNG.normal(size=(3, 4)), ("c", "i"))
    close(indexing.load_let(value, (C, I_BIAS), (C, I_NO_BIAS), SIZES.get, {"c": (1, 3)}), ("c", "i"),
          value.data[1:3, :3])


def test_a_write_covers_its_cut_and_broadcasts_the_value_into_it(xp):
    """`w[i, j, c] := v[j, i]` for i in pre (no bias) and c in 1..2: the value is transposed and spread over c."""
    region = indexing.cuts((I_NO_BIAS, J, C), SIZES.get, {"c": (1, 2)})
    assert region == (indexing.Cut(slice(0, 3), "i", False), indexing.Cut(slice(None), "j", True),
                      indexing.Cut(slice(1, 2), "c", False))
    assert indexing.cuts((I_BIAS, J, C), SIZES.get, {})[::2] == (indexing.Cut(slice(None), "i", True),
                                                                indexing.Cut(slice(0, 3), "c", True))
    value = RNG.normal(size=(2, 3))
    old = xp.asarray(W, xp.float32)
    selector, data = indexing.placed(old, region, nm.Named(xp.asarray(value), ("j", "i")))
    assert data.dtype == old.dtype  # NumPy's float64 value is stored as float32
    written, expected = np.array(old), np.array(W, np.float32)
    written[selector] = np.asarray(data)
    expected[:3, :, 1:2] = value.T[:, :, None]
    np.testing.assert_allclose(written, expected, rtol=1e-6)


def test_a_write_of_a_fixed_state_covers_that_state_alone():
    region = indexing.cuts((J, ir.StateAt(0)), SIZES.get, {})
    selector, data = indexing.placed(np.zeros((2, 3)), region, nm.scalar(5.0))
    written = np.zeros((2, 3))
    written[selector] = data
    np.testing.assert_array_equal(written, [[5, 0, 0], [5, 0, 0]])


def test_per_state_applies_each_states_function_to_its_state(xp):
    functions = {"tanh": [xp.tanh, lambda x: 1 - xp.tanh(x) ** 2], "exp": [xp.exp]}  # name -> its derivatives
    arg = RNG.normal(size=(2, 3))  # axes j, c
    each = ir.PerState((("tanh", 0), ("tanh", 1), ("exp", 0)), C, ir.Const(0.0, SPAN), SPAN)
    named = nm.Named(xp.asarray(arg), ("j", "c"))
    close(indexing.per_state(each, named, functions, {}), ("c", "j"),
          [np.tanh(arg[:, 0]), 1 - np.tanh(arg[:, 1]) ** 2, np.exp(arg[:, 2])])
    # In a range the states of `arg` are those of the range; an `arg` without the state axis serves every state.
    close(indexing.per_state(each, nm.Named(xp.asarray(arg[:, 1:]), ("j", "c")), functions, {"c": (1, 3)}),
          ("c", "j"), [1 - np.tanh(arg[:, 1]) ** 2, np.exp(arg[:, 2])])
    close(indexing.per_state(each, nm.Named(xp.asarray(arg[:, 0]), ("j",)), functions, {}), ("c", "j"),
          [np.tanh(arg[:, 0]), 1 - np.tanh(arg[:, 0]) ** 2, np.exp(arg[:, 0])])
    fixed = ir.PerState(each.functions, ir.StateAt(2), each.arg, SPAN)
    close(indexing.per_state(fixed, named, functions, {}), ("j", "c"), np.exp(arg))


def test_sizes_and_index_masks_count_the_bias_unit_where_the_index_has_it():
    assert indexing.size(ir.Size(I_BIAS, SPAN), SIZES.get, 8) == 4
    assert indexing.size(ir.Size(I_NO_BIAS, SPAN), SIZES.get, 8) == 3
    assert indexing.size(ir.Size(None, SPAN), SIZES.get, 8) == 8
    k = ir.Layer("k", "pre", bias=False, axis_bias=True)
    mask = indexing.index_mask(ir.IndexCompare("<=", k, I_BIAS, SPAN), SIZES.get, np, PAIRWISE["<="])
    close(mask, ("k", "i"), np.less_equal.outer(np.arange(3), np.arange(4)).astype(float))


def test_a_loss_is_elementwise_or_couples_the_outputs_along_the_neuron_axis(xp):
    prediction = nm.Named(xp.asarray(RNG.normal(size=(5, 2))), ("batch", "j"))
    target = nm.Named(xp.asarray(RNG.normal(size=(2,))), ("j",))
    p, t = np.asarray(prediction.data), np.asarray(target.data)
    close(indexing.loss(lambda a, b: (a - b) ** 2, False, prediction, target), ("batch", "j"), (p - t) ** 2)
    coupled = indexing.loss(lambda a, b, axis: a - b.sum(axis=axis, keepdims=True), True, prediction, target)
    close(coupled, ("batch", "j"), p - t.sum())
