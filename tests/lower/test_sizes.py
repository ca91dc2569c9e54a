"""`size(i)` and `size(batch)` in equations: the JAX lowering against the NumPy reference, and one step of a
fan-in-scaled Hebbian rule against the same step written out in NumPy, at several widths and batch sizes."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import rulec
from rulec.api import source_major
from tests.lower.test_equivalence import max_difference, run_both

# Sizes inside and outside reductions, of `pre+bias` and `pre` indices, of a fresh index, in a let, in the
# backward phase, and as a coefficient of a contraction.
RULE = """\
rule sizes

genome
  eta = 0.1

neuron a[2]
synapse w : pre+bias -> post ~ uniform(-1, 1)
bias 1

input (i in input)
  a[i, 0] := x[i]

forward (i in pre+bias, j in post)
  let z[j] = sum(i) w[i, j] * a[i, 0] / size(i)
  a[j, 0] := tanh(z[j] * size(j) + sum(r in pre) a[r, 0] / size(r))

feedback (j in output)
  a[j, 1] := (target[j] - a[j, 0]) / size(batch)

backward (i in pre, j in post)
  a[i, 1] := sum(j) w[i, j] * a[j, 1] * size(i) / size(j)

update (i in pre+bias, j in post)
  w[i, j] := w[i, j] + eta / size(i) * sum(batch) a[i, 0] * a[j, 1] + size(batch) * eta * mean(batch) a[i, 1] * a[j, 0] / size(i)
"""

HEBBIAN = """\
rule fan_in_hebbian

genome
  eta = 0.5

neuron a
synapse w : pre+bias -> post
bias 1

input (i in input)
  a[i] := x[i]

forward (i in pre+bias, j in post)
  a[j] := tanh(sum(i) w[i, j] * a[i])

update (i in pre+bias, j in post)
  w[i, j] := w[i, j] + eta / size(i) * sum(batch) a[i] * a[j] / size(batch)
"""


@pytest.mark.parametrize("sizes", [(3, 2), (6, 5, 3)], ids=lambda s: "-".join(map(str, s)))
def test_jax_matches_the_reference(tmp_path, sizes):
    path = tmp_path / "sizes.rule"
    path.write_text(RULE)
    with jax.enable_x64(True):
        state, ref_state = run_both(path, sizes, jnp.float64, steps=3)
    assert max_difference(state, ref_state) < 1e-9


@pytest.mark.parametrize("sizes, batch", [((4, 3), 8), ((7, 5, 2), 3), ((2, 9, 4), 16)])
def test_a_fan_in_scaled_batch_mean_is_what_numpy_computes(tmp_path, sizes, batch):
    path = tmp_path / "hebbian.rule"
    path.write_text(HEBBIAN)
    net = rulec.load(path).network(sizes)
    genome = {"eta": jnp.asarray(0.5)}
    state = net.init(jax.random.key(0))
    x = np.random.default_rng(1).normal(size=(batch, sizes[0])).astype(np.float32)
    stepped = net.step(genome, state, jnp.asarray(x), jnp.zeros((batch, sizes[-1])))

    activity = x
    for before, after in zip(state.synapses["w"], stepped.synapses["w"]):
        w = np.asarray(source_major(before), np.float64)  # [pre + bias, post]
        with_bias = np.concatenate([activity, np.ones((batch, 1))], axis=1)
        post = np.tanh(with_bias @ w)
        expected = w + 0.5 / (w.shape[0]) * with_bias.T @ post / batch
        np.testing.assert_allclose(np.asarray(source_major(after)), expected, rtol=1e-5, atol=1e-6)
        activity = post


@pytest.mark.parametrize("scale", ["/ size(batch)", "/ (2 * size(i))", "* size(j) / 4"])
def test_a_scale_inside_a_sum_stays_one_contraction(tmp_path, scale):
    """`sum(batch) a[i] * a[j] / size(batch)` is a coefficient on one einsum: no [batch, pre, post] product is
    built, as none is for the sum without the scale."""
    path = tmp_path / "hebbian.rule"
    path.write_text(HEBBIAN.replace("* a[j] / size(batch)", f"* a[j] {scale}"))
    sizes, batch = (30, 20, 10), 16
    net = rulec.load(path).network(sizes)
    state = net.init(jax.random.key(0))
    jaxpr = jax.make_jaxpr(net.step)({"eta": jnp.asarray(0.5)}, state, jnp.ones((batch, sizes[0])),
                                     jnp.ones((batch, sizes[-1])))
    largest = max(np.prod(v.aval.shape) for eq in jaxpr.eqns for v in eq.outvars)
    assert largest < batch * sizes[0] * sizes[1]
