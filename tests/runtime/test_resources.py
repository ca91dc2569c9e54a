"""The resource guard's estimate against XLA's own accounting of the compiled step, on small networks."""

from __future__ import annotations

import jax
import pytest

import rulec
from rulec.runtime.resources import step_estimate
from rulec.syntax import ast
from tests.conftest import ROOT

# Memory within [0.8, 3] times XLA's (arguments, outputs and temporaries), FLOPs within [0.5, 10] times, for every
# stdlib rule: oja.rule's update `mean(batch) a[j] * (a[i] - a[j] * w[i, j])` builds [batch, pre, post] whole, and
# the estimate must see that.
MEMORY_FACTOR = (0.8, 3.0)
FLOPS_FACTOR = (0.5, 10.0)


@pytest.mark.parametrize("name", sorted(path.stem for path in (ROOT / "stdlib_rules").glob("*.rule")))
def test_the_step_estimate_is_within_a_stated_factor_of_xla(name):
    path = ROOT / "stdlib_rules" / f"{name}.rule"
    rule = rulec.load(path)
    # XLA's cost analysis counts a loop's body once, whatever its trip count: its FLOPs are those of the rule with
    # each loop run once.
    once = rulec.load(path, **{loop.count.id: 1 for loop in rule.checked.rule.loops
                               if isinstance(loop.count, ast.Name)})
    sizes, batch = (64, 256, 10), 128
    net = rule.network(sizes)
    key = jax.random.key(0)
    shapes = (jax.eval_shape(net.init_genome, key), jax.eval_shape(net.init, key),
              jax.ShapeDtypeStruct((batch, sizes[0]), "float32"), jax.ShapeDtypeStruct((batch, sizes[-1]), "float32"))
    compiled = jax.jit(net.step).lower(*shapes).compile()
    memory = compiled.memory_analysis()
    measured = memory.temp_size_in_bytes + memory.argument_size_in_bytes + memory.output_size_in_bytes
    cost = compiled.cost_analysis()
    flops = (cost[0] if isinstance(cost, list) else cost)["flops"]
    estimate = step_estimate(rule.program, sizes, batch)
    assert MEMORY_FACTOR[0] <= estimate.bytes / measured <= MEMORY_FACTOR[1]
    assert FLOPS_FACTOR[0] <= step_estimate(once.program, sizes, batch).flops / flops <= FLOPS_FACTOR[1]


def test_a_relaxation_loop_counts_its_synapse_passes_count_times():
    """Equilibrium propagation's loop repeats forward and backward, each a pass over every synapse: each more
    iteration adds two passes' FLOPs."""
    path = ROOT / "stdlib_rules" / "equilibrium_propagation.rule"
    sizes, batch = (64, 256, 10), 128
    once, five = (step_estimate(rulec.load(path, n_relax=n).program, sizes, batch).flops for n in (1, 5))
    synapses = (64 + 1) * 256 + (256 + 1) * 10
    channels = 6  # as the estimate counts them: every channel of every neuron, s, down and nudge, two states each
    assert five - once == 4 * 2 * (2.0 * batch * synapses * channels)
