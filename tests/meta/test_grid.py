"""Meta-training over a grid of widths and batch sizes (rulec/meta/networks.py): the flags, the networks, one
network per generation in turn, the refusal of a genome whose shape depends on the widths, and the record."""

from __future__ import annotations

import pytest

import rulec
from rulec.data.errors import DataError
from rulec.meta import networks
from rulec.meta.objectives import Protocol
from tests.conftest import ROOT, usage_error

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
    (["--layers", "4//8"], "expected numbers such as 20, 256,128 or 128/256/512, got ''"),
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
