"""A resource guard: the memory and the work of a plan, estimated from its sizes before anything is traced.

Nothing here traces or compiles. The lowering unrolls channel sums in Python, so even tracing `--set k=100000`
takes minutes; the estimate must come first and come from arithmetic alone. Per inner step of one network:

* memory: the synapses (read, written, and one temporary), the genome, and the neuron states of the batch
  (every neuron channel of every layer, a few live copies), in float32;
* FLOPs: each synapse element meets each example once per phase that reads or writes it (forward, backward,
  update, and each repeat of a relaxation loop's forward and backward), times the neuron channels it mixes; a sum
  over three or more neuron indices adds its whole extent.

The constants were set against XLA's own figures (`memory_analysis`, `cost_analysis` of the compiled step) and
the test `tests/runtime/test_resources.py` holds them to a stated factor on small networks.
"""

from __future__ import annotations

import dataclasses
import math
import time

from rulec.check.symbols import BATCH
from rulec.memory import usable_bytes
from rulec.phases import PhaseKind
from rulec.geometry import Geometry, geometry
from rulec.shapes import genome_shapes, instance_roles, synapse_shapes

FLOAT_BYTES = 4
SYNAPSE_COPIES = 3  # the state read, the state written, one temporary of the same size
NEURON_COPIES = 4  # pre-activation, activation, derivative, feedback of every neuron channel
PHASES = 3  # forward, backward, update
SYNAPSE_READERS = frozenset({PhaseKind.FORWARD, PhaseKind.BACKWARD})  # the phases a loop repeats that read synapses
BROADCAST_COPIES = 2  # a summand built whole over [batch, pre, post], and one temporary of that size
SLOW_STEP_SECONDS = 10.0
# No machine rulec runs on is slower than this, so a plan below SLOW_STEP_SECONDS of it needs no measurement.
MIN_FLOPS_PER_SECOND = 1e9


@dataclasses.dataclass(frozen=True)
class Estimate:
    bytes: int
    flops: float

    def __mul__(self, factor: int) -> Estimate:
        return Estimate(self.bytes * factor, self.flops * factor)


def synapse_count(program, sizes) -> int:
    return sum(math.prod(shape) for s in program.synapses for shape in synapse_shapes(s, sizes))


def synapse_work(program, layers: Geometry) -> int:
    """The synapse elements times the examples each meets: on a convolutional pair every position is one."""
    depth = len(layers.sizes) - 1
    return sum(math.prod(shape) * layers.examples(roles) for s in program.synapses
               for roles, shape in zip(instance_roles(s.scheme, depth), synapse_shapes(s, layers)))


def step_estimate(program, layers, batch: int) -> Estimate:
    """Memory and FLOPs of one inner step of `program` on a network of `layers` (sizes, or a geometry), for a
    batch. A convolutional pair's pre layer is also held as patches."""
    layout = geometry(layers)
    sizes = layout.sizes
    synapses = synapse_count(program, layout)
    genome = sum(math.prod(shape) for g in program.genome
                 for shape in (genome_shapes(g, layout) if g.per_synapse else [g.shape]))
    channels = sum(n.states or 1 for n in program.neurons if not n.persistent) or 1
    # A persistent neuron holds one value per neuron, not one per example.
    patches = sum(pair.positions * pair.receptive_field for pair in layout.convs if pair)
    neurons = (sum(sizes) * (batch * channels + sum(n.states or 1 for n in program.neurons if n.persistent))
               + patches * batch * channels)
    # A batch sum that is not a product of factors (Oja's `mean(batch) a[j] * (a[i] - a[j] * w[i, j])`) is no
    # einsum: its summand is built whole, [batch, pre, post], along with a few temporaries of that size.
    work = synapse_work(program, layout)
    broadcast = BROADCAST_COPIES * batch * work if sums_batch_of_non_products(program) else 0
    memory = FLOAT_BYTES * (SYNAPSE_COPIES * synapses + genome + NEURON_COPIES * neurons + broadcast)
    passes = PHASES + sum((loop.count - 1) * len(set(loop.kinds) & SYNAPSE_READERS) for loop in program.loops)
    return Estimate(memory, 2.0 * passes * batch * work * channels + wide_sum_flops(program, sizes, batch))


def layer_indices(expr) -> dict[str, str]:
    """The neuron indices the loads of `expr` are indexed by, with the role each ranges over."""
    from rulec.ir import nodes

    return {p.index: p.role for e in nodes.walk(expr) if isinstance(e, nodes.Load) for p in e.positions
            if isinstance(p, nodes.Layer)}


def wide_sum_flops(program, sizes, batch: int) -> float:
    """The work of the sums over three or more neuron indices, which no synapse-sized term counts: Sanger's
    `mean(batch) a[j] * (a[i] - sum(k in post, k <= j) w[i, k] * a[k])` costs batch x pre x post x post."""
    from rulec.ir import nodes
    from rulec.ir.instances import instances

    depth, flops = len(sizes) - 1, 0.0
    for phase in program.phases:
        for statement in phase.statements:
            for e in nodes.walk(statement.value):
                roles = layer_indices(e.body).values() if isinstance(e, nodes.Reduce) else ()
                if len(roles) < 3:
                    continue
                examples = batch if any(isinstance(s, nodes.Load) and s.batch for s in nodes.walk(e.body)) else 1
                for instance in instances(phase.scheme, depth):
                    layer = {"input": 0, "output": depth, **instance}
                    flops += 2.0 * examples * math.prod(sizes[layer.get(role, depth)] for role in roles)
    return flops


def sums_batch_of_non_products(program) -> bool:
    """Whether some reduction over the batch has a `+` or `-` over two neuron indices under a product or a function
    in its summand, as Oja's `a[i] - a[j] * w[i, j]`.

    A `+` at the top of a summand is fine: the lowering distributes the sum over it, one einsum per term. So is one
    over a single neuron index, as BCM's `a[j] - theta[j]`: it is a [batch, neurons] array, not a synapse's."""
    from rulec.ir import nodes
    from rulec.syntax.ast import BinOp

    pending = [(statement.value, False, False) for phase in program.phases for statement in phase.statements]
    while pending:
        expr, in_batch_sum, under_product = pending.pop()
        additive = isinstance(expr, nodes.Arith) and expr.op in (BinOp.ADD, BinOp.SUB)
        if in_batch_sum and under_product and additive and len(layer_indices(expr)) >= 2:
            return True
        if isinstance(expr, nodes.Reduce):
            in_batch_sum = in_batch_sum or BATCH in expr.axes
        elif not additive and not isinstance(expr, nodes.Neg):
            under_product = under_product or in_batch_sum
        pending += [(child, in_batch_sum, under_product) for child in nodes.children(expr)]
    return False


def jacobian_estimate(program, sizes, batch: int) -> Estimate:
    """`rulec analyze`'s numeric check: two float64 Jacobians of the update, [weights, weights] each, and a
    float64 step for each of their columns."""
    weights = synapse_count(program, sizes)
    step = step_estimate(program, sizes, batch)
    return Estimate(2 * (2 * step.bytes + 8 * weights**2), 2 * step.flops * weights)


def available_bytes() -> int:
    """The memory a run may use: the first local accelerator's, else what this process may still take on this
    machine (rulec/memory.py: available memory, `ulimit -v`, the cgroup's limit). (Local: in a multi-process run,
    the devices of other processes cannot be asked.)"""
    import jax

    stats = getattr(jax.local_devices()[0], "memory_stats", lambda: None)()
    if stats and stats.get("bytes_limit"):
        return int(stats["bytes_limit"])
    return usable_bytes()


def flops_per_second() -> float:
    """This machine's speed on a float32 matrix product, measured (a few milliseconds)."""
    import jax
    import jax.numpy as jnp

    a = jnp.ones((512, 512), jnp.float32)
    product = jax.jit(lambda m: m @ m)
    product(a).block_until_ready()
    started = time.perf_counter()
    product(a).block_until_ready()
    return 2 * 512**3 / max(time.perf_counter() - started, 1e-6)


def describe(count: float) -> str:
    for unit, size in (("T", 1e12), ("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if count >= size:
            return f"{count / size:.3g} {unit}"
    return f"{count:.3g} "


def check_plan(plan: Estimate, what: str, force: bool, warn, memory: int | None = None,
               smaller: str = "--layers, --batch, --steps, --population, --unroll or dims (--set)") -> None:
    """Refuses a plan whose memory exceeds what is available (unless `force`), and warns through `warn` when one
    step will take longer than SLOW_STEP_SECONDS."""
    from rulec.data.errors import DataError

    memory = available_bytes() if memory is None else memory
    if plan.bytes > memory and not force:
        raise DataError(f"{what} needs about {describe(plan.bytes)}B of memory, and this process may use "
                        f"{describe(memory)}B here", f"use smaller {smaller}, or pass --force to try anyway")
    if plan.flops < SLOW_STEP_SECONDS * MIN_FLOPS_PER_SECOND:
        return
    seconds = plan.flops / flops_per_second()
    if seconds > SLOW_STEP_SECONDS:
        warn(f"{what} does about {describe(plan.flops)}FLOP per step, about {seconds:.0f} s per step here")

