"""The phase table: one record per phase kind, read by every stage that treats phases differently.

The parser's keywords and the highlighter take the names from it; the checker, the schemes a phase may range
over, the neurons and synapses it may write and whether a rule must have it; the schedule, the step's order (the
table's) and whether a phase's instances run top-down; `predict`, liveness and the proofs, which phases make the
prediction; the loop checks, which phases a relaxation loop may repeat. Adding a phase kind is adding a member to
`PhaseKind`, a `PhaseSpec` to `PHASES` and its keyword to the grammar's `phase_name`.
"""

from __future__ import annotations

import dataclasses
import enum

from rulec.registry import RegistryError, registry


class PhaseKind(enum.Enum):
    INPUT = "input"
    FORWARD = "forward"
    FEEDBACK = "feedback"
    BACKWARD = "backward"
    UPDATE = "update"


# The schemes of a synapse, and of a phase over two layers: adjacent pairs, or each hidden layer with the output
# (direct feedback alignment).
PAIR_SCHEMES = (frozenset({"pre", "post"}), frozenset({"hidden", "output"}))

# The layer sets of a lateral synapse (`post -> post`): it joins the neurons of one layer, and the pairs phases
# read and update it at their post layer.
LATERAL_CONNECTION = frozenset({"post"})

# The layer sets of a skip synapse (`input -> output`, or back), and the layers every instance of a phase over
# pairs may also bind in its header: the input and the output layer are the same in every instance.
SKIP_CONNECTION = frozenset({"input", "output"})


@dataclasses.dataclass(frozen=True)
class PhaseSpec:
    """One phase kind.

    Attributes:
        kind: the kind, whose value is the keyword that opens the phase.
        schemes: the sets of layer sets its header may bind, such as {pre, post} for `(i in pre, j in post)`.
        neuron_writes: the layer sets whose neurons it may write.
        persistent_writes: the layer sets whose persistent neurons it may write besides: the update phase runs
            once a step, after any relaxation loop, so a threshold or a running average moves there once a step.
        writes_synapses: whether it may write synapses.
        writes_scalars: whether it may write persistent scalars (`persistent baseline = 0`), in its instance at the
            output layer, so once a step.
        top_down: whether its instances run from the output layer down to the first hidden layer, as
            backpropagation does, never reaching the input layer or the pair at it; else from the input up over
            every instance.
        predicts: whether `predict` runs it; the prediction is what these phases leave on the output layer.
        repeatable: whether a relaxation loop (`repeat n` ... `end`) may hold it; the phases that settle the
            neurons may, the input phase and the update may not.
        settles_prediction: whether `predict` runs it inside a loop that also holds a phase that predicts, as the
            top-down drive of a relaxation does; feedback, which reads the target, never runs at predict time.
        missing_hint: for a phase every rule must have, the hint of the error when a rule lacks it; None when
            the phase is optional.

    The contract, checked when the table is built (`_problems`): every scheme binds known layer sets; the
    neurons it writes are among the layers its schemes bind; a phase that writes synapses neither predicts nor
    repeats; a phase that writes persistent scalars ranges over pairs and does not repeat; a phase that settles
    the prediction can repeat; a required phase's hint shows its header. And the table holds each kind once.
    tests/test_registries.py runs a rule with each phase kind through check, both interpreters and the printer.
    """

    kind: PhaseKind
    schemes: tuple[frozenset[str], ...]
    neuron_writes: frozenset[str]
    writes_synapses: bool
    top_down: bool
    predicts: bool
    repeatable: bool
    settles_prediction: bool
    missing_hint: str | None
    persistent_writes: frozenset[str] = frozenset()
    writes_scalars: bool = False

    @property
    def required(self) -> bool:
        return self.missing_hint is not None


# In step order: a step runs the phases in this order.
PHASES = (
    PhaseSpec(PhaseKind.INPUT, (frozenset({"input"}),), frozenset({"input"}), writes_synapses=False, top_down=False,
          predicts=True, repeatable=False, settles_prediction=False,
          missing_hint="add `input (i in input)` with an equation such as `a[i, 0] := x[i]`"),
    PhaseSpec(PhaseKind.FORWARD, (frozenset({"pre", "post"}),), frozenset({"post"}), writes_synapses=False,
          top_down=False, predicts=True, repeatable=True, settles_prediction=True,
          missing_hint="add `forward (i in pre+bias, j in post)` with the forward equations"),
    PhaseSpec(PhaseKind.FEEDBACK, (frozenset({"output"}),), frozenset({"output"}), writes_synapses=False,
          top_down=False, predicts=False, repeatable=True, settles_prediction=False, missing_hint=None),
    # Backward never writes the input layer: only the input phase does.
    PhaseSpec(PhaseKind.BACKWARD, PAIR_SCHEMES, frozenset({"pre", "hidden"}), writes_synapses=False, top_down=True,
          predicts=False, repeatable=True, settles_prediction=True, missing_hint=None),
    PhaseSpec(PhaseKind.UPDATE, PAIR_SCHEMES, frozenset(), writes_synapses=True, top_down=False, predicts=False,
          repeatable=False, settles_prediction=False,
          missing_hint="add `update (i in pre+bias, j in post)` with the synapse update",
          persistent_writes=frozenset({"post"}), writes_scalars=True),
)

LAYER_SETS = frozenset({"input", "pre", "post", "hidden", "output"})


def _problems(spec: PhaseSpec) -> list[str]:
    """The clauses of the contract (see `PhaseSpec`) that `spec` breaks."""
    bound = frozenset().union(*spec.schemes)
    checks = {
        "its schemes must bind known layer sets, and some": spec.schemes and bound <= LAYER_SETS,
        "it may write only the neurons of layers its schemes bind": spec.neuron_writes <= bound,
        "a phase that writes synapses can neither predict nor repeat": not (
            spec.writes_synapses and (spec.predicts or spec.repeatable)),
        "a phase that writes persistent scalars runs once a step: over pairs, never repeated": not (
            spec.writes_scalars and (spec.repeatable or frozenset({"pre", "post"}) not in spec.schemes)),
        "a phase that settles the prediction must be repeatable": spec.repeatable or not spec.settles_prediction,
        "a required phase's hint must show its header": spec.missing_hint is None or f"`{spec.kind.value} (" in
        spec.missing_hint,
    }
    return [clause for clause, holds in checks.items() if not holds]


SPEC = {PhaseKind(name): spec for name, spec in registry("phase", ((spec.kind.value, spec) for spec in PHASES),
                                                             _problems).items()}
if set(SPEC) != set(PhaseKind):
    raise RegistryError(f"the phase table has no record of {', '.join(k.value for k in set(PhaseKind) - set(SPEC))}")
