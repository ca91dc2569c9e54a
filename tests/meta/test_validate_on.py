"""`--validate-on held-out`: meta-validation trains on the first 80% of the --validate tasks' training split and
measures on the rest, the pools meta-training scores on, and never reads their test split."""

from __future__ import annotations

import json

import numpy as np

from rulec.data import datasets
from rulec.meta.tasks import HELD_OUT_FRACTION
from tests.conftest import ROOT, run_cli, usage_error

HEBBIAN = str(ROOT / "stdlib_rules" / "hebbian.rule")  # the cheapest rule with a genome: the test is of the data
TINY = ("meta-train", HEBBIAN, "--data", "xor", "--layers", "4", "--population", "4", "--batch", "8",
        "--unroll", "2", "--eval-batches", "1", "--steps", "2", "--eval-every", "1")


def validation_run(tmp_path, monkeypatch, capsys, *flags):
    """Runs TINY with `flags`; (the settings in its log, its history, the validation tasks it loaded)."""
    import rulec.experiment.meta_training as meta_train
    loaded = []

    def recording(specs, *args, **kwargs):
        tasks = real(specs, *args, **kwargs)
        loaded.append(tasks)
        return tasks

    real = meta_train.load_tasks
    monkeypatch.setattr(meta_train, "load_tasks", recording)
    out = tmp_path / "g.npz"
    code, _, err = run_cli(*TINY, *flags, "-o", str(out), monkeypatch=monkeypatch, capsys=capsys)
    assert code == 0, err
    log = json.loads(out.with_suffix(".log.json").read_text())
    return log["settings"], log["history"], loaded[1]  # loaded[0]: the training tasks


def rows(x) -> set:
    return {tuple(np.round(np.asarray(row), 5)) for row in np.asarray(x)}


def test_held_out_validation_measures_on_the_training_split_and_never_the_test_split(tmp_path, monkeypatch, capsys):
    settings, history, (task,) = validation_run(tmp_path, monkeypatch, capsys, "--validate-on", "held-out")
    assert settings["validate_on"] == "held-out"
    xor = datasets.load("xor")
    cut = int(len(xor.x_train) * (1 - HELD_OUT_FRACTION))
    assert len(task.train[0]) == cut and len(task.held_out[0]) == len(xor.x_train) - cut
    np.testing.assert_array_equal(np.asarray(task.held_out[1]), xor.y_train[cut:])
    assert not rows(task.held_out[0]) & rows(task.train[0])
    assert all(0.0 <= record["validation"] <= 1.0 for record in history)


def test_the_default_still_measures_on_the_test_split(tmp_path, monkeypatch, capsys):
    settings, _, (task,) = validation_run(tmp_path, monkeypatch, capsys)
    xor = datasets.load("xor")
    assert settings["validate_on"] == "test"
    assert len(task.train[0]) == len(xor.x_train) and len(task.held_out[0]) == len(xor.x_test)
    np.testing.assert_array_equal(np.asarray(task.held_out[1]), xor.y_test)


def test_the_flag_is_checked(monkeypatch, capsys):
    message = usage_error(*TINY, "--validate-on", "train", monkeypatch=monkeypatch, capsys=capsys)
    assert "'train' is not a split; choose from test, held-out" in message
