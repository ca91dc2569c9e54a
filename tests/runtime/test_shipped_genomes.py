"""The genomes shipped in stdlib_rules/genomes/: each matches its rule, was made by a recorded command, and runs."""

from __future__ import annotations

import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import rulec
from rulec.runtime.genome_file import find_shipped, load_genome
from tests.conftest import ROOT
from tests.conftest import run_cli as run

GENOMES = sorted((ROOT / "stdlib_rules" / "genomes").glob("*.npz"))


def test_blur_ships_a_genome_for_its_default_dims():
    rule_file = ROOT / "stdlib_rules" / "blur.rule"
    assert find_shipped(rule_file, rulec.load(rule_file)) is not None


@pytest.mark.parametrize("path", GENOMES, ids=lambda p: p.stem)
def test_shipped_genome_matches_its_rule_and_takes_a_step(path):
    info = json.loads(path.with_suffix(".json").read_text())
    rule_file = ROOT / "stdlib_rules" / f"{info['rule']}.rule"
    rule = rulec.load(rule_file, **info["dims"])
    assert (info["source_hash"], info["dims"]) == (rule.source_hash, rule.dims)
    assert info["command"].startswith("rulec meta-train stdlib_rules/") and info["rulec_version"]
    assert find_shipped(rule_file, rule) is not None
    genome = load_genome(path, rule)
    net = rule.network(info["layers"])
    state = net.init(jax.random.key(0))
    rng = np.random.default_rng(0)
    x = jnp.asarray(rng.normal(size=(16, net.sizes[0])), jnp.float32)
    y = jnp.where(jax.nn.one_hot(rng.integers(0, net.sizes[-1], 16), net.sizes[-1]) > 0, 1.0, -1.0)
    stepped = net.step(genome, state, x, y)
    assert all(bool(jnp.all(jnp.isfinite(leaf))) for leaf in jax.tree.leaves(stepped))
    assert any(not np.allclose(a, b) for a, b in zip(jax.tree.leaves(stepped), jax.tree.leaves(state)))


def test_train_without_a_genome_flag_uses_the_shipped_genome(monkeypatch, capsys):
    monkeypatch.chdir(ROOT)
    code, out, err = run("train", "stdlib_rules/blur.rule", "--steps", "5", "--baseline", "none",
                         monkeypatch=monkeypatch, capsys=capsys)
    assert code == 0, err
    assert "with the shipped genome stdlib_rules/genomes/blur.npz on mnist5k" in " ".join(err.split())
    assert "layers 784-256-10" in " ".join(err.split())


def test_other_dims_find_no_shipped_genome():
    rule = rulec.load(ROOT / "stdlib_rules" / "blur.rule", k=3)
    assert find_shipped(ROOT / "stdlib_rules" / "blur.rule", rule) is None


def test_blur_scaleds_shipped_genome_trains_two_hidden_layers_where_its_one_layer_genome_did_not():
    """The depth-general genome (docs/history.md, "A genome for every depth") on digits, 64-32-32-10, 100 steps:
    it learns (0.79 when shipped) where the one-layer genome it replaced stays at chance (0.09)."""
    rule_file = ROOT / "stdlib_rules" / "blur_scaled.rule"
    accuracy = {}
    for name, genome in (("shipped", find_shipped(rule_file, rulec.load(rule_file))),
                         ("one layer", ROOT / "reproductions" / "genomes" / "blur_scaled_one_layer.npz")):
        result = rulec.train(rule_file, genome=genome, data="digits", hidden=(32, 32), steps=100, baselines=())
        accuracy[name] = result.accuracy[100]
    assert accuracy["shipped"] > 0.6 and accuracy["one layer"] < 0.2, accuracy
