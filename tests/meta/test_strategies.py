"""Every registered evolution strategy through one generation and a resume, at tiny size (the battery of the
ES registry, after optax's `_OPTIMIZERS_UNDER_TEST`); evosax classes outside the contract are refused when built.

The battery tests the strategies, so each member is scored by a smooth bowl around the all-ones genome instead of
an inner loop, which every strategy shares and tests/meta/test_meta_train.py runs: one generation then costs the
strategy's own compilation, not a network's.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import rulec
from rulec.meta import checkpoint, objectives
from rulec.meta.evolution import Evolution, build_strategy
from rulec.meta.methods import METHODS
from rulec.meta.networks import Network
from rulec.meta.tasks import load_tasks
from tests.conftest import ROOT

STRATEGIES = [name for name, entry in METHODS.items() if entry.load() is Evolution]
POPULATION = 4


def bowl(net, genome, key, tasks, protocol):
    distance = sum(jnp.mean((leaf - 1) ** 2) for leaf in jax.tree.leaves(genome))
    return jnp.exp(-distance), jnp.zeros((), bool)


@pytest.fixture(scope="module")
def tiny():
    rule = rulec.load(ROOT / "stdlib_rules" / "blur.rule", k=2)
    net = rule.network((2, 3, 2))
    protocol = objectives.Protocol(unroll=1, eval_batches=1, batch=4, outputs=2)
    return rule, Network(net, protocol), load_tasks(["xor"]), net.init_genome(jax.random.key(0))


@pytest.mark.parametrize("name", STRATEGIES)
def test_every_strategy_runs_a_generation_and_resumes_it_exactly(name, tiny, tmp_path, monkeypatch):
    rule, network, tasks, genome = tiny
    monkeypatch.setattr(objectives, "evaluate", bowl)
    with jax.disable_jit():  # a generation of a tiny genome runs faster op by op than compiled
        generation_and_resume(name, rule, network, tasks, genome, tmp_path)


def generation_and_resume(name, rule, network, tasks, genome, directory):
    method = Evolution([network], tasks, METHODS[name].variant, POPULATION, 0.1, genome)
    carry = method.init(jax.random.key(1), network.net.init_genome)
    carry, record = method.step(carry, jax.random.key(2), 0)
    carry = jax.tree.map(jnp.asarray, carry)  # op by op, evosax leaves Python numbers where jit gives arrays
    assert 0 <= record["best"] <= 1
    checkpoint.save(directory, rule, {"steps": 2}, 1, carry, jax.random.key(3), [{"step": 1, **record}])
    fresh = jax.tree.map(jnp.asarray, method.init(jax.random.key(4), network.net.init_genome))
    _, restored, _, _ = checkpoint.load(directory, rule, {"steps": 2}, fresh)
    after, resumed = (method.genome(method.step(c, jax.random.key(5), 1)[0]) for c in (carry, restored))
    moved = method.genome(carry)
    for entry in genome:
        np.testing.assert_array_equal(resumed[entry], after[entry])
        assert np.isfinite(after[entry]).all()
    assert any(not np.array_equal(moved[e], genome[e]) for e in genome), "one generation left the mean unmoved"


@pytest.mark.parametrize("name, why", [
    ("GradientlessDescent", "no step size rulec can set"),
    ("SimpleGA", "keeps a population, not a mean"),
    ("SV_CMA_ES", "built from num_populations, not only"),
    ("Nowhere_ES", "evosax.algorithms has no such class"),
])
def test_a_strategy_outside_the_contract_is_refused_when_built(name, why, tiny):
    with pytest.raises(TypeError, match=f"evosax's {name} cannot be a rulec evolution strategy: .*{why}"):
        build_strategy(name, POPULATION, tiny[3], 0.1)
