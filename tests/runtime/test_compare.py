"""`rulec compare` and `rulec.compare`: rules and baselines under one protocol, a failing rule marked in its row."""

from __future__ import annotations

import json

import numpy as np
import pytest

import rulec
from rulec.experiment.choices import SettingError
from rulec.runtime.train import evaluation_steps
from tests.conftest import ROOT, run_cli

RULES = ROOT / "stdlib_rules"


def test_rules_and_baselines_share_the_protocol_and_a_broken_rule_does_not_stop_the_others(tmp_path):
    broken = tmp_path / "broken.rule"
    broken.write_text("rule broken\nneuron a[2]\nforward (i in pre, j in post)\n  a[j, 0] := nope[j]\n")
    board = rulec.compare([RULES / "backprop.rule", broken], data="xor",
                          hidden=(8,), steps=5, batch=16, seeds=(0, 1), baselines=("sgd",))
    assert [(row.name, row.kind) for row in board.rows] == [("backprop", "rule"), ("broken", "rule"),
                                                          ("sgd", "baseline")]
    backprop, failed, sgd = board.rows
    assert failed.error.startswith(f"{broken}:1:1: ") and failed.accuracy == []  # the checker's located message
    assert board.evaluation_steps == evaluation_steps(5)
    # Two seeds, the same evaluation points; the mean and spread are those of the seeds' accuracies.
    for row in (backprop, sgd):
        assert np.array(row.accuracy).shape == (2, len(board.evaluation_steps))
        np.testing.assert_allclose(row.mean, np.mean(row.accuracy, axis=0), rtol=1e-6)
        np.testing.assert_allclose(row.std, np.std(row.accuracy, axis=0), atol=1e-7)
    # Each seed is the run `rulec.train` makes with it.
    alone = rulec.train(RULES / "backprop.rule", data="xor", hidden=(8,), steps=5, batch=16, seed=1, baselines=())
    np.testing.assert_allclose(backprop.accuracy[1], alone.curve.accuracy)
    assert abs(backprop.alignment["w"] - 1) < 1e-5
    assert backprop.seconds_per_step > 0 and sgd.seconds_per_step > 0  # a baseline is timed as a rule is


def test_dims_and_a_preset_go_to_the_rules_that_declare_them_and_inputs_to_every_rule():
    board = rulec.compare([RULES / "blur_two_state.rule", RULES / "equilibrium_propagation.rule"], data="xor",
                          hidden=(4,), steps=2, batch=8, seeds=(0,), baselines=(), dims={"n_relax": 2},
                          preset="backprop", inputs="raw")
    two_state, relaxing = board.rows
    assert (two_state.dims, two_state.genome, two_state.inputs, two_state.error) == ({"k": 2}, "preset backprop",
                                                                                     "raw", None)
    assert (relaxing.dims, relaxing.inputs, relaxing.error) == ({"n_relax": 2}, "raw", None)
    assert relaxing.genome != "preset backprop"
    assert board.record()["dims"] == {"n_relax": 2} and board.record()["preset"] == "backprop"
    with pytest.raises(SettingError, match="no rule compared declares a dim `k`"):
        rulec.compare([RULES / "backprop.rule"], data="xor", dims={"k": 2})
    with pytest.raises(SettingError, match="no rule compared declares a preset `nope`"):
        rulec.compare([RULES / "backprop.rule"], data="xor", preset="nope")


def test_a_dim_no_rule_declares_is_a_usage_error_on_set(monkeypatch, capsys):
    code, _, err = run_cli("compare", str(RULES / "backprop.rule"), "--set", "k=2", "--inputs", "raw",
                           monkeypatch=monkeypatch, capsys=capsys)
    assert code == 2 and "--set" in err and "declares a dim `k`" in err


def test_the_command_prints_the_leaderboard_and_marks_a_failed_rule(tmp_path, monkeypatch, capsys):
    out, plot = tmp_path / "board.json", tmp_path / "board.png"
    code, stdout, err = run_cli("compare", str(RULES / "backprop.rule"), str(tmp_path / "missing.rule"), "--data",
                                "xor", "--layers", "8", "--steps", "2", "--batch", "16", "--seeds", "1", "--baseline",
                                "none", "--inputs", "global", "--json", str(out), "--plot", str(plot),
                                monkeypatch=monkeypatch, capsys=capsys)
    assert code == 1  # a rule failed; the others' figures are still written
    assert "backprop" in stdout and "failed (below)" in stdout and "missing failed:" in err
    record = json.loads(out.read_text())
    assert [row["name"] for row in record["rows"]] == ["backprop", "missing"]
    assert record["rows"][0]["inputs"] == "global" and record["inputs"] == "global"
    assert record["rows"][0]["mean"] and record["rows"][1]["error"] and plot.stat().st_size > 0
