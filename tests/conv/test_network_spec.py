"""How a convolutional network is written: rulec.Conv in a list of layers, the string spec of the API and of
`--layers`, "same" padding, and the usage errors that say what to write."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import pytest

import rulec
from rulec.experiment.choices import SettingError
from rulec.geometry import Conv, geometry, on_data, parse_spec
from tests.conftest import ROOT, run_cli


def test_a_conv_spec_gives_same_padding_positions_and_kernel_shapes():
    net = rulec.load("stdlib_rules/backprop.rule").network([(8, 8, 1), rulec.Conv(4, 3, stride=2), 16, 10])
    assert net.sizes == (64, 4 * 4 * 4, 16, 10)  # ceil(8 / 2) = 4 positions per axis, 4 channels
    state = net.init(jax.random.key(0))
    assert [w.shape for w in state.synapses["w"]] == [(1 * 3 * 3 + 1, 4), (65, 16), (17, 10)]


def test_the_string_spec_is_the_list_spec():
    assert parse_spec("28x28x1,conv16k5s2,conv32k5,256,10") == [(28, 28, 1), Conv(16, 5, 2), Conv(32, 5, 1), 256, 10]
    assert geometry(parse_spec("7x7x2,conv3k3s2,5")).sizes == (98, 4 * 4 * 3, 5)  # ceil(7 / 2) = 4


def test_a_plain_list_of_ints_keeps_its_meaning():
    layout = geometry([6, 5, 3])
    assert layout.sizes == (6, 5, 3) and not layout.convolutional


@pytest.mark.parametrize("layers, message", [
    ([64, Conv(4, 3), 10], "needs an image before it"),
    ([(8, 8, 1), Conv(4, 3)], "the output layer is dense"),
    ([(8, 8, 1), 16, Conv(4, 3), 10], "needs an image before it"),
])
def test_a_conv_where_no_image_is_refused(layers, message):
    with pytest.raises(ValueError, match=message):
        geometry(layers)


def test_a_stride_beyond_the_kernel_is_refused():
    with pytest.raises(ValueError, match="may not exceed its kernel"):
        Conv(4, 2, stride=3)


@pytest.mark.parametrize("channels", [4.5, "4", True])
def test_a_convolution_of_other_than_whole_numbers_is_refused(channels):
    with pytest.raises(ValueError, match="channels, kernel and stride are whole numbers"):
        Conv(channels, 3)


@pytest.mark.parametrize("call", ["step", "predict", "unroll"])
def test_images_not_flattened_are_refused_saying_what_to_pass(call):
    net = rulec.load("stdlib_rules/backprop.rule").network("4x4x1,conv2k2,3")
    genome, state = net.init_genome(jax.random.key(0)), net.init(jax.random.key(1))
    images, y = jnp.zeros((2, 4, 4, 1)), jnp.zeros((2, 3))
    arguments = {"step": (images, y), "predict": (images,), "unroll": (images[None], y[None])}[call]
    with pytest.raises(ValueError, match=r"x has shape \[.*2, 4, 4, 1\], and this network takes x \[.*batch, 16\], the "
                                         r"4x4x1 images flattened"):
        getattr(net, call)(genome, state, *arguments)


def test_a_malformed_item_says_what_to_write():
    with pytest.raises(ValueError, match="a convolution such as conv16k5s2"):
        parse_spec("conv16x5,256")


def test_data_without_images_cannot_convolve():
    with pytest.raises(ValueError, match="this data has none"):
        on_data([Conv(4, 3), 16], 2, None, 2)
    assert on_data([16], 2, None, 2) == [2, 16, 2]


@pytest.mark.parametrize("layers, message", [("conv4k3x,16", "cannot read the layer 'conv4k3x'"),
                                              ("8x8x1,16", "the input comes from the data")])
def test_malformed_layers_are_a_usage_error(layers, message, monkeypatch, capsys):
    code, _, err = run_cli("train", "stdlib_rules/backprop.rule", "--data", "digits", "--layers", layers,
                           "--steps", "1", monkeypatch=monkeypatch, capsys=capsys)
    assert code == 2 and message in " ".join(err.split())


@pytest.mark.parametrize("command", ["train", "compare", "meta-train"])
def test_a_conv_on_data_without_images_is_a_usage_error(command, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)  # where meta-train would write its genome
    code, out, err = run_cli(command, str(ROOT / "stdlib_rules" / "backprop.rule"), "--data", "xor", "--layers",
                             "conv4k3,16", "--steps", "1", monkeypatch=monkeypatch, capsys=capsys)
    text = " ".join(err.split())
    assert code == 2 and "Invalid value for --layers: a convolution needs images, and this data has none: give dense " \
                         "layers such as 256,128, or use image data" in text, err
    assert out == "" and "comparing" not in err and not list(tmp_path.iterdir())  # refused before anything runs


def test_the_api_compare_refuses_a_conv_on_data_without_images_before_any_rule_runs():
    with pytest.raises(SettingError, match="hidden: a convolution needs images"):
        rulec.compare(["stdlib_rules/backprop.rule"], data="xor", hidden=(Conv(4, 3), 16), steps=1, seeds=(0,))


def test_the_api_reads_hidden_layers_written_as_the_command_lines_spec():
    assert rulec.train("stdlib_rules/backprop.rule", data="digits", hidden="conv2k3s2,8", steps=1,
                       baselines=()).prepared.settings["network"] == "8x8x1-conv2k3s2-8-10"
    from rulec.experiment.meta_training import settings

    assert settings(hidden="8/conv2k3s2,8").hidden == ((8,), (Conv(2, 3, 2), 8))
    for malformed in ("conv2k3s2,,8", "8x8x1,8", "conv2k3s2,0"):  # read, not iterated over letter by letter
        with pytest.raises(SettingError, match=f"^hidden: (?!hidden:).*got {malformed!r}"):
            rulec.compare(["stdlib_rules/backprop.rule"], data="digits", hidden=malformed, steps=1, seeds=(0,))


def test_a_kernel_larger_than_its_image_is_warned_of_before_training(monkeypatch, capsys):
    code, out, err = run_cli("train", str(ROOT / "stdlib_rules" / "backprop.rule"), "--data", "digits", "--layers",
                             "conv2k3s2,conv2k5,8", "--steps", "1", "--baseline", "none", monkeypatch=monkeypatch,
                             capsys=capsys)
    text = " ".join(err.split())
    assert code == 0 and "warning: `conv2k5` reads 5x5 patches of an image of 4x4: every patch is partly padding" \
                         in text, err
    assert "conv2k3s2` reads" not in text  # a kernel within its image (3 of 8) is not warned of


def test_compare_warns_of_a_kernel_larger_than_its_image_once_for_every_rule_and_seed(monkeypatch, capsys):
    code, out, err = run_cli("compare", str(ROOT / "stdlib_rules" / "backprop.rule"), "--data", "digits", "--layers",
                             "conv2k9,8", "--steps", "1", "--seeds", "2", "--baseline", "none",
                             monkeypatch=monkeypatch, capsys=capsys)
    assert code == 0 and " ".join(err.split()).count("`conv2k9` reads 9x9 patches") == 1, err
