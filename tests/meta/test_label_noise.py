"""Task specs with label noise, `NAME[:LOW-HIGH]@noise=P`: a fixed fraction of the labels the rule trains on is
replaced by uniformly drawn classes of the task; the labels it is scored on stay clean."""

from __future__ import annotations

import numpy as np
import pytest

from rulec.data.errors import DataError
from rulec.meta.tasks import load_tasks
from tests.conftest import ROOT, run_cli


def labels(pool) -> np.ndarray:
    return np.asarray(pool[1])


@pytest.mark.parametrize("validation", [False, True])
def test_noise_replaces_a_fraction_of_the_training_labels_and_leaves_the_scored_ones_clean(validation):
    clean, noisy = load_tasks(["digits", "digits@noise=0.5"], validation=validation)
    changed = labels(clean.train) != labels(noisy.train)
    # a replaced label keeps its class with probability 1/10
    assert abs(changed.mean() - 0.5 * 0.9) < 0.04
    np.testing.assert_array_equal(np.asarray(clean.train[0]), np.asarray(noisy.train[0]))
    np.testing.assert_array_equal(labels(clean.held_out), labels(noisy.held_out))
    assert noisy.name == "digits@noise=0.5" and noisy.classes == clean.classes


def test_noise_is_one_fixed_draw():
    first, second = load_tasks(["digits@noise=0.3", "digits@noise=0.3"])
    np.testing.assert_array_equal(labels(first.train), labels(second.train))


def test_noise_draws_only_the_classes_of_the_tasks_range():
    clean, noisy = load_tasks(["digits:3-5", "digits:3-5@noise=1"])
    assert set(np.unique(labels(noisy.train))) == {3, 4, 5}
    # the same examples: a noisy label never brings in an example of another class
    np.testing.assert_array_equal(np.asarray(noisy.train[0]), np.asarray(clean.train[0]))
    assert (labels(noisy.train) != labels(clean.train)).mean() > 0.5


def test_no_noise_is_the_task_itself():
    clean, zero = load_tasks(["digits", "digits@noise=0"])
    np.testing.assert_array_equal(labels(clean.train), labels(zero.train))


@pytest.mark.parametrize("spec", ["digits@noise=2", "digits@noise=-0.1", "digits@noise=nan", "digits@nois=0.1",
                                  "digits@noise=", "digits@", "digits@noise=0.1@noise=0.2"])
def test_a_malformed_noise_is_a_data_error_with_the_form_to_write(spec):
    with pytest.raises(DataError) as error:
        load_tasks([spec])
    assert error.value.args[0] == f"malformed task `{spec}`"
    assert "NAME@noise=P" in str(error.value.hint)


def test_a_malformed_noise_on_the_command_line_is_a_usage_error_without_a_traceback(tmp_path, monkeypatch, capsys):
    code, _, err = run_cli("meta-train", str(ROOT / "stdlib_rules" / "blur.rule"), "--data", "digits@noise=1.5",
                           "-o", str(tmp_path / "g.npz"), monkeypatch=monkeypatch, capsys=capsys)
    assert code == 2 and "Traceback" not in err
    assert "error: malformed task `digits@noise=1.5`" in err and "NAME@noise=P" in err
    assert not (tmp_path / "g.npz").exists()
