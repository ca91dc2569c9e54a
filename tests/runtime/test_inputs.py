"""Input scaling (`--inputs feature|global|raw`) in use: the flag, the mode a genome file records, and training on
scaled inputs. The statistics themselves are tested in tests/data/test_scaling.py."""

from __future__ import annotations

import json

import jax
import pytest

import rulec
from rulec.experiment.choices import input_scaling
from rulec.data import datasets
from rulec.data.inputs import DEFAULT_INPUTS, INPUTS, standardise
from rulec.diagnostics import RuleError
from rulec.runtime.genome_file import learned_inputs, save_genome
from rulec.runtime.train import batch_indices, train_rule
from tests.conftest import ROOT, run_cli

HEBBIAN = ROOT / "stdlib_rules" / "hebbian.rule"


def test_the_flag_refuses_an_unknown_scaling_without_a_traceback(monkeypatch, capsys):
    code, _, err = run_cli("train", str(HEBBIAN), "--inputs", "pixels", monkeypatch=monkeypatch, capsys=capsys)
    assert code == 2 and "Traceback" not in err
    assert "Invalid value for '--inputs': 'pixels' is not an input scaling; choose from feature, global, raw" in (
        " ".join(err.split()))
    assert INPUTS[0] == DEFAULT_INPUTS == "feature"


def test_a_genome_file_records_its_scaling_and_older_files_mean_global(tmp_path):
    rule = rulec.load(HEBBIAN)
    genome = rule.init_genome(jax.random.key(0))
    assert learned_inputs(save_genome(tmp_path / "raw", rule, genome, inputs="raw")) == "raw"
    assert learned_inputs(save_genome(tmp_path / "old", rule, genome)) == "global"
    (tmp_path / "old.json").unlink()
    assert learned_inputs(tmp_path / "old.npz") is None
    path = save_genome(tmp_path / "bad", rule, genome, inputs="pixels")
    with pytest.raises(RuleError, match="the genome metadata names the input scaling 'pixels'") as error:
        learned_inputs(path)
    assert error.value.diagnostics[0].span.source.name == str(tmp_path / "bad.json")
    assert json.loads((ROOT / "stdlib_rules" / "genomes" / "blur.json").read_text())["inputs"] == "global"


def test_an_unasked_scaling_is_the_genomes_and_a_different_one_is_warned_about():
    warned = []
    assert input_scaling(None, "global", "genome g.npz", warned.append) == "global"
    assert input_scaling(None, None, "preset backprop", warned.append) == DEFAULT_INPUTS
    assert not warned
    assert input_scaling("raw", "global", "genome g.npz", warned.append) == "raw"
    assert warned == ["genome g.npz was learned on `global` inputs; using `raw` inputs as --inputs asks"]


def test_hebbian_learns_digits_from_features_scaled_one_by_one():
    """With one global scaling every test digit gets the same class (0.078 after 100 steps); each feature on its
    own scale lets the clamped Hebbian product tell the classes apart (0.52)."""
    loaded = datasets.load("digits")
    rule = rulec.load(HEBBIAN)
    net = rule.network((64, 256, 10))
    indices = batch_indices(len(loaded.x_train), 100, 128, 0)
    final = {}
    for inputs in ("global", "feature"):
        curve, _ = train_rule(net, rule.init_genome(jax.random.key(0)), net.init(jax.random.key(1)),
                              standardise(loaded, inputs), indices)
        final[inputs] = curve.accuracy[-1]
    assert final["global"] < 0.15 and final["feature"] > 0.4, final
