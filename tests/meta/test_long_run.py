"""Meta-training for the long run: scoring at several horizons, the stability term, and their flags."""

from __future__ import annotations

import dataclasses
import json
import types

import jax
import numpy as np
import pytest

import rulec
from rulec.meta import objectives
from rulec.meta.objectives import Horizon, Protocol
from rulec.meta.tasks import load_tasks, sample
from rulec.runtime.genome_file import learned_networks, load_genome
from tests.conftest import ROOT
from tests.conftest import run_cli as run, usage_error

BLUR = str(ROOT / "stdlib_rules" / "blur.rule")
# The command's runs: the cheapest rule with a genome, since they test the flags and what is recorded of them.
SMALL_ES = ["meta-train", str(ROOT / "stdlib_rules" / "hebbian.rule"), "--method", "cmaes", "--data", "xor",
            "--layers", "4", "--population", "4", "--batch", "8", "--steps", "1"]


@pytest.fixture(scope="module")
def tiny():
    net = rulec.load(BLUR, k=2).network((2, 8, 2))
    return net, net.init_genome(jax.random.key(0)), load_tasks(["xor"])


def rms(array) -> float:
    return float(np.sqrt(np.mean(np.square(np.asarray(array, np.float64)))))


def test_the_objectives_are_weighted_over_the_horizons_with_the_stability_term(tiny):
    net, genome, tasks = tiny
    genome = {**genome, "f_w": np.float32(1.1)}  # synapses that grow, so that the stability term counts
    protocol = Protocol(unroll=3, batch=16, outputs=2, horizons=(Horizon(3, 1, 3.0), Horizon(1, 2, 1.0)),
                        stability=0.5)
    key = jax.random.key(1)
    # Each traced as one program: op by op, the unroll's hundreds of operations would compile one by one.
    fitness, diverged = jax.jit(lambda genome: objectives.evaluate(net, genome, key, tasks, protocol))(genome)
    loss, _ = jax.jit(lambda genome: objectives.meta_loss(net, genome, key, tasks, protocol))(genome)
    # The same run stepped by hand: task 0's one synapse draw, its batches, scored after steps 1 and 3.
    init_key, train_key, held_key = jax.random.split(jax.random.split(jax.random.fold_in(key, 0), 1)[0], 3)
    xs, ys, _ = sample(train_key, tasks[0].train, 3, 16, 2)
    held_xs, _, labels = sample(held_key, tasks[0].held_out, 2, 16, 2)
    first = state = net.init(init_key)
    scored_states = []
    # One step of the unroll, which (unlike net.step) leaves alone a synapse nothing reads: blur's first `wb`.
    step_once = jax.jit(lambda genome, state, x, y: net.unroll(genome, state, x[None], y[None], remat=False))
    predict, accuracies, losses = jax.jit(net.predict), [], []
    for done, step, batches in ((0, 1, 2), (1, 3, 1)):
        for x, y in zip(xs[done:step], ys[done:step]):
            state = step_once(genome, state, x, y)
        scored_states.append(state)
        logits = np.asarray([predict(genome, state, x) for x in held_xs[:batches]], np.float64)
        chosen = np.asarray(labels[:batches])
        accuracies.append(np.mean(np.argmax(logits, -1) == chosen))
        log_softmax = logits - np.log(np.sum(np.exp(logits), -1, keepdims=True))
        losses.append(-np.mean(np.take_along_axis(log_softmax, chosen[..., None], -1)))
    def growth(since):
        return np.mean([max(0.0, np.log(rms(b) / rms(a))) for a, b in
                        zip(jax.tree.leaves(since.synapses), jax.tree.leaves(state.synapses))])

    accuracy, cross_entropy = (accuracies[0] + 3 * accuracies[1]) / 4, (losses[0] + 3 * losses[1]) / 4
    assert not diverged and growth(first) > growth(scored_states[0]) > 0.01
    np.testing.assert_allclose(fitness, accuracy - 0.5 * growth(first), rtol=1e-5)
    np.testing.assert_allclose(loss, cross_entropy + 0.5 * growth(first), rtol=1e-4)
    # --stability-from 1: the growth from the state scored at step 1 to the end, not from the start.
    later = dataclasses.replace(protocol, stability_from=1)
    np.testing.assert_allclose(jax.jit(lambda genome: objectives.evaluate(net, genome, key, tasks, later))(genome)[0],
                               accuracy - 0.5 * growth(scored_states[0]), rtol=1e-5)


def test_growth_is_the_mean_log_rms_growth_of_the_synapses_that_grew():
    rng = np.random.default_rng(0)
    first = {"w": [rng.normal(size=(3, 4)), rng.normal(size=(4, 2))], "wb": [rng.normal(size=(2, 4))]}
    last = {"w": [5 * first["w"][0], 0.5 * first["w"][1]], "wb": [first["wb"][0] + 2.0]}
    expected = np.mean([max(0.0, np.log(rms(b) / rms(a))) for a, b in
                        zip(first["w"] + first["wb"], last["w"] + last["wb"])])
    state = lambda synapses: types.SimpleNamespace(synapses=jax.tree.map(np.float32, synapses))  # noqa: E731
    assert expected > np.log(5) / 3  # the array that shrank counts as 0, not as a negative growth
    np.testing.assert_allclose(objectives.growth(state(first), state(last)), expected, rtol=1e-5)


def test_horizons_stability_and_a_grid_are_recorded_in_the_genomes_settings(tmp_path, monkeypatch, capsys):
    # The checkpoint holds the same settings, and refuses a resume under others (tests/meta/test_meta_train.py).
    # Layers 4/6,6 make a grid of two networks of two depths (rulec/meta/networks.py), trained on one a generation
    # in turn; the genome's metadata names both, as specs a reader builds them from.
    out = tmp_path / "long.npz"
    code, _, err = run(*SMALL_ES, "--horizons", "1,3:1:0.5", "--eval-batches", "4", "--stability", "0.25", "-o",
                       str(out), "--layers", "4/6,6", "--steps", "3", monkeypatch=monkeypatch, capsys=capsys)
    assert code == 0, err
    assert "layers 2-4-2 / 2-6-6-2, batch 8 (a grid of 2 networks, one per step in turn)" in " ".join(err.split())
    info = json.loads(out.with_suffix(".json").read_text())
    settings = info["settings"]
    assert settings["hidden"] == [[4], [6, 6]] and settings["batches"] == [8] and info["layers"] == [2, 4, 2]
    assert info["networks"] == learned_networks(info) == ["2,4,2", "2,6,6,2"]
    rule = rulec.load(SMALL_ES[1])
    assert rule.network(info["networks"][1]).sizes == (2, 6, 6, 2)
    assert set(load_genome(out, rule, (2, 6, 6, 2))) == {entry.name for entry in rule.program.genome}
    history = json.loads(out.with_suffix(".log.json").read_text())["history"]
    assert [record["network"] for record in history] == [0, 1, 0]
    assert 0 <= history[-1]["validation"] <= 1  # averaged over both networks
    assert settings["protocol"]["horizons"] == [{"step": 1, "batches": 4, "weight": 1.0},
                                                {"step": 3, "batches": 1, "weight": 0.5}]
    assert settings["protocol"]["unroll"] == 3 and settings["protocol"]["stability"] == 0.25
    saved = json.loads((tmp_path / "long.checkpoint" / "checkpoint.json").read_text())["config"]
    assert saved == settings


@pytest.mark.parametrize("flags, message", [
    (["--horizons", "5,x"], "malformed horizon 'x': steps and batches are whole numbers >= 1"),
    (["--horizons", "0,5"], "malformed horizon '0'"),
    (["--horizons", "5:0"], "malformed horizon '5:0'"),
    (["--horizons", "5:2:-1"], "malformed horizon '5:2:-1'"),
    (["--horizons", "5:2:nan"], "malformed horizon '5:2:nan'"),
    (["--horizons", "5:1:1:1"], "malformed horizon '5:1:1:1'"),
    (["--horizons", "5,10,5"], "a step is given twice in '5,10,5'"),
    (["--horizons", "5,10", "--unroll", "5"], "--horizons runs the unroll to its longest horizon, 10; leave --unroll"),
    (["--horizons", "5,10", "--score-at", "5"], "give --horizons or --score-at, not both"),
    (["--horizons", "5,10", "--method", "grad", "--unroll-step", "2"], "a growing curriculum (--unroll-step)"),
    (["--stability", "-1"], "-1.0 is not a finite number >= 0"),
    (["--stability", "nan"], "nan is not a finite number >= 0"),
    (["--horizons", "1,3", "--stability-from", "1"], "give --stability too"),
    (["--horizons", "1,3", "--stability", "1", "--stability-from", "3"], "choose 0 or one of 1 (--horizons"),
    (["--unroll", "3", "--stability", "1", "--stability-from", "2"], "choose 0 or one of none"),
])
def test_bad_long_run_flags_are_usage_errors(flags, message, monkeypatch, capsys):
    assert message in usage_error(*SMALL_ES, *flags, monkeypatch=monkeypatch, capsys=capsys)


def test_default_batches_shrink_with_the_horizon():
    from rulec.commands.flags import parse_horizons

    assert parse_horizons("5,10,20,100", 20) == (Horizon(5, 20), Horizon(10, 10), Horizon(20, 5), Horizon(100, 1))
