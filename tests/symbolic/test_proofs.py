"""`prove sgd(...)`: the backprop rules are proved, and each broken variant is refused, naming the weight."""

from __future__ import annotations

import sympy
import pytest

from rulec.diagnostics import RuleError
from rulec.frontend import check_file, check_text
from rulec.ir import resolve
from rulec.losses import LOSSES
from rulec.symbolic import prove_all, summary
from rulec.symbolic.functions import concrete_loss_derivative, generic
from rulec.symbolic.proofs import SHAPES, evaluate, prove_sgd
from tests.conftest import ROOT

BROKEN = sorted((ROOT / "tests" / "fixtures" / "proofs").glob("*.rule"))


@pytest.mark.parametrize("path", ["stdlib_rules/backprop.rule", "stdlib_rules/blur_two_state.rule",
                                  "examples/tutorial.rule"])
def test_backprop_rules_are_proved(path):
    checked = check_file(ROOT / path)
    results = prove_all(checked)
    assert len(results) == len(checked.rule.proofs) >= 1
    assert all(r.proved and r.seconds < 10 for r in results)


@pytest.mark.parametrize("loss", LOSSES)
def test_backprop_declaring_each_loss_is_proved_on_that_loss_and_summarised_in_its_words(loss):
    """Runs the rule's `loss'` as SymPy's derivative of the loss record's SymPy form, on both sides."""
    text = (ROOT / "stdlib_rules" / "backprop.rule").read_text().replace("loss mse", f"loss {loss}").replace(
        "prove sgd(loss = mse", f"prove sgd(loss = {loss}")
    result = prove_all(check_text(text, f"{loss}.rule"))[0]
    assert result.proved and result.loss == loss
    assert f"-lr * dL/dw of {LOSSES[loss].summed}, on networks" in summary(result)


def test_backprop_is_proved_for_any_loss_because_its_feedback_uses_loss_prime():
    results = prove_all(check_file(ROOT / "stdlib_rules" / "backprop.rule"))
    assert [r.loss for r in results] == ["mse", "any"]


def test_a_claim_for_another_loss_than_the_declared_one_fails():
    checked = check_file(ROOT / "stdlib_rules" / "backprop.rule")
    import dataclasses

    from rulec.syntax import ast

    statement = checked.rule.proofs[0]
    logistic = dataclasses.replace(statement, args=tuple(
        dataclasses.replace(a, value=ast.Ref("logistic", (), a.value.span)) if a.name == "loss" else a
        for a in statement.args))
    assert not prove_sgd(resolve(checked), logistic).proved


def test_explicit_squared_error_feedback_is_not_proved_for_any_loss():
    """The feedback (h - t) * sigma' is the squared error's: `loss = any` must fail, `mse` must hold."""
    text = (ROOT / "stdlib_rules" / "backprop.rule").read_text().replace(
        "loss'(a[j, 0], target[j])", "(a[j, 0] - target[j])")
    from rulec.frontend import check_text

    checked = check_text(text, "explicit.rule")
    program = resolve(checked)
    assert prove_sgd(program, checked.rule.proofs[0]).proved
    assert not prove_sgd(program, checked.rule.proofs[1]).proved


def test_the_proof_covers_two_shapes_one_with_two_hidden_layers():
    assert len(SHAPES) >= 2
    assert any(len(shape) >= 4 for shape in SHAPES)


def test_there_are_the_four_broken_variants():
    assert {p.stem for p in BROKEN} >= {"flipped_sign", "missing_sigma_prime", "wrong_mixing_entry",
                                       "feedback_without_sigma_prime"}


@pytest.mark.parametrize("path", BROKEN, ids=lambda p: p.stem)
def test_broken_variants_are_refused_naming_the_weight(path):
    checked = check_file(path)
    with pytest.raises(RuleError) as caught:
        prove_all(checked)
    diagnostic = caught.value.diagnostics[0]
    assert diagnostic.span.line == checked.rule.proofs[0].span.line
    assert "cannot prove sgd" in diagnostic.message
    assert "the update of weight w0[" in diagnostic.message
    assert "simplifies to" in diagnostic.hint and "counter-example" in diagnostic.hint


@pytest.mark.parametrize("path", BROKEN, ids=lambda p: p.stem)
def test_counter_examples_really_differ(path):
    checked = check_file(path)
    result = prove_sgd(resolve(checked), checked.rule.proofs[0])
    assert not result.proved
    assert abs(result.failure.rule_update - result.failure.gradient_step) > 1e-6
    assert result.failure.residual != 0


def test_without_the_preset_the_template_is_not_sgd():
    checked = check_file(ROOT / "stdlib_rules" / "blur_two_state.rule")
    statement = checked.rule.proofs[0]
    import dataclasses

    generic_claim = dataclasses.replace(statement, preset=None)
    assert not prove_sgd(resolve(checked), generic_claim).proved


def test_generic_activations_differentiate_into_their_derivatives():
    x = sympy.Symbol("x")
    sigma = generic("sigmoid")
    assert sympy.diff(sigma(2 * x), x) == 2 * generic("sigmoid", 1)(2 * x)
    assert sympy.diff(generic("sigmoid", 1)(x), x) == generic("sigmoid", 2)(x)


@pytest.mark.parametrize("scale, proved", [("0", True), ("0.001", False)])
def test_a_rule_that_draws_proves_a_claim_for_every_draw(scale, proved):
    """Each drawn number is a symbol: noise that cancels leaves backprop proved, noise that stays breaks it."""
    text = (ROOT / "stdlib_rules" / "backprop.rule").read_text().replace(
        "  a[j, 0] := tanh(z[j])\n", f"  let xi[j] = normal(0, 1)\n  a[j, 0] := tanh(z[j] + {scale} * xi[j])\n")
    checked = check_text(text, "noisy_backprop.rule", {})
    assert prove_sgd(resolve(checked), checked.rule.proofs[0]).proved is proved


@pytest.mark.parametrize("update, proved", [
    ("lr * size(batch) * mean(batch)", True),  # the batch mean times the batch size is the sum
    ("lr * mean(batch)", False),  # the mean loss, not the summed loss the claim is about
])
def test_a_batch_size_scale_is_proved_or_refused_by_its_value(update, proved):
    text = (ROOT / "stdlib_rules" / "backprop.rule").read_text().replace("lr * sum(batch)", update)
    checked = check_text(text, "scaled_backprop.rule")
    if proved:
        assert all(r.proved for r in prove_all(checked))
    else:
        with pytest.raises(RuleError):
            prove_all(checked)


def test_a_counter_example_reads_a_piecewise_expression_branch_by_branch():
    """A piecewise loss (huber) puts Piecewise, its relations and True into the expressions evaluated."""
    x, y = sympy.symbols("x y", real=True)
    derivative = concrete_loss_derivative("huber")(x, y)
    assert [evaluate(derivative, {x: h, y: 0.0}) for h in (-3.0, 0.25, 1.0, 2.0)] == [-1.0, 0.25, 1.0, 1.0]
    either = sympy.Piecewise((x, sympy.And(x > 0, sympy.Not(sympy.Eq(y, 1)))), (-x, sympy.Or(x < -5, True)))
    assert [evaluate(either, {x: 2.0, y: y_value}) for y_value in (0.0, 1.0)] == [2.0, -2.0]


def test_under_a_preset_the_constants_it_does_not_set_keep_their_declared_values():
    # exact SGD as `train --preset trained` runs it (scale = 1, declared), though not for every scale
    text = (ROOT / "stdlib_rules" / "backprop.rule").read_text().replace(
        "  lr = 0.001 ", "  lr = 0.001; scale = 1\n").replace("- lr * sum(batch)", "- lr * scale * sum(batch)")
    text = text.split("prove ")[0] + "preset trained\n  lr = 0.01\nprove sgd(loss = mse, lr = lr) under preset " \
        "trained\nprove sgd(loss = mse, lr = lr)\n"
    checked = check_text(text, "scaled.rule")
    under_preset, every_genome = checked.rule.proofs
    assert prove_sgd(resolve(checked), under_preset).proved
    assert not prove_sgd(resolve(checked), every_genome).proved


def test_a_proof_that_runs_past_its_time_limit_is_a_located_error(monkeypatch):
    import rulec.symbolic
    from tests.lower.test_relaxation_loops import INLINE

    monkeypatch.setattr(rulec.symbolic, "PROOF_SECONDS", 0.2)
    text = INLINE + "loss mse\nprove sgd(loss = mse, lr = lr)\n"
    with pytest.raises(RuleError) as caught:
        prove_all(check_text(text, "settle.rule", {"n": 2}))
    [error] = caught.value.diagnostics
    assert (error.code, error.span.line) == ("proof-timeout", len(text.splitlines()))
    assert error.message == "this proof did not finish within 0.2 s of CPU time"
    assert "--set n=1" in error.hint


def test_a_proof_runs_one_step_from_a_persistent_scalars_declared_value():
    # lr * (1 + seen) is lr on the first step, where `seen` holds its declared 0, and 2 lr where it starts at 1.
    text = (ROOT / "stdlib_rules" / "backprop.rule").read_text().replace(
        "bias 1\n", "bias 1\npersistent seen = 0\n").replace(
        "w[i, j] - lr * sum(batch)", "w[i, j] - lr * (1 + seen) * sum(batch)").replace(
        "* a[j, 1]\n\nprove", "* a[j, 1]\n  seen := seen + 1\n\nprove")
    assert "seen := seen + 1" in text and "(1 + seen)" in text
    checked = check_text(text, "seen.rule")
    assert prove_sgd(resolve(checked), checked.rule.proofs[0]).proved
    started = check_text(text.replace("persistent seen = 0", "persistent seen = 1"), "seen.rule")
    assert not prove_sgd(resolve(started), started.rule.proofs[0]).proved
