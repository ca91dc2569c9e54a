"""The instruments of `rulec train --monitor` (rulec/runtime/monitors.py): alignment of each update with the gradient
of the declared loss through `predict`, feedback alignment, norms; checked on rules whose answer is known."""

from __future__ import annotations

import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import rulec
from rulec.runtime import monitors
from tests.conftest import ROOT, run_cli

RULES = ROOT / "stdlib_rules"
TINY = dict(data="xor", hidden=(8,), steps=20, batch=16, baselines=())


def train(name: str, **settings):
    return rulec.train(RULES / f"{name}.rule", monitor=("alignment", "norms"), **{**TINY, **settings})


# backprop_relu writes the softmax cross-entropy's error by hand and declares `loss xent`, so it is measured on it.
@pytest.mark.parametrize("name, rate", [("backprop", 0.001), ("backprop_xent", 0.005), ("backprop_relu", 0.005)])
def test_backprop_updates_along_the_gradient_at_its_learning_rate(name, rate):
    result = train(name)
    alignment, ratio = result.monitor["alignment"]["w"], result.monitor["norm_ratio"]["w"]
    assert len(alignment) == len(result.evaluation_steps) == 5
    np.testing.assert_allclose(alignment, 1.0, atol=1e-5)
    np.testing.assert_allclose(ratio, rate, rtol=1e-4)
    assert result.genome["lr"] == pytest.approx(rate)


def test_backprop_on_a_convnet_updates_along_the_gradient_of_its_kernels():
    """On a convolutional pair, ΔW and the gradient are the kernel's: summed over the positions (weight sharing)."""
    result = train("backprop", data="digits", hidden=(rulec.Conv(2, 3, stride=2), 8), steps=5, batch=8)
    alignment, ratio = result.monitor["alignment"]["w"], result.monitor["norm_ratio"]["w"]
    assert len(alignment[0]) == 3  # the kernel, the dense pair after it and the read-out
    np.testing.assert_allclose(alignment, 1.0, atol=1e-5)
    np.testing.assert_allclose(ratio, 0.001, rtol=1e-4)


def test_fixed_feedback_weights_have_no_gradient_and_start_unaligned():
    rule = rulec.load(RULES / "feedback_alignment.rule")
    net = rule.network([64, 48, 10])
    genome, state = net.init_genome(jax.random.key(0)), net.init(jax.random.key(1))
    x = jax.random.normal(jax.random.key(2), (16, 64))
    y = jnp.where(jax.nn.one_hot(jnp.arange(16) % 10, 10) > 0, 1.0, -1.0)
    monitor = monitors.build(net, ("alignment",))
    point = monitor.on_host(monitor.measure(genome, state, net.step(genome, state, x, y), x, y))
    assert monitor.no_gradient == {"B": "fixed: the rule never updates it"}
    assert point["alignment"]["B"] == [None, None] and monitor.counterparts == {"B": "w"}
    # B[0] would carry the error into the input layer, which nothing reads: it carries no backward pass.
    assert monitor.no_backward_pass == {"B": [0]} and point["feedback_alignment"]["B"][0] is None
    # B is drawn independently of W: their cosine is a sum of n products of independent draws, of spread 1/sqrt(n).
    assert abs(point["feedback_alignment"]["B"][1]) < 4 / np.sqrt(48 * 10)
    # The output layer's update is backprop's; the hidden one's goes through B.
    assert point["alignment"]["w"][1] == pytest.approx(1.0, abs=1e-5)


def test_kolen_pollack_feedback_weights_align_with_the_forward_weights_within_500_steps():
    # Measured on digits, 64-32-10, batch 64: B[1] at 0.04 at step 1, 0.93 at 100, 0.99 at 200.
    result = train("kolen_pollack", data="digits", hidden=(32,), steps=200, batch=64)
    points = result.monitor["feedback_alignment"]["B"]
    assert all(point[0] is None for point in points)  # B[0], into the input layer, carries no backward pass
    carrying = [point[1] for point in points]
    assert carrying[0] < 0.2 and carrying[-1] > 0.9
    assert all(later > earlier for earlier, later in zip(carrying, carrying[1:]))


def test_node_perturbation_moves_along_the_gradient_on_average():
    result = train("node_perturbation", data="digits", hidden=(16,), steps=50, batch=64)
    cosines = np.array(result.monitor["alignment"]["w"], dtype=float)
    assert (cosines.mean(axis=0) > 0.05).all()  # on average over the points, in every layer


def test_the_command_prints_the_monitors_and_writes_them_as_json(tmp_path, monkeypatch, capsys):
    out = tmp_path / "run.json"
    code, stdout, err = run_cli("train", str(RULES / "feedback_alignment.rule"), "--data", "xor", "--layers", "8",
                                "--steps", "5", "--batch", "16", "--baseline", "none", "--monitor", "alignment,norms",
                                "--json", str(out), monkeypatch=monkeypatch, capsys=capsys)
    assert code == 0, err
    assert "cos(ΔW, -∇L)" in stdout and "cos(Bᵀ, W)" in stdout and "B: no gradient (fixed" in stdout
    record = json.loads(out.read_text())
    monitor = record["monitor"]
    assert set(monitor) == {"alignment", "norm_ratio", "feedback_alignment", "norm", "no_gradient",
                            "no_backward_pass", "points"}
    assert monitor["no_backward_pass"] == {"B": [0]} and "B[0]: carries no backward pass" in stdout
    points = len(record["evaluation_steps"])
    assert len(monitor["alignment"]["w"]) == len(monitor["norm"]["B"]) == points == 3
    assert monitor["alignment"]["B"] == [[None, None]] * points
    assert [point[0] for point in monitor["feedback_alignment"]["B"]] == [None] * points


def test_an_unknown_monitor_is_a_usage_error(monkeypatch, capsys):
    code, _, err = run_cli("train", str(RULES / "backprop.rule"), "--monitor", "alignment,angles",
                           monkeypatch=monkeypatch, capsys=capsys)
    assert code == 2 and "unknown monitor 'angles'" in err
