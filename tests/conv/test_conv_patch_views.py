"""The JAX lowering's convolutions on the layers (rulec/lower/patch_views.py): where an equation is a contraction
of convolution form it runs as lax.conv_general_dilated, with no patches gathered; where its patches hold
something else than zeros in the padding it must not, and the patch path still equals the NumPy reference."""

from __future__ import annotations

import jax
import jax.numpy as jnp

import rulec
from tests.conv.test_conv_equivalence import LAYERS, difference_from_reference

# `a[i, 0] + 0.5` and `exp(...)` are 0.5 and 1 in the padding of the patches, where a convolution reads zeros:
# the forward sum and the kernel update run on patches; the transposed sum is a convolution, and the product
# with `exp(a[i, 0])` is computed on the layer. `sum(batch) a[i, 0] * a[i, 1]` is a product of two patch arrays
# over the same pre index, not a kernel update.
PADDED = """
rule padded
genome
  lr = 0.01
loss mse
neuron a[2]
synapse w : pre+bias -> post ~ uniform(-1, 1) / sqrt(fan_in)
bias 1

input (i in input)
  a[i, 0] := x[i]

forward (i in pre+bias, j in post)
  a[j, 0] := tanh(sum(i) w[i, j] * (a[i, 0] + 0.5))

feedback (j in output)
  a[j, 1] := a[j, 0] - target[j]

backward (i in pre, j in post)
  a[i, 1] := exp(a[i, 0]) * sum(j) w[i, j] * a[j, 1]

update (i in pre, j in post)
  w[i, j] := w[i, j] - lr * (sum(batch) exp(a[i, 1]) * a[j, 1] + sum(batch) a[i, 0] * a[i, 1])
"""


def hlo(net, batch: int = 2) -> str:
    genome, state = net.init_genome(jax.random.key(0)), net.init(jax.random.key(1))
    x, y = jnp.zeros((batch, net.sizes[0])), jnp.zeros((batch, net.sizes[-1]))
    return jax.jit(net.step).lower(genome, state, x, y).compile().as_text()


def test_backprop_on_a_convnet_gathers_no_patches():
    text = hlo(rulec.load("stdlib_rules/backprop.rule").network(LAYERS))
    assert "convolution(" in text and "gather(" not in text


def test_patches_that_are_not_zero_in_the_padding_take_the_patch_path_and_equal_the_reference():
    rule = rulec.loads(PADDED, "padded.rule")
    assert "gather(" in hlo(rule.network(LAYERS))
    assert difference_from_reference(rule) < 1e-10


def test_blur_with_two_states_crosses_them_in_one_kernel_update_and_equals_the_reference():
    # With k = 2 the Hebbian updates of w and wb run as one kernel update of every state with every state
    # (patch_views.Views.crossed_update); the stdlib's blur runs with k = 4, where they do not.
    assert difference_from_reference(rulec.load("stdlib_rules/blur.rule", k=2)) < 1e-10

