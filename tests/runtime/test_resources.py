"""The resource guard's estimate against XLA's own accounting of the compiled step, on small networks."""

from __future__ import annotations

import jax
import pytest

import rulec
from rulec.runtime.resources import step_estimate
from tests.conftest import ROOT

# Memory within [0.8, 3] times XLA's (arguments, outputs and temporaries), FLOPs within [0.5, 10] times, for every
# stdlib rule: oja.rule's update `mean(batch) a[j] * (a[i] - a[j] * w[i, j])` builds [batch, pre, post] whole, and
# the estimate must see that.
MEMORY_FACTOR = (0.8, 3.0)
FLOPS_FACTOR = (0.5, 10.0)


@pytest.mark.parametrize("name", sorted(path.stem for path in (ROOT / "stdlib_rules").glob("*.rule")))
def test_the_step_estimate_is_within_a_stated_factor_of_xla(name):
    rule = rulec.load(ROOT / "stdlib_rules" / f"{name}.rule")
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
    assert FLOPS_FACTOR[0] <= estimate.flops / flops <= FLOPS_FACTOR[1]
