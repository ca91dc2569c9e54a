"""`rulec train --baseline-inputs`: the baselines run on several input scalings and each is reported at its best
over the scalings and its learning rates; by default on the rule's scaling and `feature`."""

from __future__ import annotations

import json

import numpy as np
import pytest

from rulec.runtime.report import best_per_step
from tests.conftest import ROOT, run_cli, usage_error

BACKPROP = str(ROOT / "stdlib_rules" / "backprop.rule")
RUN = ("train", BACKPROP, "--data", "digits", "--steps", "5", "--baseline", "sgd")


def test_the_best_is_taken_over_the_scalings_and_the_rates_with_both_named():
    rng = np.random.default_rng(0)
    sweeps = {"global": rng.random((4, 6)), "feature": rng.random((4, 6))}
    rates = [1e-3, 1e-2, 1e-1, 1.0]
    found = best_per_step(sweeps, rates)
    for point, (accuracy, rate, scaling) in enumerate(found):
        # an independent search: every (scaling, rate) pair in turn
        pairs = [(sweeps[s][r, point], rates[r], s) for s in sweeps for r in range(len(rates))]
        assert (accuracy, rate, scaling) == max(pairs, key=lambda pair: pair[0])


def record(tmp_path, monkeypatch, capsys, *flags) -> tuple[dict, str]:
    out = tmp_path / f"run{len(list(tmp_path.iterdir()))}.json"
    code, stdout, err = run_cli(*RUN, *flags, "--json", str(out), monkeypatch=monkeypatch, capsys=capsys)
    assert code == 0, err
    return json.loads(out.read_text()), stdout


def test_by_default_the_baselines_also_run_on_feature_inputs_and_keep_their_best(tmp_path, monkeypatch, capsys):
    both, table = record(tmp_path, monkeypatch, capsys, "--inputs", "global")
    alone, _ = record(tmp_path, monkeypatch, capsys, "--inputs", "feature", "--baseline-inputs", "feature")
    own, _ = record(tmp_path, monkeypatch, capsys, "--inputs", "global", "--baseline-inputs", "global")
    assert both["inputs"] == "global" and both["baseline_inputs"] == ["global", "feature"]
    assert own["baseline_inputs"] == ["global"] and list(own["baselines"]["sgd"]["accuracy"]) == ["global"]
    sweeps = both["baselines"]["sgd"]["accuracy"]
    # each sweep is the one a run on that scaling alone makes: same batches, same initial weights
    np.testing.assert_allclose(sweeps["feature"], alone["baselines"]["sgd"]["accuracy"]["feature"], atol=1e-6)
    np.testing.assert_allclose(sweeps["global"], own["baselines"]["sgd"]["accuracy"]["global"], atol=1e-6)
    for point, (accuracy, _, scaling) in enumerate(both["baselines"]["sgd"]["best"]):
        assert accuracy == pytest.approx(max(np.max(np.asarray(s)[:, point]) for s in sweeps.values()))
        assert accuracy == pytest.approx(np.max(np.asarray(sweeps[scaling])[:, point]))
    # the rule itself still runs on its own scaling
    assert both["rule_accuracy"] == own["rule_accuracy"]
    marked = any(scaling == "feature" for *_, scaling in both["baselines"]["sgd"]["best"])
    assert ("*: the baseline on feature inputs, the rule on global" in " ".join(table.split())) == marked


def test_a_rule_on_feature_inputs_runs_its_baselines_once(tmp_path, monkeypatch, capsys):
    run, table = record(tmp_path, monkeypatch, capsys)
    assert run["inputs"] == "feature" and run["baseline_inputs"] == ["feature"]
    assert "*" not in table


@pytest.mark.parametrize("value", ["features", "global,nope", ",", ""])
def test_a_bad_scaling_is_a_usage_error_on_the_flag(value, monkeypatch, capsys):
    err = usage_error(*RUN, "--baseline-inputs", value, monkeypatch=monkeypatch, capsys=capsys)
    assert "--baseline-inputs" in err and "choose from feature, global, raw" in err
