"""Meta-training over a grid of widths and batch sizes (rulec/meta/networks.py): the flags, the networks, one
network per generation in turn, the refusal of a genome whose shape depends on the widths, and the record: the
genome's metadata names every network of the grid."""

from __future__ import annotations

import json

import jax
import numpy as np
import pytest

import rulec
from rulec.data.errors import DataError
from rulec.geometry import Conv
from rulec.meta import networks
from rulec.meta.objectives import Protocol
from rulec.meta.tasks import load_tasks
from rulec.runtime.genome_file import learned_networks
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
    (["--layers", "4//8"], "a network of the grid '4//8' is empty: separate networks with one '/'"),
    (["--layers", "4/"], "a network of the grid '4/' is empty"),
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
    with pytest.raises(DataError, match="layers 4x4x1-conv2k2s2-2 and 4x4x1-conv3k2s2-2 cannot share"):  # as written
        networks.build(rule, 16, 2, ((Conv(2, 2, 2),), (Conv(3, 2, 2),)), (8,), protocol, image=(4, 4, 1))


# A grid of depths is a grid of hidden layers whose alternatives differ in how many sizes they list.
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


def test_a_run_on_a_grid_of_depths_trains_each_in_turn_and_resumes_to_the_uninterrupted_genome(tmp_path):
    # At the method's level, so that both runs share the compiled networks: the command's own resume is tested in
    # tests/meta/test_meta_train.py, and what a grid adds is the network each step trains on.
    from rulec.meta import checkpoint
    from rulec.meta.evolution import Evolution

    rule = rulec.load(BLUR, k=2)
    grid = networks.build(rule, 64, 10, ((8,), (8, 8)), (16,), Protocol(unroll=2, eval_batches=1, outputs=10))
    genome = grid[0].net.init_genome(jax.random.key(0))
    method = Evolution(grid, load_tasks(["digits"]), "CMA_ES", 4, 0.3, genome)
    fresh = lambda: method.init(jax.random.key(1), lambda key: genome)  # noqa: E731
    config, rng = {"hidden": [[8], [8, 8]]}, jax.random.key(2)

    def steps(carry, done: range):
        records = []
        for step in done:
            carry, record = method.step(carry, jax.random.fold_in(rng, step), step)
            records.append({"step": step + 1, **record})
        return carry, records

    whole, records = steps(fresh(), range(3))
    assert [record["network"] for record in records] == [0, 1, 0]  # 1 hidden layer, 2, then 1 again
    cut, history = steps(fresh(), range(2))
    checkpoint.save(tmp_path, rule, config, 2, cut, rng, history)
    start, carry, _, history = checkpoint.load(tmp_path, rule, config, fresh())
    resumed, _ = steps(carry, range(start, 3))
    for name, value in method.genome(whole).items():
        np.testing.assert_array_equal(method.genome(resumed)[name], value)


@pytest.mark.parametrize("path", sorted(ROOT.glob("*/genomes/*.json")), ids=lambda p: p.stem)
def test_every_genome_file_names_the_networks_it_was_learned_on(path):
    """Files written before the networks were recorded name their one network by their layers."""
    info = json.loads(path.read_text())
    recorded = info.get("networks", [",".join(map(str, info["layers"]))])
    assert learned_networks(info) == recorded and recorded[0] == ",".join(map(str, info["layers"]))


@pytest.mark.parametrize("settings, expected", [
    ({"hidden": [[4], [6, 6]]}, ["2,4,2", "2,6,6,2"]),  # an older grid: rebuilt from the grid's hidden layers
    ({"hidden": [[{"channels": 4, "kernel": 3, "stride": 2}, 8]]}, []),  # a convnet: its input image is unrecorded
    ({"hidden": [4]}, ["2,4,2"]),  # written before grids
    ("not settings", ["2,4,2"]),
])
def test_older_metadata_of_a_grid_gives_its_networks_where_it_can(settings, expected):
    assert learned_networks({"layers": [2, 4, 2], "settings": settings}) == expected
