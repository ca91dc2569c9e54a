"""A convolutional pair's contractions in XLA: as convolutions on the layer where they have that form, and the
patch path's fold, without a scatter, where they do not.

Where an equation on a convolutional pair is a contraction of convolution form (rulec/lower/patch_views.py says
which), it runs on the pre layer's neurons as `lax.conv_general_dilated` (`convolve`), its input transpose
(`convolve_transposed`, the transposed sum already summed over the patches) or its kernel transpose
(`kernel_gradient`; `kernel_gradients` for every state of one layer with every state of the other). Measured on the
CPU, batch 128, with `python benchmarks/conv_bench.py forms` (ms, as a convolution against the patch path: gathered
patches, a matmul, and for the transposed sum the fold and a second cut):
    layer       forward        transposed      kernel update
    28x28x1     0.8 vs 1.2     2.0 vs 13.0     1.2 vs 1.1
    14x14x32    7.4 vs 17.0    10.1 vs 116.7   11.0 vs 21.7
The kernel update of a one-channel image is a tie (in a busier run, 3.1 vs 1.6 ms); every form is a convolution.

Everything else runs on patches (rulec/ir/spatial.py). There, the fold (each neuron's sum over the patches that
hold it, the transpose of cutting patches) dilates each kernel offset's slab by the stride with `lax.pad` and adds
it at its offset; the NumPy reference scatter-adds over its index tables. Measured for 14x14x32 -> conv64k5s2:
this fold takes 38 ms, a gather-and-sum over the index tables 73 ms, the linear transpose of
lax.conv_general_dilated_patches 1.6 s; the gather cuts patches in 27 ms, against 62 ms for
lax.conv_general_dilated_patches and 176 ms for strided slices stacked.
"""
from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from rulec.geometry import ConvPair


def _padding(pair: ConvPair) -> tuple[tuple[int, int], tuple[int, int]]:
    """(before, after) zero rows and columns of "same" padding, the larger half after."""
    k, s = pair.conv.kernel, pair.conv.stride
    pads = []
    for size, count in zip(pair.image[:2], pair.positions_shape):
        total = max((count - 1) * s + k - size, 0)
        pads.append((total // 2, total - total // 2))
    return pads[0], pads[1]


def _rest_first(data):
    """[batch, width, rest...] -> [rest..., batch, width], so that the rest joins the batch."""
    rest = tuple(np.shape(data)[2:])
    return (jnp.moveaxis(data, (0, 1), (-2, -1)) if rest else data), rest


def _rest_last(data, rest: tuple[int, ...]):
    return jnp.moveaxis(data, (-2, -1), (0, 1)) if rest else data


def fold(data, pair: ConvPair):
    """[batch x positions, receptive field, rest...] -> [batch, neurons, rest...]: the transpose of `patches`."""
    moved, rest = _rest_first(data)
    (height, width, channels), k, s = pair.image, pair.conv.kernel, pair.conv.stride
    rows, cols = pair.positions_shape
    slabs = jnp.reshape(moved, (-1, rows, cols, channels, k, k))
    full = ((rows - 1) * s + k, (cols - 1) * s + k)
    zero = jnp.zeros((), data.dtype)
    total = jnp.zeros((slabs.shape[0],) + full + (channels,), data.dtype)
    for dy in range(k):
        for dx in range(k):
            total = total + jax.lax.pad(slabs[..., dy, dx], zero, [
                (0, 0, 0), (dy, full[0] - dy - (rows - 1) * s - 1, s - 1),
                (dx, full[1] - dx - (cols - 1) * s - 1, s - 1), (0, 0, 0)])
    (top, _), (left, _) = _padding(pair)
    images = total[:, top:top + height, left:left + width]
    return _rest_last(jnp.reshape(images, rest + (-1, height * width * channels)), rest)


def cut(source, pair: ConvPair, fill=None):
    """[..., batch, neurons] -> [..., batch x positions, receptive field]: the patches of `source`, whose padding
    holds `fill` (broadcastable to the leading axes; None for zero)."""
    lead = source.shape[:-2]
    moved = jnp.moveaxis(source, tuple(range(len(lead))), tuple(range(2, 2 + len(lead))))
    batch = moved.shape[0]
    row = jnp.zeros((batch, 1) + lead, source.dtype) if fill is None else jnp.broadcast_to(
        jnp.asarray(fill, source.dtype), (batch, 1) + lead)
    table = np.where(pair.patch_table >= 0, pair.patch_table, moved.shape[1])  # padding reads the fill row
    taken = jnp.take(jnp.concatenate([moved, row], axis=1), table.reshape(-1), axis=1)
    shaped = jnp.reshape(taken, (batch * pair.positions, pair.receptive_field) + lead)
    return jnp.moveaxis(shaped, tuple(range(2, 2 + len(lead))), tuple(range(len(lead))))


def _promoted(*arrays):
    """The arrays in their common type, as an einsum would promote them (a convolution does not)."""
    dtype = jnp.result_type(*arrays)
    return [jnp.asarray(a, dtype) for a in arrays]


def _kernel(weights, pair: ConvPair):
    """[receptive field (channels, dy, dx), out] -> [k, k, channels, out] (HWIO)."""
    k = pair.conv.kernel
    return jnp.transpose(jnp.reshape(weights, (pair.image[2], k, k, -1)), (1, 2, 0, 3))


def _convolve(images, kernel, pair: ConvPair):
    """[batch, height, width, channels] * HWIO -> [batch, rows, cols, out], the patches' "same" padding."""
    s = pair.conv.stride
    return jax.lax.conv_general_dilated(images, kernel, (s, s), _padding(pair),
                                        dimension_numbers=("NHWC", "HWIO", "NHWC"))


def convolve(source, weights, pair: ConvPair):
    """sum(i) weights[i, j] * patches(source)[b, i]: [batch, neurons] x [receptive field, out] ->
    [batch x positions, out]."""
    source, weights = _promoted(source, weights)
    images = jnp.reshape(source, (-1,) + pair.image)
    out = _convolve(images, _kernel(weights, pair), pair)
    return jnp.reshape(out, (-1, out.shape[-1]))


def convolve_transposed(weights, post, pair: ConvPair):
    """fold(sum(j) weights[i, j] * post[b, j]): [receptive field, out] x [batch x positions, out] ->
    [batch, neurons], each neuron summed over the patches holding it (the input transpose of `convolve`)."""
    weights, post = _promoted(weights, post)
    kernel = _kernel(weights, pair)
    cotangent = jnp.reshape(post, (-1,) + pair.output[:2] + (post.shape[-1],))
    shape = jax.ShapeDtypeStruct((cotangent.shape[0],) + pair.image, post.dtype)
    (images,) = jax.linear_transpose(lambda images: _convolve(images, kernel, pair), shape)(cotangent)
    return jnp.reshape(images, (images.shape[0], -1))


def kernel_gradient(source, post, pair: ConvPair):
    """sum(batch) patches(source)[b, i] * post[b, j]: [batch, neurons] x [batch x positions, out] ->
    [receptive field, out] (the kernel transpose of `convolve`)."""
    return kernel_gradients(source[None], post[None], pair)[0, 0]


def kernel_gradients(sources, posts, pair: ConvPair):
    """`kernel_gradient` of every source with every post: [e, batch, neurons] x [d, batch x positions, out] ->
    [e, d, receptive field, out], as one kernel transpose, the entries e and d laid on the channel axes (a
    grouped convolution would pair them one to one, and was measured slower, see `patch_views._mapped`)."""
    sources, posts = _promoted(sources, posts)
    count, batch = sources.shape[:2]
    images = jnp.reshape(jnp.moveaxis(jnp.reshape(sources, (count, batch) + pair.image), 0, -2),
                         (batch,) + pair.image[:2] + (-1,))
    cotangent = jnp.reshape(jnp.moveaxis(jnp.reshape(posts, (posts.shape[0], batch) + pair.output[:2] + (-1,)),
                                         0, -2), (batch,) + pair.output[:2] + (-1,))
    k, channels = pair.conv.kernel, pair.image[2]
    shape = jax.ShapeDtypeStruct((k, k, count * channels, cotangent.shape[-1]), cotangent.dtype)
    (kernel,) = jax.linear_transpose(lambda kernel: _convolve(images, kernel, pair), shape)(cotangent)
    blocks = jnp.reshape(kernel, (k, k, count, channels, posts.shape[0], -1))
    return jnp.reshape(jnp.transpose(blocks, (2, 4, 3, 0, 1, 5)),
                       (count, posts.shape[0], pair.receptive_field, -1))
