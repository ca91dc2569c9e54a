"""Meta-training checkpoints as hostile input: each refusal names the problem, and none follows a path out of its
folder."""

from __future__ import annotations

import json

import jax
import optax
import numpy as np
import pytest

import rulec
from rulec.diagnostics import RuleError
from rulec.meta import checkpoint
from tests.conftest import ROOT


@pytest.fixture
def saved_checkpoint(tmp_path):
    rule = rulec.load(ROOT / "stdlib_rules" / "backprop.rule")
    carry = {"genome": np.ones(3, np.float32), "count": np.zeros((), np.int32)}
    history = [{"step": 1, "best": 0.5, "mean": 0.25}, {"step": 2, "best": 0.75, "mean": 0.5}]
    checkpoint.save(tmp_path, rule, {"steps": 5}, 2, carry, jax.random.key(0), history)
    return tmp_path, rule, carry


def edit_index(directory, **changes):
    index = directory / checkpoint.INDEX
    info = json.loads(index.read_text())
    index.write_text(json.dumps({**info, **changes}))


def test_a_checkpoint_round_trips(saved_checkpoint):
    directory, rule, carry = saved_checkpoint
    step, restored, _, history = checkpoint.load(directory, rule, {"steps": 5}, carry)
    assert step == 2 and len(history) == 2
    np.testing.assert_array_equal(restored["genome"], carry["genome"])


# Each setting added after checkpoints were first written: the value an older checkpoint ran under, and another.
@pytest.mark.parametrize("name, old, other", [("search_scale", "declared", "start"), ("validate_on", "test", "held-out")])
def test_a_checkpoint_from_before_a_setting_resumes_under_its_old_value_only(saved_checkpoint, name, old, other):
    directory, rule, carry = saved_checkpoint
    assert name not in json.loads((directory / checkpoint.INDEX).read_text())["config"]
    assert checkpoint.ADDED_SETTINGS[name] == old
    assert checkpoint.load(directory, rule, {"steps": 5, name: old}, carry)[0] == 2
    with pytest.raises(RuleError, match=f"{name}: '{old}' in the checkpoint, '{other}' now"):
        checkpoint.load(directory, rule, {"steps": 5, name: other}, carry)


def test_every_added_setting_is_tested():
    assert set(checkpoint.ADDED_SETTINGS) == {"search_scale", "validate_on"}


@pytest.mark.parametrize("step", [12.7, 10**12, -1, "2", 1])
def test_a_checkpoint_step_must_be_a_whole_number_matching_its_history(saved_checkpoint, step):
    directory, rule, carry = saved_checkpoint
    edit_index(directory, step=step)
    with pytest.raises(RuleError, match=f"the checkpoint's step {step!r} is not a whole number matching its "
                                        "history of 2 steps"):
        checkpoint.load(directory, rule, {"steps": 5}, carry)


@pytest.mark.parametrize("arrays", ["../../etc/passwd", "/etc/passwd", "..", "", 7])
def test_a_checkpoints_arrays_must_lie_in_its_folder(saved_checkpoint, arrays):
    directory, rule, carry = saved_checkpoint
    edit_index(directory, arrays=arrays)
    with pytest.raises(RuleError, match="are not a file in its folder"):
        checkpoint.load(directory, rule, {"steps": 5}, carry)


def test_a_checkpoint_history_must_hold_records(saved_checkpoint):
    directory, rule, carry = saved_checkpoint
    edit_index(directory, history=[{"step": 1}, {"step": 2, "best": "high", "mean": 0.5}])
    with pytest.raises(RuleError, match="the checkpoint's history is not a list of records with a step, a best"):
        checkpoint.load(directory, rule, {"steps": 5}, carry)


def test_a_checkpoint_with_non_finite_state_is_refused(saved_checkpoint):
    directory, rule, carry = saved_checkpoint
    replace_leaf(directory, "leaf00001", np.full(3, np.nan, np.float32))  # leaves in key order: count, genome
    with pytest.raises(RuleError, match=r"the checkpoint's array 1 \(\['genome'\]\) holds NaN or infinite values"):
        checkpoint.load(directory, rule, {"steps": 5}, carry)


def test_arrays_linked_from_outside_the_folder_are_refused(saved_checkpoint, tmp_path_factory):
    directory, rule, carry = saved_checkpoint
    (arrays,) = directory.glob("state-*.npz")
    outside = tmp_path_factory.mktemp("elsewhere") / arrays.name
    arrays.rename(outside)
    arrays.symlink_to(outside)
    with pytest.raises(RuleError, match="are a link to a file outside its folder"):
        checkpoint.load(directory, rule, {"steps": 5}, carry)


def replace_leaf(directory, name, value):
    (arrays,) = directory.glob("state-*.npz")
    with np.load(arrays) as data:
        values = {member: data[member] for member in data.files}
    values[name] = value
    np.savez(arrays, **values)


def test_absurdly_large_state_is_refused(saved_checkpoint):
    directory, rule, carry = saved_checkpoint
    replace_leaf(directory, "leaf00001", np.full(3, 1e30, np.float32))
    with pytest.raises(RuleError, match=r"array 1 \(\['genome'\]\) holds values beyond 1e\+18 in magnitude"):
        checkpoint.load(directory, rule, {"steps": 5}, carry)


def test_negative_adam_second_moments_are_refused(tmp_path):
    rule = rulec.load(ROOT / "stdlib_rules" / "backprop.rule")
    carry = optax.adam(1e-3).init({"lr": np.ones(2, np.float32)})
    checkpoint.save(tmp_path, rule, {"steps": 5}, 0, carry, jax.random.key(0), [])
    names = [jax.tree_util.keystr(path) for path, _ in jax.tree_util.tree_flatten_with_path(carry)[0]]
    assert checkpoint.load(tmp_path, rule, {"steps": 5}, carry)[0] == 0
    replace_leaf(tmp_path, f"leaf{names.index('[0].nu[' + repr('lr') + ']'):05d}", np.array([1, -1], np.float32))
    with pytest.raises(RuleError, match="holds negative values, which its field `nu` never has"):
        checkpoint.load(tmp_path, rule, {"steps": 5}, carry)


def test_a_gradient_run_with_a_diverged_member_resumes(tmp_path):
    """The gradient method keeps a diverged run's last meta-loss as +inf; NaN there is still refused."""
    rule = rulec.load(ROOT / "stdlib_rules" / "backprop.rule")
    carry = {"genomes": {"lr": np.ones(2, np.float32)}, "loss": np.array([np.inf, 0.5], np.float32)}
    checkpoint.save(tmp_path, rule, {"steps": 5}, 0, carry, jax.random.key(0), [])
    np.testing.assert_array_equal(checkpoint.load(tmp_path, rule, {"steps": 5}, carry)[1]["loss"], carry["loss"])
    replace_leaf(tmp_path, "leaf00001", np.array([np.nan, 0.5], np.float32))
    with pytest.raises(RuleError, match=r"array 1 \(\['loss'\]\) holds NaN or infinite values"):
        checkpoint.load(tmp_path, rule, {"steps": 5}, carry)
