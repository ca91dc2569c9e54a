"""Persistent ES (rulec/meta/persistent.py): each member's network carried across generations and restarted when
the unroll ends, the losses evosax is told checked against the same unroll stepped by hand in NumPy, the mean
moved against the accumulated perturbations, the checkpoint round trip, and the flags PES refuses."""

from __future__ import annotations

import json

import jax
import numpy as np
import pytest

import rulec
from rulec.meta.coordinates import denormalise, into_bounds
from rulec.meta.networks import Network
from rulec.meta.objectives import Protocol
from rulec.meta.persistent import Persistent, _live
from rulec.meta.tasks import load_tasks, sample
from tests.conftest import ROOT
from tests.conftest import run_cli as run, usage_error

BLUR = str(ROOT / "stdlib_rules" / "blur.rule")
# The command's runs: the cheapest rule with a genome, since they test the flags, the schedule and the resume.
PES = ["meta-train", str(ROOT / "stdlib_rules" / "hebbian.rule"), "--method", "pes", "--data", "xor", "--layers", "4",
       "--batch", "8", "--population", "4", "--unroll", "4", "--truncation", "2", "--eval-batches", "2", "--steps", "3"]


@pytest.fixture(scope="module")
def method():
    net = rulec.load(BLUR, k=2).network((2, 6, 2))
    protocol = Protocol(unroll=4, truncation=2, eval_batches=2, batch=16, outputs=2)
    genome = net.init_genome(jax.random.key(0))
    return Persistent(Network(net, protocol), load_tasks(["xor"]), population=4, sigma=0.3, learning_rate=0.01,
                      clip=10.0, loss="xent", template=genome), genome


def spy(method, monkeypatch) -> dict:
    """Records the members evosax asks for and the fitness it is told."""
    seen = {}
    ask, tell = method.strategy.ask, method.strategy.tell

    def asked(*args):
        seen["members"], state = ask(*args)
        return seen["members"], state

    def told(key, members, fitness, *rest):
        seen["fitness"] = np.asarray(fitness)
        return tell(key, members, fitness, *rest)

    monkeypatch.setattr(method.strategy, "ask", asked)
    monkeypatch.setattr(method.strategy, "tell", told)
    return seen


def by_hand(method, carry, members, key, states):
    """Each member's network advanced by one truncation and its held-out cross-entropy, stepped outside the method:
    the member's genome from its search coordinates, the batches drawn as the method documents, the loss in NumPy."""
    net, protocol, (task,) = method.network.net, method.network.protocol, method.tasks
    _, _, evaluate_key, _ = jax.random.split(key, 4)
    train_key, held_key = jax.random.split(jax.random.fold_in(evaluate_key, 0))
    xs, ys, _ = sample(train_key, task.train, protocol.truncation, protocol.batch, protocol.outputs)
    held_xs, _, labels = sample(held_key, task.held_out, protocol.eval_batches, protocol.batch, protocol.outputs)
    step = jax.jit(lambda g, s, x, y: net.unroll(g, s, x[None], y[None], remat=False))
    losses, advanced = [], []
    for i in range(method.population):
        z = jax.tree.map(lambda leaf, i=i: leaf[i], members)
        genome = into_bounds(denormalise(z, carry["start"], carry["scale"]), method.bounds)
        state = jax.tree.map(lambda leaf, i=i: leaf[i], states)
        for x, y in zip(xs, ys):
            state = step(genome, state, x, y)
        logits = np.asarray([net.predict(genome, state, x) for x in held_xs], np.float64)
        log_softmax = logits - np.log(np.sum(np.exp(logits), -1, keepdims=True))
        losses.append(-np.mean(np.take_along_axis(log_softmax, np.asarray(labels)[..., None], -1)))
        advanced.append(state)
    return np.asarray(losses), advanced


def test_members_keep_their_networks_until_the_unroll_ends(method, monkeypatch):
    persistent, _ = method
    seen = spy(persistent, monkeypatch)
    carry = persistent.init(jax.random.key(1), lambda key: method[1])
    positions = []
    for generation in range(3):
        key = jax.random.key(2 + generation)
        # Generations 0 and 2 start an unroll of 4 steps from fresh synapses; generation 1 goes on from 0's networks.
        restarts = generation != 1
        before = persistent._fresh(jax.random.split(key, 4)[0])[0] if restarts else carry["states"][0]
        stepped, record = persistent.step(carry, key, generation)
        losses, advanced = by_hand(persistent, carry, seen["members"], key, _live(before))
        np.testing.assert_allclose(seen["fitness"], losses, rtol=2e-4)
        for i, state in enumerate(advanced):
            np.testing.assert_allclose(np.asarray(stepped["states"][0].synapses["w"][0][i]),
                                       np.asarray(state.synapses["w"][0]), rtol=1e-5, atol=1e-6)
        positions.append((record["unroll"], int(stepped["states"][0].step[0])))
        carry = stepped
    assert positions == [(2, 2), (4, 4), (2, 2)]


def test_antithetic_members_share_their_data_and_the_mean_moves_against_the_loss(method, monkeypatch):
    persistent, genome = method
    seen = spy(persistent, monkeypatch)
    carry = persistent.init(jax.random.key(1), lambda key: genome)
    stepped, _ = persistent.step(carry, jax.random.key(5), 0)
    members = np.stack([np.concatenate([np.ravel(leaf[i]) for leaf in jax.tree.leaves(seen["members"])])
                        for i in range(4)])
    np.testing.assert_allclose(members[:2], -members[2:], rtol=1e-6)  # +e and -e around a mean of 0
    # PES's estimate after one truncation: sum_i loss_i e_i / (sigma^2 N); Adam's first step is -lr * its sign.
    estimate = seen["fitness"] @ members / 0.3 ** 2 / 4
    mean = np.concatenate([np.ravel(leaf) for leaf in jax.tree.leaves(
        persistent.strategy.get_mean(stepped["search"]))])
    moved = np.abs(estimate) > 1e-3 * np.abs(estimate).max()
    np.testing.assert_allclose(mean[moved], -0.01 * np.sign(estimate[moved]), rtol=1e-3)


def test_a_pes_run_resumes_from_its_checkpoint_with_the_members_networks(tmp_path, monkeypatch, capsys):
    out = tmp_path / "pes.npz"
    code, _, err = run(*PES, "-o", str(out), "--checkpoint-every", "1", monkeypatch=monkeypatch, capsys=capsys)
    assert code == 0, err
    whole = json.loads(out.with_suffix(".log.json").read_text())["history"]
    assert [r["unroll"] for r in whole] == [2, 4, 2] and whole[-1]["validation"] >= 0
    code, _, err = run(*PES[:-1], "5", "-o", str(out), "--resume", "--force", monkeypatch=monkeypatch,
                       capsys=capsys)
    assert code == 0 and "resuming from step 3" in err + _, err
    resumed = json.loads(out.with_suffix(".log.json").read_text())["history"]
    assert resumed[:3] == whole and [r["unroll"] for r in resumed[3:]] == [4, 2]


@pytest.mark.parametrize("flags, message", [
    (["--truncation", "3"], "the unroll of 4 steps is not a whole number of truncations of 3"),
    (["--population", "5"], "antithetic pairs; make the population even, not 5"),
    (["--horizons", "2,4"], "pes scores the members after every truncation"),
    (["--stability", "0.1"], "pes scores the members after every truncation"),
    (["--inits", "2"], "pes scores the members after every truncation"),
    (["--layers", "4/6"], "give one --layers and one --batch"),
])
def test_flags_pes_cannot_take_are_usage_errors(flags, message, monkeypatch, capsys):
    assert message in usage_error(*PES, *flags, monkeypatch=monkeypatch, capsys=capsys)


def test_the_default_truncation_is_the_unrolls_largest_divisor_up_to_10():
    from rulec.commands.flags import persistent_truncation

    assert [persistent_truncation("pes", None, unroll) for unroll in (100, 15, 7, 13)] == [10, 5, 7, 1]


def test_truncation_belongs_to_pes(monkeypatch, capsys):
    flags = [f if f != "pes" else "cmaes" for f in PES]
    assert "only --method pes cuts the unroll into truncations" in usage_error(*flags, monkeypatch=monkeypatch,
                                                                                capsys=capsys)
