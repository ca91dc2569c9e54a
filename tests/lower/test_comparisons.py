"""Comparisons, masks, maximum/minimum and the max, logsumexp and softmax reductions: the JAX lowering against
the NumPy reference, on values where an exp without the maximum taken out would overflow, and against NumPy."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from rulec.ir import named as nm
from tests.lower.test_equivalence import max_difference, run_both

RULE = """\
rule masks

genome
  eta = 0.01

neuron a[2]
synapse w : pre+bias -> post ~ uniform(-1, 1)
bias 1

input (i in input)
  a[i, 0] := x[i]

forward (i in pre+bias, j in post)
  let z[j] = sum(i) w[i, j] * a[i, 0]
  a[j, 0] := maximum(z[j], 0) + minimum(z[j], -1) * [z[j] <= 0.5] + (z[j] > 0.2)
  a[j, 1] := softmax(j) (1000 * z[j]) + logsumexp(k in post) 1000 * z[k] - max(k in post) 1000 * z[k]

update (i in pre+bias, j in post)
  w[i, j] := w[i, j] + eta * mean(batch) a[j, 1] * (a[i, 0] - sum(k in post, k < j) w[i, k] * a[k, 0])
           + eta * mean(batch) sum(r in pre+bias, r >= i) a[r, 0] * a[j, 0]
"""


@pytest.mark.parametrize("sizes", [(3, 2), (6, 5, 3)], ids=lambda s: "-".join(map(str, s)))
def test_jax_matches_the_reference_and_stays_finite(tmp_path, sizes):
    path = tmp_path / "masks.rule"
    path.write_text(RULE)
    with jax.enable_x64(True):
        state, ref_state = run_both(path, sizes, jnp.float64, steps=3)
    assert all(np.all(np.isfinite(b)) for arrays in ref_state.synapses.values() for b in arrays)
    assert max_difference(state, ref_state) < 1e-6


@pytest.mark.parametrize("xp", [np, jnp], ids=["numpy", "jax"])
def test_reductions_match_numpy_on_large_values(xp):
    data = np.array([[1000.0, 999.0, -5.0], [-1000.0, -1001.0, -1002.0]])
    t = nm.Named(xp.asarray(data), ("batch", "j"))
    shifted = data - data.max(axis=1, keepdims=True)
    expected_lse = data.max(axis=1) + np.log(np.exp(shifted).sum(axis=1))
    np.testing.assert_allclose(np.asarray(nm.logsumexp(t, ("j",)).data), expected_lse, rtol=1e-6)
    np.testing.assert_allclose(np.asarray(nm.softmax(t, ("j",)).data),
                               np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True), rtol=1e-6)
    np.testing.assert_allclose(np.asarray(nm.reduce_max(t, ("batch",)).data), data.max(axis=0))
