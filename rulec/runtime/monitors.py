"""Instruments of a training run: how close each update is to the gradient, how well feedback weights align with
the forward weights they stand in for, and the norms of the synapses.

They are computed from the network's own `predict` and the rule's declared loss, so every rule gets them without
writing anything (design notes 3c). At an evaluation point, on that step's batch (x, y) and with W the synapses
before the step and ΔW the step's change:
* alignment: cos(ΔW, -∇W L) per synapse and instance, where L = sum over the batch of the declared loss (mse when
  the rule declares none) of `predict(W, x)` against y, and ∇W L is `jax.grad` through `predict`;
* norm_ratio: ‖ΔW‖ / ‖∇W L‖ (backprop's is its learning rate);
* feedback_alignment: for a synapse that runs against a forward one (`B : post -> pre` beside
  `w : pre+bias -> post`), cos(Bᵀ, W) over the entries they share (W's bias row has no counterpart);
* norm: ‖W‖ after the step.
A synapse `predict` does not read has no gradient, nor has a fixed one an update: its alignment is None, never 0,
and `Monitor.no_gradient` says why. Likewise an instance of a feedback synapse that no step reads but its own
update (Kolen-Pollack's `B` into the input layer, whose backward write liveness finds dead) carries no backward
pass: its feedback alignment is None, and `Monitor.no_backward_pass` lists it.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from rulec.ir import liveness
from rulec.ir import nodes as ir
from rulec.ir.schedule import instance_index, instances
from rulec.losses import LOSSES

KINDS = ("alignment", "norms")
# What each kind records, in the order the table and the JSON give them.
MEASURES = {"alignment": ("alignment", "norm_ratio", "feedback_alignment"), "norms": ("norm",)}
DEFAULT_LOSS = "mse"


def _cosine(a, b):
    """cos(a, b) over every entry; NaN when either is zero (`on_host` turns it into None)."""
    a, b = a.ravel(), b.ravel()
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.vdot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b))


def _synapses_read(program: ir.Program, schedule, into_neurons: bool = False) -> set[tuple[str, int]]:
    """The (synapse, instance) pairs the statements of `schedule` read; with `into_neurons`, only those whose
    value goes into neurons (lets and neuron writes), not into the synapses' own updates."""
    schemes = {s.name: s.scheme for s in program.synapses}
    read = set()
    for run in liveness.flat(schedule):
        for statement in run.statements:
            if into_neurons and isinstance(statement, ir.Write) and statement.kind is ir.Source.SYNAPSE:
                continue
            for sub in ir.walk(statement.value):
                if isinstance(sub, ir.Load) and sub.kind is ir.Source.SYNAPSE:
                    read.add((sub.name, instance_index(schemes[sub.name], run.roles)))
    return read


def _counterparts(program: ir.Program, read: set[tuple[str, int]]) -> dict[str, str]:
    """Each synapse that runs against a forward one (a synapse `predict` reads, with source and target swapped,
    the same scheme and channels), with that forward synapse: `B : post -> pre` for `w : pre+bias -> post`."""
    forward = [s for s in program.synapses if any(name == s.name for name, _ in read)]
    found: dict[str, str] = {}
    for backward in program.synapses:
        if backward.name in found.values():
            continue
        match = next((f for f in forward if f is not backward and f.name not in found
                      and f.scheme is backward.scheme and f.channels == backward.channels
                      and f.source[0] == backward.target[0] and f.target[0] == backward.source[0]), None)
        if match is not None:
            found[backward.name] = match.name
    return found


def _shared(backward, forward):
    """Bᵀ and W cut to the entries they share: W's extra source row, the bias unit's (the last), is left out."""
    transposed = np.swapaxes(backward, -1, -2)
    rows = min(transposed.shape[-2], forward.shape[-2])
    return transposed[..., :rows, :], forward[..., :rows, :]


@dataclasses.dataclass(frozen=True)
class Monitor:
    """The measures of `kinds` for one network: `measure(genome, before, after, x, y)` gives one point."""

    kinds: tuple[str, ...]
    synapses: tuple[str, ...]
    no_gradient: dict[str, str]  # synapse -> why it has no gradient, for the synapses without one
    counterparts: dict[str, str]  # backward synapse -> the forward synapse it stands in for
    no_backward_pass: dict[str, list[int]]  # backward synapse -> its instances that no step reads (but to update)
    loss: str
    measure: Callable[..., dict]  # (genome, before, after, x, y) -> {measure: {synapse: [value per instance]}}

    @property
    def measures(self) -> tuple[str, ...]:
        return tuple(m for kind in self.kinds for m in MEASURES[kind])

    def on_host(self, point: dict) -> dict:
        """One point of `measure` as Python floats, None where there is no value (no gradient, or a zero norm),
        in the order of the measures and of the synapses' declarations."""
        return {m: {name: [_number(v) for v in point[m][name]] for name in self.synapses if name in point[m]}
                for m in self.measures}


def _number(value) -> float | None:
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def build(net, kinds: Sequence[str]) -> Monitor:
    """The monitor of `kinds` for `net`, a rulec.api.Network."""
    program = net.rule.program
    declared = net.rule.checked.rule.losses
    loss_name = declared[0].name if declared else DEFAULT_LOSS
    loss = LOSSES[loss_name]
    read = _synapses_read(program, net.lowered.predict_schedule)
    # The pruned step: a backward write whose result nothing reads is left out, and with it its reads.
    step = (net.lowered.pruned or liveness.prune(program, net.lowered.depth)).step
    carrying = _synapses_read(program, step, into_neurons=True)
    synapses = tuple(s.name for s in program.synapses)
    fixed = {s.name for s in program.synapses if s.fixed}
    no_gradient = {name: "fixed: the rule never updates it" if name in fixed else "predict does not read it"
                   for name in synapses if name in fixed or not any(r == name for r, _ in read)}
    counterparts = _counterparts(program, read)
    schemes = {s.name: s.scheme for s in program.synapses}
    no_backward_pass = {backward: idle for backward in counterparts if (idle := sorted(
        {instance_index(schemes[backward], roles) for roles in instances(schemes[backward], net.lowered.depth)}
        - {i for name, i in carrying if name == backward}))}

    def summed_loss(synapses_, genome, before, x, y):
        out = net.predict(genome, dataclasses.replace(before, synapses=synapses_), x)
        values = loss.value(jnp, out, y, -1) if loss.couples_outputs else loss.value(jnp, out, y)
        return jnp.sum(values)

    # Only the gradient is compiled; the cosines and norms of a few arrays are cheaper in NumPy than to compile.
    gradient_of = jax.jit(jax.grad(summed_loss))

    def measure(genome, before, after, x, y):
        found: dict[str, dict] = {m: {} for kind in kinds for m in MEASURES[kind]}
        before_synapses, after_synapses = (jax.tree.map(np.asarray, state.synapses) for state in (before, after))
        if "alignment" in kinds:
            gradient = jax.tree.map(np.asarray, gradient_of(before.synapses, genome, before, x, y))
            for name in synapses:
                changes = [a - b for a, b in zip(after_synapses[name], before_synapses[name])]
                cells = [(name, i) in read and name not in fixed for i in range(len(changes))]
                found["alignment"][name] = [_cosine(d, -g) if c else None
                                            for d, g, c in zip(changes, gradient[name], cells)]
                found["norm_ratio"][name] = [_ratio(np.linalg.norm(d), np.linalg.norm(g)) if c else None
                                             for d, g, c in zip(changes, gradient[name], cells)]
            for backward, forward in counterparts.items():
                idle = no_backward_pass.get(backward, [])
                found["feedback_alignment"][backward] = [
                    None if i in idle else _cosine(*_shared(b, f))
                    for i, (b, f) in enumerate(zip(after_synapses[backward], after_synapses[forward]))]
        if "norms" in kinds:
            found["norm"] = {name: [np.linalg.norm(a) for a in arrays] for name, arrays in after_synapses.items()}
        return found

    return Monitor(tuple(kinds), synapses, no_gradient, counterparts, no_backward_pass, loss_name, measure)


def _ratio(a, b):
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.float64(a) / b


def collect(points: list[dict]) -> dict:
    """Points (in evaluation order) as {measure: {synapse: [point][instance]}}, the JSON's "monitor" layout."""
    collected: dict[str, dict] = {}
    for point in points:
        for m, by_synapse in point.items():
            for name, values in by_synapse.items():
                collected.setdefault(m, {}).setdefault(name, []).append(values)
    return collected
