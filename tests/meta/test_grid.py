"""Meta-training over a grid of widths and batch sizes (rulec/meta/networks.py): the flags, the networks, one
network per generation in turn, the refusal of a genome whose shape depends on the widths, and the record."""

from __future__ import annotations

import json

import numpy as np
import pytest

import rulec
from rulec.data.errors import DataError
from rulec.meta import networks
from rulec.meta.objectives import Protocol
from tests.conftest import ROOT, run_cli, usage_error

BLUR = str(ROOT / "stdlib_rules" / "blur.rule")
GRID_ES = ["meta-train", BLUR, "--set", "k=2", "--method", "cmaes", "--data", "xor", "--layers", "4/6",
           "--batch", "8", "--population", "4", "--unroll", "2", "--eval-batches", "1", "--steps", "3"]


def test_the_grid_is_every_pair_of_hidden_layers_and_batch():
    from rulec.commands.flags import parse_grid

    hidden, batches = parse_grid("128/256,64/128", "32/128/32")
    assert hidden == ((128,), (256, 64)) and batches == (32, 128)  # a repeat counts once
    assert networks.grid(hidden, batches) == [((128,), 32), ((128,), 128), ((256, 64), 32), ((256, 64), 128)]


@pytest.mark.parametrize("flags, message", [
    (["--batch", "32,64"], "expected a batch size such as 128, or several as 32/128, got '32,64'"),
    (["--batch", "32/"], "expected numbers such as 128 or 32/128, got ''"),
    (["--layers", "4//8"], "expected numbers such as 20, 256,128, 128/256/512 or 256/256,256, got ''"),
    (["--layers", "4/0"], "got '0'"),
])
def test_bad_grid_flags_are_usage_errors(flags, message, monkeypatch, capsys):
    assert message in usage_error(*GRID_ES, *flags, monkeypatch=monkeypatch, capsys=capsys)


def test_a_genome_shaped_by_the_widths_cannot_share_a_grid_of_widths():
    rule = rulec.load(ROOT / "stdlib_rules" / "abcd_hebbian.rule")  # per-synapse coefficients
    protocol = Protocol(unroll=1, batch=8, outputs=2)
    with pytest.raises(DataError, match="layers 2-4-2 and 2-6-2 cannot share one genome"):
        networks.build(rule, 2, 2, ((4,), (6,)), (8,), protocol)
    batches_only = networks.build(rule, 2, 2, ((4,),), (8, 16), protocol)
    assert [n.protocol.batch for n in batches_only] == [8, 16]


# A grid of depths is a grid of hidden layers whose alternatives differ in their number of sizes.
DEPTHS_ES = ["meta-train", BLUR, "--set", "k=2", "--method", "cmaes", "--data", "digits", "--layers", "8/8,8",
             "--batch", "16", "--population", "4", "--unroll", "2", "--eval-batches", "1"]


def test_a_grid_of_depths_is_written_as_a_grid_of_hidden_layers():
    from rulec.commands.flags import parse_grid

    hidden, _ = parse_grid("256/256,256/256,256,256,256", "128")
    assert hidden == ((256,), (256, 256), (256, 256, 256, 256))
    mixed, _ = parse_grid("128/256,128/256", "128")  # depth and width together
    assert mixed == ((128,), (256, 128), (256,))


def test_the_networks_of_a_grid_of_depths_share_one_genome_unless_it_is_shaped_by_them():
    protocol = Protocol(unroll=1, batch=8, outputs=2)
    built = networks.build(rulec.load(BLUR, k=2), 2, 2, ((4,), (4, 4, 4)), (8,), protocol)
    assert [n.net.sizes for n in built] == [(2, 4, 2), (2, 4, 4, 4, 2)]
    rule = rulec.load(ROOT / "stdlib_rules" / "abcd_hebbian.rule")  # one coefficient array per layer of synapses
    with pytest.raises(DataError, match="layers 2-4-2 and 2-4-4-2 cannot share one genome"):
        networks.build(rule, 2, 2, ((4,), (4, 4)), (8,), protocol)


def test_the_resource_guard_checks_the_deepest_network_of_a_grid(monkeypatch, capsys):
    # One hidden layer of 30,000 is small beside three more: the plan that is refused is the deep one's.
    code, _, err = run_cli(*DEPTHS_ES[:9], "30000/30000,30000,30000,30000", *DEPTHS_ES[10:], "--steps", "1",
                           monkeypatch=monkeypatch, capsys=capsys)
    assert code == 1 and "Traceback" not in err, err
    assert "meta-training on layers 64-30000-30000-30000-30000-10, batch 16" in " ".join(err.split())


def test_a_run_on_a_grid_of_depths_trains_each_in_turn_and_resumes_to_the_uninterrupted_genome(
        tmp_path, monkeypatch, capsys):
    def meta_train(name: str, steps: int, *flags: str) -> str:
        code, _, err = run_cli(*DEPTHS_ES, "--steps", str(steps), "--checkpoint-every", "1", "-o",
                               str(tmp_path / name), *flags, monkeypatch=monkeypatch, capsys=capsys)
        assert code == 0, err
        return " ".join(err.split())

    told = meta_train("whole.npz", 3)
    assert "layers 64-8-10 / 64-8-8-10, batch 16 (a grid of 2 networks, one per step in turn)" in told
    meta_train("cut.npz", 2)  # stopped after step 2, whose checkpoint the resumed run starts from
    assert "resuming from step 2" in meta_train("cut.npz", 3, "--resume")
    whole, resumed = (np.load(tmp_path / name, allow_pickle=False) for name in ("whole.npz", "cut.npz"))
    assert sorted(whole.files) == sorted(resumed.files)
    for name in whole.files:
        np.testing.assert_array_equal(resumed[name], whole[name])
    history = json.loads((tmp_path / "cut.log.json").read_text())["history"]
    assert [record["network"] for record in history] == [0, 1, 0]  # 1 hidden layer, 2, then 1 again
    info = json.loads((tmp_path / "whole.json").read_text())
    assert info["settings"]["hidden"] == [[8], [8, 8]] and info["layers"] == [64, 8, 10]
