"""`rulec meta-train`: both methods learn, a killed run resumes to the same genome, incompatible files are refused,
and the genome it writes is one that `rulec train --genome` uses."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import jax
import jax.numpy as jnp
import numpy as np

import rulec
from rulec.meta import gradient, objectives
from rulec.meta.gradient import Curriculum, Gradient
from rulec.meta.networks import Network
from rulec.meta.tasks import load_tasks
from tests.conftest import ROOT
from tests.conftest import run_cli as run

BLUR = str(ROOT / "stdlib_rules" / "blur.rule")
# A small evolution run: 2 states, 8 hidden neurons, xor; about 0.1 s a generation on 2 cores.
SMALL_ES = ["meta-train", BLUR, "--set", "k=2", "--method", "cmaes", "--data", "xor", "--layers", "8",
            "--population", "8", "--batch", "32", "--unroll", "5", "--eval-batches", "2"]


def genome_arrays(path) -> dict:
    with np.load(path, allow_pickle=False) as data:
        return {name: data[name] for name in data.files}


def test_gradient_meta_training_lowers_the_meta_loss():
    rule = rulec.load(BLUR, k=2)
    tasks = load_tasks(["xor", "and", "moons"])
    net = rule.network((2, 8, 2))
    protocol = objectives.Protocol(unroll=4, eval_batches=2, batch=32, outputs=2)
    method = Gradient([Network(net, protocol)], tasks, Curriculum(unroll=4), "xent", 0.1, 10.0, population=2)
    carry = method.init(jax.random.key(0), net.init_genome)
    losses = []
    for step in range(60):
        carry, record = method.step(carry, jax.random.key(step), step)
        losses.append(record["loss"])
    assert np.mean(losses[-5:]) < 0.9 * np.mean(losses[:5])


def test_a_non_finite_meta_gradient_is_skipped_and_reported():
    rule = rulec.load(ROOT / "stdlib_rules" / "hebbian.rule")
    net = rule.network((2, 4, 2))
    protocol = objectives.Protocol(unroll=3, eval_batches=1, batch=8, outputs=2)
    method = Gradient([Network(net, protocol)], load_tasks(["xor"]), Curriculum(unroll=3), "xent", 1e-2, 10.0,
                      population=2)
    carry = method.init(jax.random.key(0), net.init_genome)
    exploding = {"eta": jnp.asarray([0.01, 1.0]), "decay": jnp.asarray([0.0, -1e30])}
    carry["genomes"] = exploding
    carry, record = method.step(carry, jax.random.key(1), 0)
    assert record["skipped"] == 1
    assert carry["genomes"]["decay"][1] == exploding["decay"][1]  # left as it was
    assert carry["genomes"]["eta"][0] != 0.01  # the healthy run stepped
    assert np.isfinite(record["loss"])


def test_curriculum_grows_the_unroll_and_synchronises_the_runs():
    curriculum = Curriculum(unroll=10, unroll_step=5, unroll_every=100, max_unroll=20)
    assert [curriculum.at(s) for s in (0, 99, 100, 250, 10_000)] == [10, 10, 15, 20, 20]
    from rulec.meta.gradient import synchronise

    carry = {"genomes": {"a": jnp.asarray([1.0, 2.0, 3.0])}, "loss": jnp.asarray([0.5, 0.1, 0.9])}
    assert synchronise(carry)["genomes"]["a"].tolist() == [2.0, 2.0, 2.0]


def test_evolution_writes_a_genome_that_train_uses(tmp_path, monkeypatch, capsys):
    out = tmp_path / "xor.npz"
    code, _, err = run(*SMALL_ES, "--steps", "3", "-o", str(out), "--plot", str(tmp_path / "curves.png"),
                       "--inputs", "raw", monkeypatch=monkeypatch, capsys=capsys)
    assert code == 0, err
    info = json.loads(out.with_suffix(".json").read_text())
    rule = rulec.load(BLUR, k=2)
    assert (info["rule"], info["source_hash"], info["dims"], info["seed"]) == ("blur", rule.source_hash, {"k": 2}, 0)
    assert info["inputs"] == info["settings"]["inputs"] == "raw"
    assert "meta-train" in info["command"] and info["method"] == "cmaes" and info["rulec_version"]
    log = json.loads(out.with_suffix(".log.json").read_text())
    assert [r["step"] for r in log["history"]] == [1, 2, 3] and "validation" in log["history"][-1]
    assert (tmp_path / "curves.png").stat().st_size > 10_000
    code, out_text, err = run("train", BLUR, "--set", "k=2", "--genome", str(out), "--data", "xor", "--layers", "8",
                              "--steps", "5", "--baseline", "none", monkeypatch=monkeypatch, capsys=capsys)
    assert code == 0, err
    assert f"genome {out}" in " ".join(err.split()) and "raw inputs, the genome's" in " ".join(err.split())


def test_resume_refuses_a_checkpoint_of_other_settings_or_another_rule(tmp_path, monkeypatch, capsys):
    out = tmp_path / "xor.npz"
    assert run(*SMALL_ES, "--steps", "2", "-o", str(out), monkeypatch=monkeypatch, capsys=capsys)[0] == 0
    code, _, err = run(*SMALL_ES, "--steps", "4", "--sigma", "0.9", "-o", str(out), "--resume",
                       monkeypatch=monkeypatch, capsys=capsys)
    assert code == 1 and "other settings (sigma: 0.3 in the checkpoint, 0.9 now)" in err
    code, _, err = run(*SMALL_ES, "--steps", "1", "-o", str(out), "--resume", monkeypatch=monkeypatch, capsys=capsys)
    assert code == 2 and "is at step 2, past the 1 asked for" in " ".join(err.split()), err
    code, _, err = run(*SMALL_ES, "--steps", "4", "--data-dir", str(tmp_path), "-o", str(out), "--resume",
                       monkeypatch=monkeypatch, capsys=capsys)
    assert code == 1 and f"data_dir: None in the checkpoint, {str(tmp_path.resolve())!r} now" in err
    code, _, err = run(*[a if a != "k=2" else "k=3" for a in SMALL_ES], "--steps", "4", "-o", str(out), "--resume",
                       monkeypatch=monkeypatch, capsys=capsys)
    assert code == 1 and "is for rule `blur` with dims {'k': 2}" in err
    edited = tmp_path / "blur.rule"
    edited.write_text(open(BLUR).read().replace("eta_w = -0.001", "eta_w = -0.002"))
    code, _, err = run(*[a if a != BLUR else str(edited) for a in SMALL_ES], "--steps", "4", "-o", str(out),
                       "--resume", monkeypatch=monkeypatch, capsys=capsys)
    assert code == 1 and "another version of rule `blur`" in err
    code, _, err = run("train", str(edited), "--set", "k=2", "--genome", str(out), "--data", "xor",
                       monkeypatch=monkeypatch, capsys=capsys)
    assert code == 1 and "another version of rule `blur`" in err
    code, _, err = run(*SMALL_ES, "-o", str(tmp_path / "none.npz"), "--resume", monkeypatch=monkeypatch,
                       capsys=capsys)
    assert code == 2 and "there is no checkpoint" in err
    code, _, err = run(*[a if a != "cmaes" else "annealing" for a in SMALL_ES], monkeypatch=monkeypatch,
                       capsys=capsys)
    assert code == 2 and "choose from grad, cmaes" in err


def test_a_run_killed_partway_resumes_to_the_genome_of_an_uninterrupted_run(tmp_path, compilation_cache):
    steps = 20
    command = [sys.executable, "-m", "rulec", *SMALL_ES, "--steps", str(steps), "--checkpoint-every", "2"]
    environment = dict(os.environ, JAX_PLATFORMS="cpu")
    whole = subprocess.run(command + ["-o", str(tmp_path / "whole.npz")], capture_output=True, text=True,
                           env=environment, cwd=ROOT)
    assert whole.returncode == 0, whole.stderr

    killed = tmp_path / "killed.npz"
    index = killed.with_suffix(".checkpoint") / "checkpoint.json"
    process = subprocess.Popen(command + ["-o", str(killed)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               env=environment, cwd=ROOT)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        if index.exists() and json.loads(index.read_text())["step"] >= 6:
            break
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    assert process.wait() == -signal.SIGKILL, "the run finished before it could be killed"
    stopped_at = json.loads(index.read_text())["step"]
    assert 6 <= stopped_at < steps and not killed.exists()

    resumed = subprocess.run(command + ["-o", str(killed), "--resume"], capture_output=True, text=True,
                             env=environment, cwd=ROOT)
    assert resumed.returncode == 0, resumed.stderr
    assert f"resuming from step {stopped_at}" in resumed.stderr
    expected, got = genome_arrays(tmp_path / "whole.npz"), genome_arrays(killed)
    assert expected.keys() == got.keys()
    for name in expected:
        np.testing.assert_array_equal(got[name], expected[name])
    history = json.loads(killed.with_suffix(".log.json").read_text())["history"]
    assert [r["step"] for r in history] == list(range(1, steps + 1))


def test_evolution_from_a_random_start_centres_on_the_fittest_draw():
    from rulec.meta.evolution import Evolution

    rule = rulec.load(BLUR, k=2)
    net = rule.network((2, 8, 2))
    tasks = load_tasks(["xor"])
    protocol = objectives.Protocol(unroll=5, eval_batches=2, batch=32, outputs=2)
    method = Evolution([Network(net, protocol)], tasks, "CMA_ES", 8, 0.3, net.init_genome(jax.random.key(0)))
    carry = method.init(jax.random.key(1), net.init_genome, random_start=True)
    draw_key, evaluate_key, _ = jax.random.split(jax.random.key(1), 3)
    drawn = jax.vmap(net.init_genome)(jax.random.split(draw_key, 8))
    evaluate = jax.jit(lambda genome: objectives.evaluate(net, genome, evaluate_key, tasks, protocol))  # once
    fitness = [float(evaluate(jax.tree.map(lambda d, i=i: d[i], drawn))[0]) for i in range(8)]
    best = jax.tree.map(lambda d: d[int(np.argmax(fitness))], drawn)
    assert max(fitness) > min(fitness)
    for name in best:
        np.testing.assert_allclose(carry["start"][name], best[name], rtol=1e-6)
    np.testing.assert_allclose(method.genome(carry)["nu"], best["nu"], rtol=1e-6)  # the mean starts there


def test_score_at_scores_earlier_steps_too_and_averages():
    assert objectives.Protocol(unroll=20, score_at=(5, 10, 30)).points() == [5, 10, 20]
    rule = rulec.load(BLUR, k=2)
    net = rule.network((2, 8, 2))
    genome = net.init_genome(jax.random.key(0))
    tasks = load_tasks(["xor"])
    key = jax.random.key(1)
    protocol = objectives.Protocol(unroll=6, eval_batches=2, batch=16, outputs=2, score_at=(2, 4))
    # Each traced as one program: op by op, the unrolls' hundreds of operations would compile one by one.
    (loss, _), grads = jax.jit(jax.value_and_grad(lambda genome: objectives.meta_loss(net, genome, key, tasks,
                                                                                      protocol), has_aux=True))(genome)
    assert np.isfinite(loss) and all(bool(jnp.all(jnp.isfinite(g))) for g in jax.tree.leaves(grads))
    # Scoring after steps 2 and 4 as well: the average of three scores of the same run.
    task_key = jax.random.split(jax.random.fold_in(key, 0), 1)[0]  # task 0's one synapse draw
    _, _, scored = jax.jit(lambda genome: objectives._trained(net, genome, task_key, tasks[0], protocol,
                                                              remat=False))(genome)
    accuracy, _ = jax.jit(lambda genome: objectives.evaluate(net, genome, key, tasks, protocol))(genome)
    assert len(scored) == 3
    per_point = np.asarray([np.mean(np.argmax(logits, -1) == labels) for logits, _, labels in scored])
    np.testing.assert_allclose(accuracy, per_point.mean(), rtol=1e-6)


def test_a_task_with_fewer_classes_is_scored_on_its_own_outputs():
    rule = rulec.load(BLUR, k=2)
    tasks = load_tasks(["xor", "blobs"])
    net = rule.network((2, 8, 5))  # blobs' five classes set the shared width
    genome = net.init_genome(jax.random.key(0))
    protocol = objectives.Protocol(unroll=3, eval_batches=2, batch=16, outputs=5)
    def scored(task):  # traced as one program, not run op by op
        return jax.jit(lambda genome: objectives._trained(net, genome, jax.random.key(1), task, protocol, False))(
            genome)[2]

    [(logits, targets, labels)] = scored(tasks[0])
    assert logits.shape[-1] == 2 and targets.shape[-1] == 2 and int(labels.max()) <= 1
    [(logits, _, _)] = scored(tasks[1])
    assert logits.shape[-1] == 5


def test_adam_steps_in_units_of_each_entrys_size():
    # Adam's first step is lr * sign(gradient) per entry; in units of max(|entry|, floor) it is that times the
    # unit, so eta_w = -0.001 moves by 1e-6 at lr 1e-3 instead of flipping its sign.
    genome = {"nu": jnp.asarray([0.5, -2.0]), "eta_w": jnp.asarray(-0.001)}
    floor = {"nu": jnp.asarray([1.0, 1.0]), "eta_w": jnp.asarray(0.001)}
    grads = {"nu": jnp.asarray([3.0, -0.2]), "eta_w": jnp.asarray(-500.0)}
    chain = gradient.optimiser(1e-3, 10.0, floor)
    updates, _ = chain.update(grads, chain.init(genome), genome)
    np.testing.assert_allclose(updates["nu"], [-1e-3, 2e-3], rtol=1e-4)  # -2.0 is its own unit: twice the step
    np.testing.assert_allclose(updates["eta_w"], 1e-6, rtol=1e-4)
    raw = gradient.optimiser(1e-3, 10.0)
    updates, _ = raw.update(grads, raw.init(genome), genome)
    np.testing.assert_allclose(updates["eta_w"], 1e-3, rtol=1e-4)  # what an unnormalised step does


def test_gradient_meta_training_from_a_good_genome_keeps_it_good():
    """Backprop at lr 0.1 learns xor and and to about 0.83 in 20 steps (chance is 0.5, its declared lr of 0.001
    reaches about 0.63): five meta-gradient steps from that genome, at a rate that moves it by a tenth a step, keep
    it as good."""
    rule = rulec.load(ROOT / "stdlib_rules" / "backprop.rule")
    tasks = load_tasks(["xor", "and"])
    net = rule.network((2, 8, 2))
    protocol = objectives.Protocol(unroll=20, eval_batches=4, batch=32, outputs=2)
    good = {"lr": jnp.asarray(0.1, jnp.float32)}
    evaluate = jax.jit(lambda genome: objectives.evaluate(net, genome, jax.random.key(99), tasks, protocol)[0])
    before = evaluate(good)
    declared = evaluate(rule.init_genome(jax.random.key(0)))
    assert before >= 0.75 and before >= declared + 0.1
    method = Gradient([Network(net, protocol)], tasks, Curriculum(unroll=20), "xent", 0.1, 10.0, population=1)
    carry = method.init(jax.random.key(0), lambda key: good)
    for step in range(5):
        carry, _ = method.step(carry, jax.random.key(100 + step), step)
    assert float(method.genome(carry)["lr"]) != 0.1  # it stepped
    after = evaluate(method.genome(carry))
    assert after >= 0.75 and after >= before - 0.05
