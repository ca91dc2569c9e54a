"""The shape of a network: its layers' sizes, which of them are images, and which adjacent pairs convolve.

A convolutional pair is a dense pair over patches (docs/language.md, "Convolutional networks"): its pre index
ranges over one receptive field (input channels x kernel rows x kernel columns, channel-major, then the bias
unit), its post index over the output channels, and every output position is one more example. An image layer
is stored flat, [batch, height x width x channels] in that order, so a dense pair after it sees it flattened.
Padding is "same": a convolution of stride s keeps ceil(size / s) positions per axis, padded with zero neurons,
the larger half of the padding after the image as XLA's "SAME".

This module is pure NumPy: it computes the index tables with which an interpreter cuts a layer into patches and
puts patches back, and knows nothing of rules.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

Image = tuple[int, int, int]  # height, width, channels
Roles = Mapping[Any, int]  # an instance's layer of each role name (rulec.ir's Role is a str)


@dataclasses.dataclass(frozen=True)
class Conv:
    """A convolutional layer: `channels` output channels, a square `kernel`, a `stride`, "same" padding."""

    channels: int
    kernel: int
    stride: int = 1

    def __post_init__(self) -> None:
        if not all(isinstance(n, (int, np.integer)) and not isinstance(n, bool)
                   for n in (self.channels, self.kernel, self.stride)):
            raise ValueError(f"a convolution's channels, kernel and stride are whole numbers, got channels "
                             f"{self.channels!r}, kernel {self.kernel!r}, stride {self.stride!r}")
        if min(self.channels, self.kernel, self.stride) < 1:
            raise ValueError(f"a convolution needs positive channels, kernel and stride, got {self}")
        if self.stride > self.kernel:
            raise ValueError(f"a convolution's stride ({self.stride}) may not exceed its kernel ({self.kernel}): "
                             "every neuron must be in some patch")

    def __str__(self) -> str:
        return f"conv{self.channels}k{self.kernel}" + (f"s{self.stride}" if self.stride != 1 else "")


@dataclasses.dataclass(frozen=True)
class ConvPair:
    """One convolution from an image `image` to the image of its positions."""

    image: Image
    conv: Conv

    @property
    def positions_shape(self) -> tuple[int, int]:
        return tuple(math.ceil(n / self.conv.stride) for n in self.image[:2])  # type: ignore[return-value]

    @property
    def positions(self) -> int:
        return math.prod(self.positions_shape)

    @property
    def output(self) -> Image:
        return (*self.positions_shape, self.conv.channels)

    @property
    def receptive_field(self) -> int:
        """The pre index's range without the bias unit: in-channels x kernel x kernel."""
        return self.image[2] * self.conv.kernel ** 2

    def _offsets(self, axis: int) -> np.ndarray:
        """[positions along the axis, kernel]: the image row (or column) each kernel tap reads, -1 in padding."""
        size, (count, k, s) = self.image[axis], (self.positions_shape[axis], self.conv.kernel, self.conv.stride)
        before = max((count - 1) * s + k - size, 0) // 2
        rows = np.arange(count)[:, None] * s - before + np.arange(k)[None, :]
        return np.where((rows >= 0) & (rows < size), rows, -1)

    @functools.cached_property
    def patch_table(self) -> np.ndarray:
        """[positions, receptive field]: the flat neuron each patch entry holds, or -1 for a padding neuron."""
        height, width, channels = self.image
        rows, cols = self._offsets(0), self._offsets(1)
        k = self.conv.kernel
        # [py, px, c, dy, dx]
        r = rows[:, None, None, :, None]
        c = cols[None, :, None, None, :]
        channel = np.arange(channels)[None, None, :, None, None]
        flat = (r * width + c) * channels + channel
        table = np.where((r >= 0) & (c >= 0), flat, -1)
        return table.reshape(self.positions, channels * k * k)

    @functools.cached_property
    def home_table(self) -> np.ndarray:
        """[neurons]: for each neuron of the image, the flat index (position x receptive field + entry) of one
        patch entry that holds it. A value that is the same in every patch holding a neuron is read back there."""
        table = self.patch_table.reshape(-1)
        home = np.full(math.prod(self.image), -1)
        real = np.flatnonzero(table >= 0)
        home[table[real]] = real  # any patch holding the neuron will do; NumPy keeps the last
        assert (home >= 0).all()
        return home


@dataclasses.dataclass(frozen=True)
class Geometry:
    """Every layer's flat size (`sizes`, input first), image shape (None for a dense layer), and, per adjacent
    pair, its convolution (None for a dense pair)."""

    sizes: tuple[int, ...]
    images: tuple[Image | None, ...]
    convs: tuple[ConvPair | None, ...]

    @property
    def convolutional(self) -> bool:
        return any(self.convs)

    def pair(self, roles: Roles) -> ConvPair | None:
        """The convolution of the instance bound by `roles`, when it is a convolutional pair."""
        if "pre" in roles and "post" in roles and roles["post"] == roles["pre"] + 1:
            return self.convs[roles["pre"]]
        return None

    def examples(self, roles: Roles) -> int:
        """How many examples each example of the batch is in this instance: the positions of a convolutional
        pair or of a lateral instance on an image layer, 1 elsewhere."""
        pair = self.pair(roles)
        if pair is not None:
            return pair.positions
        image = self.lateral_image(roles)
        return 1 if image is None else image[0] * image[1]

    def lateral_image(self, roles: Roles) -> Image | None:
        """The image of a lateral instance (`post` bound alone) on an image layer, whose index joins channels."""
        if set(roles) == {"post"} and roles["post"] > 0:
            return self.images[roles["post"]]
        return None

    def layer_size(self, roles: Roles) -> Callable[[str], int]:
        """The neurons (bias unit left out) each role's index ranges over in the instance bound by `roles`."""
        pair = self.pair(roles)
        image = self.lateral_image(roles)

        def size(role: str) -> int:
            if pair is not None and role == "pre":
                return pair.receptive_field
            if pair is not None and role == "post":
                return pair.conv.channels
            if image is not None:
                return image[2]
            return self.sizes[roles[role]]

        return size


LayerSpec = int | Sequence[int] | Conv


def geometry(layers: Sequence[LayerSpec] | Geometry) -> Geometry:
    """A network's geometry from its layers, input first: ints (dense layers), an (height, width, channels)
    input image, and `Conv`s. A plain list of ints is an MLP."""
    if isinstance(layers, Geometry):
        return layers
    layers = list(layers)
    if len(layers) < 2:
        raise ValueError(f"a network needs at least two layers, got {layers}")
    first = layers[0]
    image: Image | None = None
    if not isinstance(first, (int, np.integer, Conv)):
        given = tuple(int(n) for n in first)
        if len(given) != 3 or min(given) < 1:
            raise ValueError(f"an input image is (height, width, channels), got {first}")
        image = (given[0], given[1], given[2])
    elif isinstance(first, Conv):
        raise ValueError("the first layer is the input: an image shape (height, width, channels) or a size")
    sizes = [math.prod(image) if image else int(first)]  # type: ignore[arg-type]
    images: list[Image | None] = [image]
    convs: list[ConvPair | None] = []
    for layer in layers[1:]:
        if isinstance(layer, Conv):
            if image is None:
                raise ValueError(f"`{layer}` needs an image before it: the input (height, width, channels) or "
                                 "another convolution, not a dense layer")
            pair = ConvPair(image, layer)
            image = pair.output
            convs.append(pair)
        elif isinstance(layer, (int, np.integer)) and not isinstance(layer, bool):
            image = None
            convs.append(None)
        else:
            raise ValueError(f"a layer after the input is a size or a rulec.Conv, got {layer!r}")
        images.append(image)
        sizes.append(math.prod(image) if image else int(layer))  # type: ignore[arg-type]
    if min(sizes) < 1:
        raise ValueError(f"a network needs layers of at least one neuron, got {sizes}")
    if images[-1] is not None:
        raise ValueError("the output layer is dense: end the network with a size (its classes)")
    return Geometry(tuple(sizes), tuple(images), tuple(convs))


def slips(geometry_: Geometry) -> list[str]:
    """What a network's convolutions do that is most likely a slip, worded for a warning: a kernel larger than its
    input image, so that every patch is partly padding."""
    return [f"`{pair.conv}` reads {pair.conv.kernel}x{pair.conv.kernel} patches of an "
            f"image of {'x'.join(map(str, pair.image[:2]))}: every patch is partly padding; a kernel no larger than "
            "the image is cheaper" for pair in geometry_.convs
            if pair is not None and pair.conv.kernel > max(pair.image[:2])]


_CONV = re.compile(r"conv(\d+)k(\d+)(?:s(\d+))?")
_IMAGE = re.compile(r"(\d+)x(\d+)x(\d+)")
SPEC_EXAMPLE = "conv16k5s2,conv32k5s2,256 (convCHANNELSkKERNELsSTRIDE, the stride 1 when left out) or 256,128"


def parse_layer(text: str) -> LayerSpec:
    """One item of a layer spec: `256`, `conv16k5s2` (16 channels, kernel 5, stride 2; `s` optional) or an input
    image `28x28x1`. Raises ValueError saying what to write."""
    text = text.strip()
    if text.isdigit():
        return int(text)
    conv = _CONV.fullmatch(text)
    if conv:
        return Conv(int(conv[1]), int(conv[2]), int(conv[3] or 1))
    image = _IMAGE.fullmatch(text)
    if image:
        return tuple(int(n) for n in image.groups())
    raise ValueError(f"cannot read the layer {text!r}: write a size such as 256, a convolution such as conv16k5s2 "
                     "(16 channels, kernel 5, stride 2) or an input image such as 28x28x1")


def parse_spec(text: str) -> list[LayerSpec]:
    """A comma-separated layer spec, such as `conv16k5s2,conv32k5s2,256`."""
    return [parse_layer(part) for part in text.split(",")]


def parse_hidden(text: str) -> tuple[int | Conv, ...]:
    """Hidden layers written as a spec, `conv16k5s2,conv32k5s2,256`: sizes and convolutions, the input and the
    output coming from the data. Raises ValueError saying what to write."""
    layers = parse_spec(text)
    hidden = tuple(layer for layer in layers if isinstance(layer, Conv) or (isinstance(layer, int) and layer >= 1))
    if len(hidden) != len(layers):
        raise ValueError(f"expected hidden layers such as {SPEC_EXAMPLE}: the input comes from the data")
    return hidden


def on_data(hidden: Sequence[LayerSpec], inputs: int, image: Image | None, classes: int) -> list[LayerSpec]:
    """The layers of a network on a dataset: its input (its image, when a convolution needs one), the hidden
    layers, and its classes. Raises ValueError saying what to write."""
    if any(isinstance(layer, Conv) for layer in hidden):
        if image is None:
            raise ValueError("a convolution needs images, and this data has none: give dense layers such as 256,128, "
                             "or use image data (digits, mnist5k, fashion, cifar10)")
        return [image, *hidden, classes]
    return [inputs, *hidden, classes]


def describe(geometry_: Geometry, separator: str = "-") -> str:
    """`8x8x1-conv4k3s2-10`: the layers as a spec reads them; with `separator` ",", the spec itself, which
    `parse_spec` (and `Rule.network`) reads back."""
    parts = []
    for n, size in enumerate(geometry_.sizes):
        conv = geometry_.convs[n - 1] if n else None
        image = geometry_.images[n]
        parts.append(str(conv.conv) if conv else ("x".join(map(str, image)) if image else str(size)))
    return separator.join(parts)
