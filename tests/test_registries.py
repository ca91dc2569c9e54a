"""Every registry holds its records to its contract when they are registered, and runs every entry through its
whole path at tiny size (after optax's `_OPTIMIZERS_UNDER_TEST`): every loss through a training step beside SGD
(tests/symbolic/test_proofs.py proves each), every activation through a proof, every phase kind through check,
both interpreters and the printer. The evolution strategies have theirs in tests/meta/test_strategies.py."""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import rulec
from rulec import functions, losses, phases, preset_functions
from rulec.frontend import check_text
from rulec.functions import FUNCTIONS, elementwise_table
from rulec.ir import resolve
from rulec.losses import LOSSES
from rulec.meta import methods
from rulec.phases import PHASES, SPEC, PhaseKind
from rulec.preset_functions import PRESET_FUNCTIONS
from rulec.reference.interpreter import Reference
from rulec.registry import RegistryError, registry
from rulec.symbolic.proofs import prove_sgd
from rulec.syntax.parse import parse
from rulec.syntax.printer import print_rule
from tests.conftest import ROOT, reference_run
from tests.lower.sgd_side_by_side import largest_gap_and_move, rule_and_sgd
from tests.lower.test_equivalence import max_difference
from tests.syntax.test_parse import strip_spans

BACKPROP = (ROOT / "stdlib_rules" / "backprop.rule").read_text()


# ---- contracts: a record that breaks one is refused when registered, saying which clause

@pytest.mark.parametrize("kind, record, contract, clause", [
    ("loss", dataclasses.replace(LOSSES["mse"], derivative=lambda xp, h, t: h + t), losses._problems,
     "its derivative is not the derivative of its value in the prediction"),
    ("loss", dataclasses.replace(LOSSES["mse"], name="any"), losses._problems, "`any` stands for every loss"),
    ("loss", dataclasses.replace(LOSSES["mse"], summed="squares"), losses._problems,
     "its summary must read `the summed ...`"),
    ("function", dataclasses.replace(FUNCTIONS["tanh"], derivatives=FUNCTIONS["sigmoid"].derivatives),
     functions._problems, "its derivative of order 1 is not the derivative of the form before it"),
    ("phase", dataclasses.replace(SPEC[PhaseKind.UPDATE], predicts=True), phases._problems,
     "a phase that writes synapses can neither predict nor repeat"),
    ("phase", dataclasses.replace(SPEC[PhaseKind.FORWARD], neuron_writes=frozenset({"output"})), phases._problems,
     "it may write only the neurons of layers its schemes bind"),
    ("preset function", dataclasses.replace(PRESET_FUNCTIONS["fill"], build=lambda args, shape: np.ones(3)),
     preset_functions._problems, "it must build a finite array of the entry's shape"),
    ("method", methods.Entry(methods._evolution_class, population=0, unroll=15, variant="CMA_ES"),
     methods._problems, "its default population and unroll must be whole numbers >= 1"),
])
def test_a_record_that_breaks_its_registrys_contract_is_refused_naming_the_clause(kind, record, contract, clause):
    with pytest.raises(RegistryError, match=f"^{kind} `x` breaks the contract of its registry: .*") as refused:
        registry(kind, [("x", record)], contract)
    assert clause in str(refused.value)


def test_two_records_of_one_name_are_refused():
    with pytest.raises(RegistryError, match="another entry has its name"):
        registry("loss", [("mse", LOSSES["mse"]), ("mse", LOSSES["mse"])], losses._problems)


# ---- losses: each through one training step, beside SGD on jax.grad of the loss's value

def _backprop_on(loss: str) -> str:
    return BACKPROP.replace("loss mse", f"loss {loss}").replace("prove sgd(loss = mse", f"prove sgd(loss = {loss}")


@pytest.mark.parametrize("name", LOSSES)
def test_every_loss_trains_one_step_as_sgd_on_it(name):
    record = LOSSES[name]
    net = rulec.loads(_backprop_on(name), f"{name}.rule").network((3, 4, 2))
    axis = {"axis": -1} if record.couples_outputs else {}

    def loss(params, x, y):
        h = x
        for weight, bias in params:
            h = jnp.tanh(h @ weight + bias)
        return jnp.sum(record.value(jnp, h, y, **axis))

    def one_hot(rng, batch, outputs):
        return np.where(np.eye(outputs)[rng.integers(0, outputs, batch)] > 0, 1.0, -1.0)

    genome = {"lr": jnp.asarray(0.05, jnp.float32)}
    gap, moved = largest_gap_and_move(*rule_and_sgd(net, genome, 0.05, loss, one_hot, 1))
    assert moved > 1e-4 and gap <= 1e-6


# ---- activations: each through a proof, on the smallest network

@pytest.mark.parametrize("name", [name for name, record in FUNCTIONS.items() if record.derivatives])
def test_every_activation_with_a_derivative_is_proved_in_backprop(name):
    text = BACKPROP.replace("tanh(z[j])", f"{name}(z[j])").replace("tanh'(z[j])", f"{name}'(z[j])")
    checked = check_text(text, f"{name}.rule")
    result = prove_sgd(resolve(checked), checked.rule.proofs[0], shapes=((1, 1, 1),))
    assert result.proved


# ---- phase kinds: a rule with each through check, the printer, and both interpreters

@pytest.fixture(scope="module")
def backprop_run():
    """backprop.rule, which has a phase of every kind: checked, printed, and stepped by both interpreters."""
    rule = rulec.loads(BACKPROP, "backprop.rule")
    sizes = (3, 4, 2)
    net = rule.network(sizes)
    genome, state = net.init_genome(jax.random.key(0)), net.init(jax.random.key(1))
    rng = np.random.default_rng(0)
    xs, ys = rng.normal(size=(2, 4, sizes[0])), np.where(rng.random((2, 4, sizes[-1])) < 0.5, -1.0, 1.0)
    reference = Reference(rule.program, sizes, elementwise_table(np))
    reference_state, _ = reference_run(reference, genome, state, xs, ys)
    for x, y in zip(xs, ys):
        state = net.step(genome, state, jnp.asarray(x, jnp.float32), jnp.asarray(y, jnp.float32))
    return parse(BACKPROP, "backprop.rule"), state, reference_state


@pytest.mark.parametrize("spec", PHASES, ids=lambda spec: spec.kind.value)
def test_every_phase_kind_is_checked_printed_and_run_alike_by_both_interpreters(spec, backprop_run):
    tree, state, reference_state = backprop_run
    assert spec.kind in {phase.kind for phase in tree.phases}
    assert strip_spans(parse(print_rule(tree), "printed.rule")) == strip_spans(tree)
    assert max_difference(state, reference_state) < 1e-5
