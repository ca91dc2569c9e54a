"""`rulec train --data` takes meta-training's task specs, `NAME[:LOW-HIGH][@noise=P]`: the rule trains and is
scored on the range's classes only, with that fraction of its training labels replaced by random classes of the
range and its test labels clean; the inputs are scaled on the whole training split's statistics."""

from __future__ import annotations

import json

import numpy as np
import pytest

from rulec.data import datasets
from rulec.data.inputs import standardise
from rulec.meta.tasks import restricted
from tests.conftest import ROOT, run_cli

BACKPROP = str(ROOT / "stdlib_rules" / "backprop.rule")


@pytest.fixture(scope="module")
def digits():
    return standardise(datasets.load("digits"), "global")


def test_a_class_range_keeps_every_example_of_its_classes_in_both_splits(digits):
    task = restricted(digits, "digits:3-5")
    for x, y, x_all, y_all in ((task.x_train, task.y_train, digits.x_train, digits.y_train),
                               (task.x_test, task.y_test, digits.x_test, digits.y_test)):
        inside = np.isin(y_all, [3, 4, 5])
        np.testing.assert_array_equal(y, y_all[inside])
        np.testing.assert_array_equal(x, x_all[inside])  # the whole split's scaling, untouched
    assert task.name == "digits:3-5" and task.classes == digits.classes == 10


def test_label_noise_changes_the_training_labels_only_and_draws_from_the_range(digits):
    clean, noisy = restricted(digits, "digits:2-6"), restricted(digits, "digits:2-6@noise=0.5")
    changed = clean.y_train != noisy.y_train
    assert abs(changed.mean() - 0.5 * 0.8) < 0.05  # a replaced label keeps its class with probability 1/5
    assert set(np.unique(noisy.y_train)) <= {2, 3, 4, 5, 6}
    np.testing.assert_array_equal(clean.x_train, noisy.x_train)
    np.testing.assert_array_equal(clean.y_test, noisy.y_test)


def test_a_plain_name_is_the_dataset_itself(digits):
    task = restricted(digits, "digits")
    for field in ("x_train", "y_train", "x_test", "y_test"):
        np.testing.assert_array_equal(getattr(task, field), getattr(digits, field))


def test_rulec_train_runs_on_a_task_and_records_it(tmp_path, monkeypatch, capsys, digits):
    out = tmp_path / "run.json"
    code, _, err = run_cli("train", BACKPROP, "--data", "digits:0-4@noise=0.2", "--steps", "3", "--baseline", "sgd",
                           "--json", str(out), monkeypatch=monkeypatch, capsys=capsys)
    assert code == 0, err
    run = json.loads(out.read_text())
    assert run["data"] == "digits:0-4@noise=0.2" and run["layers"][-1] == 10
    kept = restricted(digits, "digits:0-4")
    assert f"({len(kept.x_train)} train, {len(kept.x_test)} test" in " ".join(err.split())
    assert len(run["rule_accuracy"]) == 3 and len(run["baselines"]["sgd"]["best"]) == 3


@pytest.mark.parametrize("spec, message", [
    ("digits:0-12", "error: task `digits:0-12` selects classes 0-12, but `digits` has classes 0-9"),
    ("digits:5-3", "error: task `digits:5-3` selects no class: 5 is above 3"),
    ("digits:4-x", "error: malformed task `digits:4-x`"),
    ("digits@noise=1.5", "error: malformed task `digits@noise=1.5`"),
    ("digits:\u00b2", "error: malformed task `digits:\u00b2`"),  # a superscript 2 passes str.isdigit
    ("digits:0-\u0663", "error: malformed task `digits:0-\u0663`"),  # an Arabic-Indic 3, which int() reads
])
def test_a_bad_task_is_a_usage_error_without_a_traceback(spec, message, tmp_path, monkeypatch, capsys):
    code, _, err = run_cli("train", BACKPROP, "--data", spec, "--steps", "2", "--baseline", "none",
                           monkeypatch=monkeypatch, capsys=capsys)
    assert code == 2 and "Traceback" not in err
    assert message in " ".join(err.split())


def test_an_unknown_dataset_is_an_input_error_without_a_traceback(tmp_path, monkeypatch, capsys):
    code, _, err = run_cli("train", BACKPROP, "--data", "nodata:0-4", "--steps", "2", "--baseline", "none",
                           monkeypatch=monkeypatch, capsys=capsys)
    assert code == 1 and "Traceback" not in err
    assert "error: unknown dataset `nodata`" in " ".join(err.split())

