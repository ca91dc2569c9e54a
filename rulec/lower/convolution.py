"""A convolutional pair's patches in XLA: `lax.conv_general_dilated_patches` cuts a layer into patches, its linear
transpose (a transposed convolution) sums patches back onto the layer. The NumPy reference does the same with
explicit index tables (rulec/ir/spatial.py); both order a patch channel-major, as in-channels x rows x columns."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from rulec.geometry import ConvPair


def _as_images(data, pair: ConvPair):
    """[batch, neurons, rest...] -> ([rest x batch, height, width, channels], rest)."""
    rest = tuple(np.shape(data)[2:])
    moved = jnp.moveaxis(data, (0, 1), (-2, -1)) if rest else data
    return jnp.reshape(moved, (-1,) + pair.image), rest


def _from_examples(data, rest: tuple[int, ...], width: int):
    """[rest x examples, ...] -> [examples, width, rest...]."""
    shaped = jnp.reshape(data, rest + (-1, width))
    return jnp.moveaxis(shaped, (-2, -1), (0, 1)) if rest else shaped


def _cut(images, pair: ConvPair):
    return jax.lax.conv_general_dilated_patches(images, (pair.conv.kernel,) * 2, (pair.conv.stride,) * 2, "SAME",
                                                dimension_numbers=("NHWC", "OIHW", "NHWC"))


def patches(data, pair: ConvPair):
    """[batch, neurons, rest...] -> [batch x positions, receptive field, rest...]."""
    images, rest = _as_images(data, pair)
    return _from_examples(_cut(images, pair), rest, pair.receptive_field)


def fold(data, pair: ConvPair):
    """[batch x positions, receptive field, rest...] -> [batch, neurons, rest...]: the transpose of `patches`."""
    rest = tuple(np.shape(data)[2:])
    moved = jnp.moveaxis(data, (0, 1), (-2, -1)) if rest else data
    cut = jnp.reshape(moved, (-1,) + pair.positions_shape + (pair.receptive_field,))
    images = jax.ShapeDtypeStruct((cut.shape[0],) + pair.image, cut.dtype)
    (summed,) = jax.linear_transpose(lambda x: _cut(x, pair), images)(cut)
    return _from_examples(summed, rest, int(np.prod(pair.image)))
