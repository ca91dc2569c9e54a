"""`rulec train`: backprop learns digits, its curve is the SGD baseline's, and the command reports everything."""

from __future__ import annotations

import json
import subprocess
import sys

import jax
import numpy as np

import rulec
from rulec.data import datasets
from rulec.data.inputs import DEFAULT_INPUTS, standardise
from rulec.runtime.train import batch_indices, evaluation_steps, train_baseline, train_rule
from tests.conftest import ROOT, run_cli, state_arrays

SIZES = (64, 128, 10)


def digits():
    return standardise(datasets.load("digits"), DEFAULT_INPUTS)


def test_backprop_learns_digits_within_500_steps():
    data = digits()
    rule = rulec.load(ROOT / "stdlib_rules" / "backprop.rule")
    net = rule.network(SIZES)
    curve, _ = train_rule(net, rule.init_genome(jax.random.key(0)), net.init(jax.random.key(1)), data,
                          batch_indices(len(data.x_train), 500, 128, 0))
    assert curve.steps == evaluation_steps(500)
    assert max(curve.accuracy) >= 0.90 and curve.accuracy[-1] >= 0.90


def test_backprop_curve_equals_the_sgd_baseline_at_the_same_learning_rate():
    data = digits()
    rule = rulec.load(ROOT / "stdlib_rules" / "backprop.rule")
    net = rule.network(SIZES)
    genome, state = rule.init_genome(jax.random.key(0)), net.init(jax.random.key(1))
    indices = batch_indices(len(data.x_train), 100, 128, 0)
    curve, _ = train_rule(net, genome, state, data, indices)
    params = [(w[:-1], w[-1]) for w in state.synapses["w"]]
    baseline = train_baseline("sgd", params, data, indices, [float(genome["lr"])], model="tanh-mse")[0]
    np.testing.assert_allclose(curve.accuracy, baseline, atol=1.5 / len(data.x_test))  # at most one example


def test_divergence_is_reported_and_earlier_accuracies_kept():
    data = digits()
    rule = rulec.load(ROOT / "stdlib_rules" / "hebbian.rule")
    net = rule.network(SIZES)
    genome = {"eta": np.float32(1.0), "decay": np.float32(-1e10)}  # w grows 1e10-fold a step
    curve, state = train_rule(net, genome, net.init(jax.random.key(1)), data,
                              batch_indices(len(data.x_train), 50, 128, 0))
    assert curve.diverged_at is not None
    assert len(curve.accuracy) == len([s for s in evaluation_steps(50) if s < curve.diverged_at])
    assert all(np.isfinite(np.asarray(a)).all() for a in state_arrays(state))


def test_train_command_writes_json_and_plot(tmp_path, monkeypatch, capsys):
    out_json, out_png = tmp_path / "run.json", tmp_path / "run.png"
    code, out, err = run_cli("train", str(ROOT / "stdlib_rules" / "backprop.rule"), "--data", "digits", "--layers",
                             "16", "--batch", "16", "--steps", "20", "--baseline", "sgd,adam", "--json",
                             str(out_json), "--plot", str(out_png), monkeypatch=monkeypatch, capsys=capsys)
    assert code == 0, err
    assert "test accuracy after each number of steps" in out
    record = json.loads(out_json.read_text())
    assert record["evaluation_steps"] == [1, 2, 5, 10, 20] and set(record["baselines"]) == {"sgd", "adam"}
    assert record["baseline_inputs"] == ["feature"] and len(record["baselines"]["sgd"]["accuracy"]["feature"]) == 9
    assert out_png.read_bytes()[:4] == b"\x89PNG"


def test_bad_data_is_a_clear_error_not_a_traceback():
    result = subprocess.run([sys.executable, "-m", "rulec", "train", "stdlib_rules/backprop.rule", "--data",
                             "idx", "--data-dir", "/nonexistent"], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 1
    assert result.stderr.startswith("error: /nonexistent: no such directory") and "Traceback" not in result.stderr


def test_the_baselines_train_a_network_of_the_rules_depth(tmp_path, monkeypatch, capsys):
    from rulec.experiment import training as command

    trained = []

    def recorded(kind, params, *rest, **options):  # the real baseline, its weights' shapes noted
        trained.append((kind, [weight.shape for weight, _ in params]))
        return train_baseline(kind, params, *rest, **options)

    monkeypatch.setattr(command, "train_baseline", recorded)
    out = tmp_path / "run.json"
    code, _, err = run_cli("train", str(ROOT / "stdlib_rules" / "backprop.rule"), "--data", "digits", "--layers",
                           "32,32", "--steps", "2", "--batch", "16", "--baseline", "sgd,adam", "--baseline-inputs",
                           "feature", "--json", str(out), monkeypatch=monkeypatch, capsys=capsys)
    assert code == 0, err
    assert json.loads(out.read_text())["layers"] == [64, 32, 32, 10]  # the rule's network
    assert trained == [(kind, [(64, 32), (32, 32), (32, 10)]) for kind in ("sgd", "adam")]
