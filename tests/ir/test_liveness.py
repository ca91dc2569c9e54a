"""Dead-state elimination (rulec/ir/liveness.py): what is pruned, and that the pruned unroll and predict give the
numbers of the unpruned step and of the NumPy reference, with the skipped parts left at their initial values."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import rulec
from rulec.functions import elementwise_table
from rulec.ir.liveness import describe, predict_phases
from rulec.ir.nodes import StateRange
from rulec.ir.schedule import instance_index
from rulec.lower.network_state import NetworkState
from rulec.reference.interpreter import Reference
from tests.conftest import ROOT, load_stdlib
from tests.conftest import reference_run as run_reference

NUMPY_FUNCTIONS = elementwise_table(np)

# The declarations of the small rules below: `k` states, `k` channels, the input in state 0.
DECLARATIONS = """
rule {name}
dim k = {k}
genome
  eta = 0.1
neuron a[k]
synapse w[k] : pre+bias -> post ~ uniform(-1, 1)
bias 1
input (i in input)
  a[i, 0] := x[i]
"""

# Channel 1 of `w` is read only by its own update: the update is narrowed to channel 0.
PARTLY_DEAD = DECLARATIONS.format(name="partly_dead", k=2) + """
forward (i in pre+bias, j in post)
  a[j, 0] := tanh(sum(i) w[i, j, 0] * a[i, 0])
feedback (j in output)
  a[j, 1] := target[j] - a[j, 0]
update (i in pre+bias, j in post)
  w[i, j, c] := w[i, j, c] + eta * sum(batch) a[i, 0] * a[j, 1]
"""


def skipped_writes(skipped):
    return {(s.phase.kind.value, tuple(s.roles.items()), s.statement.name, s.ranges) for s in skipped}


@pytest.mark.parametrize("k", [2, 4])
def test_asymmetric_blur_skips_the_backward_weights_into_the_input_layer(k):
    pruned = rulec.load("stdlib_rules/blur.rule", k=k).network([784, 256, 10]).pruned
    output_state_0 = ("forward", (("pre", 1), ("post", 2)), "a", (StateRange("c", 0, 1),))
    assert skipped_writes(pruned.step_skipped) == {
        ("update", (("pre", 0), ("post", 1)), "wb", None),  # the backward pass never writes the input layer
        output_state_0,  # the output's other states are overwritten by `feedback` before anything reads them
    }
    assert skipped_writes(pruned.predict_skipped) == {output_state_0}
    assert [describe(s) for s in pruned.step_skipped][-1] == (
        "line 45, update (pre=0, post=1): `wb[j, i, c] := f_w * wb[j, i, c] + eta_w * sum(batch, e, d) a[j, e] "
        "* nu_h[e, c] * mu_h[c, d] * a[i, d]` is skipped (never read afterwards)")


def test_only_the_first_pair_of_backward_weights_is_dead_in_a_deeper_network():
    pruned = rulec.load("stdlib_rules/blur.rule", k=2).network([6, 5, 4, 3]).pruned
    dead = {s.roles["pre"] for s in pruned.step_skipped if s.statement.name == "wb" and s.ranges is None}
    assert dead == {0}


def test_a_rule_with_nothing_dead_lowers_to_the_same_program():
    rule = rulec.load("stdlib_rules/backprop.rule")
    pruned, full = rule.network([6, 5, 3]), rule.network([6, 5, 3], prune=False)
    assert pruned.pruned.step_skipped == () and full.pruned is None
    genome, state = (jax.eval_shape(lambda: init(jax.random.key(0))) for init in (full.init_genome, full.init))
    xs, ys = jax.ShapeDtypeStruct((2, 4, 6), jnp.float32), jax.ShapeDtypeStruct((2, 4, 3), jnp.float32)
    assert str(jax.make_jaxpr(pruned.unroll)(genome, state, xs, ys)) == str(
        jax.make_jaxpr(full.unroll)(genome, state, xs, ys))


def reference_run(rule, sizes, genome, state, xs, ys):
    """The unpruned definition: the reference steps, then its forward pass on the last batch."""
    reference = Reference(rule.program, sizes, NUMPY_FUNCTIONS)
    after, _ = run_reference(reference, genome, state, xs, ys)
    _, neurons = reference.step(jax.tree.map(np.asarray, genome), after.synapses, np.asarray(xs[-1]), None,
                                predict_phases(rule.program), key=after.key, step=after.step, persistent=after.neurons)
    first = rule.program.neurons[0]
    output = neurons[first.name][-1]
    return after, output[..., 0] if first.states else output


def live_channels(rule, skipped, name, instance, channels) -> np.ndarray:
    """A mask over a synapse's channels: False where the pruned unroll skips the update."""
    schemes = {s.name: s.scheme for s in rule.program.synapses}
    live = np.ones(channels, bool)
    for s in skipped:
        if s.statement.name != name or instance_index(schemes[name], s.roles) != instance:
            continue
        keep = np.zeros(channels, bool)
        if s.ranges is not None:
            ranges = {r.index: slice(r.low, r.high) for r in s.ranges}
            keep[tuple(ranges.get(p.index, slice(None)) if hasattr(p, "index") else p.value
                       for p in s.statement.positions[2:])] = True
        live &= keep
    return live


def random_like(init, rng):
    """Random float64 arrays in the shapes `init` gives, without running it (its eager draws compile slowly); a
    network state keeps its key and step counter."""
    shapes = jax.eval_shape(lambda: init(jax.random.key(0), jnp.float64))
    fill = lambda tree: jax.tree.map(lambda s: jnp.asarray(rng.uniform(-0.8, 0.8, s.shape)), tree)  # noqa: E731
    if isinstance(shapes, NetworkState):
        return NetworkState(fill(shapes.synapses), fill(shapes.neurons), jax.random.key(0), jnp.zeros((), jnp.int32))
    return fill(shapes)


def check_pruned_unroll(rule, sizes, steps=2, seed=0):
    pruned, full = rule.network(sizes), rule.network(sizes, prune=False)
    rng = np.random.default_rng(seed)
    genome, state = random_like(pruned.init_genome, rng), random_like(pruned.init, rng)
    xs = jnp.asarray(rng.normal(size=(steps, 8, sizes[0])))
    ys = jnp.asarray(np.where(rng.random((steps, 8, sizes[-1])) < 0.5, -1.0, 1.0))
    ours, theirs = (jax.jit(net.unroll, static_argnames="remat")(genome, state, xs, ys, remat=False)
                    for net in (pruned, full))
    ref_state, ref_prediction = reference_run(rule, sizes, genome, state, xs, ys)
    assert jax.tree.structure(ours) == jax.tree.structure(theirs)
    for name, arrays in ours.synapses.items():
        for instance, array in enumerate(arrays):
            live = live_channels(rule, pruned.pruned.step_skipped, name, instance, array.shape[:-2])
            np.testing.assert_array_equal(np.asarray(array)[~live], np.asarray(state.synapses[name][instance])[~live])
            np.testing.assert_allclose(np.asarray(array)[live], np.asarray(theirs.synapses[name][instance])[live],
                                       atol=1e-12)
            np.testing.assert_allclose(np.moveaxis(np.asarray(array), (-2, -1), (0, 1))[..., live],
                                       ref_state.synapses[name][instance][..., live], atol=1e-9)
    # Persistent neurons (an array per layer) and persistent scalars (one array each), leaf by leaf.
    for ours_leaf, ref_leaf in zip(jax.tree.leaves(ours.neurons), jax.tree.leaves(ref_state.neurons), strict=True):
        np.testing.assert_allclose(ours_leaf, ref_leaf, atol=1e-9)
    prediction = jax.jit(pruned.predict)(genome, ours, xs[-1])
    np.testing.assert_allclose(prediction, jax.jit(full.predict)(genome, theirs, xs[-1]), atol=1e-12)
    np.testing.assert_allclose(prediction, ref_prediction, atol=1e-9)
    return pruned, ours, state


def test_pruned_unroll_matches_the_unpruned_step_and_the_reference(stdlib_rule):
    with jax.enable_x64(True):
        check_pruned_unroll(load_stdlib(stdlib_rule), (6, 5, 4, 3))


@pytest.mark.parametrize("sizes", [(3, 2), (6, 5, 3)], ids=lambda s: "-".join(map(str, s)))
def test_pruned_blur_matches_on_other_shapes(sizes):
    with jax.enable_x64(True):
        check_pruned_unroll(rulec.load("stdlib_rules/blur.rule", k=2), sizes)


def test_a_dead_synapse_channel_keeps_its_initial_values():
    rule = rulec.loads(PARTLY_DEAD, "partly_dead.rule")
    with jax.enable_x64(True):
        pruned, ours, state = check_pruned_unroll(rule, (4, 5, 3))
    assert {(s.statement.name, s.ranges) for s in pruned.pruned.step_skipped} == {("w", (StateRange("c", 0, 1),))}
    for new, old in zip(ours.synapses["w"], state.synapses["w"]):
        np.testing.assert_array_equal(new[1], old[1])
    # channel 0 into the output layer learns
    assert not np.allclose(ours.synapses["w"][1][0], state.synapses["w"][1][0])


def test_pruned_step_skips_the_dead_update_in_the_compiled_program():
    """The pruned unroll of asymmetric blur has fewer dot_generals: the skipped update is not merely discarded."""
    rule = rulec.load("stdlib_rules/blur.rule", k=2)
    counts = []
    for prune in (True, False):
        net = rule.network([6, 5, 3], prune=prune)
        genome, state = (jax.eval_shape(lambda: init(jax.random.key(0))) for init in (net.init_genome, net.init))
        xs, ys = jax.ShapeDtypeStruct((2, 4, 6), jnp.float32), jax.ShapeDtypeStruct((2, 4, 3), jnp.float32)
        counts.append(str(jax.make_jaxpr(net.unroll)(genome, state, xs, ys)).count("dot_general"))
    assert counts[0] < counts[1]


RANGED_LET = DECLARATIONS.format(name="ranged_let", k=3) + """
forward (i in pre+bias, j in post)
  let z[j, c] = sum(i) w[i, j, c] * a[i, 0]
  a[j, c] := tanh(z[j, c]) for c in 1..k
feedback (j in output)
  a[j, 0] := target[j]
update (i in pre+bias, j in post)
  w[i, j, c] := w[i, j, c] + eta * sum(batch) a[i, 0] * a[j, c]
"""


def test_a_write_over_a_state_range_reads_those_states_of_a_let():
    """Narrowing makes such writes common: `z[j, c]` under `for c in 1..k` is states 1..k-1 of the let, which
    holds all k (the let index and the write index share a name)."""
    with jax.enable_x64(True):
        check_pruned_unroll(rulec.loads(RANGED_LET, "ranged_let.rule"), (4, 5, 3))


def test_a_write_that_normalizes_over_its_states_is_not_narrowed():
    """`normalize(c)` mixes the states: computing state 0 alone would change it."""
    text = (ROOT / "stdlib_rules" / "blur.rule").read_text().replace(
        "a[j, c] := tanh(z[j, c])       for j in output", "a[j, c] := tanh(normalize(c) z[j, c]) for j in output")
    rule = rulec.loads(text, "normalized_states.rule", k=2)
    with jax.enable_x64(True):
        pruned, _, _ = check_pruned_unroll(rule, (4, 5, 3))
    assert [s.statement.name for s in pruned.pruned.step_skipped] == ["wb"]
