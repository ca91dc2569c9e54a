"""The population engine: vmapped, sharded over devices, the same on 4 devices as on 1, robust to NaN members."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np

import rulec
from rulec.meta import objectives, population
from rulec.meta.tasks import Task
from tests.conftest import ROOT

SCRIPT = """
import json, sys
import jax, jax.numpy as jnp, numpy as np
sys.path.insert(0, {root!r})
import rulec
from rulec.meta import objectives, population
from rulec.meta.tasks import load_tasks

rule = rulec.load({root!r} + "/stdlib_rules/abcd_hebbian.rule")  # a cheap rule whose genomes are drawn
net = rule.network((2, 4, 2))
genomes = jax.vmap(net.init_genome)(jax.random.split(jax.random.key(0), 6))
tasks = load_tasks(["xor"])
protocol = objectives.Protocol(unroll=3, eval_batches=2, batch=16, inits=2, outputs=2)
engine = population.Engine(lambda genome, key: objectives.evaluate(net, genome, key, tasks, protocol))
fitness, diverged = engine(genomes, jax.random.key(1))
from rulec.meta.gradient import Curriculum, Gradient
from rulec.meta.networks import Network
method = Gradient([Network(net, protocol)], tasks, Curriculum(unroll=3), "xent", 1e-2, 10.0, population=3)
carry, _ = method.step(method.init(jax.random.key(2), net.init_genome), jax.random.key(3), 0)
print(json.dumps({{"devices": len(jax.devices()), "fitness": np.asarray(fitness).tolist(),
                  "stepped": np.concatenate([np.ravel(g) for g in jax.tree.leaves(carry["genomes"])]).tolist()}}))
"""


def start_on(devices: int) -> subprocess.Popen:
    environment = dict(os.environ, XLA_FLAGS=f"--xla_force_host_platform_device_count={devices}",
                       JAX_PLATFORMS="cpu")
    return subprocess.Popen([sys.executable, "-c", SCRIPT.format(root=str(ROOT))], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=environment, cwd=ROOT)


def result_of(process: subprocess.Popen) -> dict:
    out, err = process.communicate()
    assert process.returncode == 0, err
    return json.loads(out.strip().splitlines()[-1])


def test_four_devices_give_the_same_results_as_one():
    started = start_on(1), start_on(4)  # side by side: each process compiles on one core
    one, four = (result_of(process) for process in started)
    assert (one["devices"], four["devices"]) == (1, 4)
    np.testing.assert_allclose(four["fitness"], one["fitness"], atol=1e-6)  # 6 members: padded to 8 on 4 devices
    np.testing.assert_allclose(four["stepped"], one["stepped"], atol=1e-6)  # a meta-gradient step of 3 runs


def test_a_diverging_member_gets_the_worst_fitness_and_the_rest_are_unaffected():
    rule = rulec.load(ROOT / "stdlib_rules" / "hebbian.rule")
    net = rule.network((6, 8, 3))
    genomes = {"eta": jnp.asarray([0.01, 1.0, 0.01], jnp.float32), "decay": jnp.asarray([0.0, -1e30, 0.0])}
    rng = np.random.default_rng(0)
    xs = jnp.asarray(rng.normal(size=(64, 6)), jnp.float32)
    labels = jnp.asarray(rng.integers(0, 3, 64), jnp.int32)
    task = Task("noise", (xs, labels), (xs, labels), 3)
    protocol = objectives.Protocol(unroll=4, eval_batches=2, batch=16, outputs=3)
    engine = population.Engine(lambda genome, key: objectives.evaluate(net, genome, key, [task], protocol))
    fitness, diverged = engine(genomes, jax.random.key(0))
    assert np.asarray(diverged).tolist() == [False, True, False]
    assert fitness[1] == objectives.WORST and 0 <= fitness[0] <= 1
    alone, _ = engine(jax.tree.map(lambda a: a[:1], genomes), jax.random.key(0))
    assert alone[0] == fitness[0]


def test_padding_repeats_the_last_member():
    padded = population.pad({"a": jnp.arange(3.0)}, 4)
    assert padded["a"].tolist() == [0.0, 1.0, 2.0, 2.0]
