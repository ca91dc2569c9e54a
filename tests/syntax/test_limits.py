"""Long and deep expressions: a located `too-deep` error past the stated limit, never a RecursionError."""

from __future__ import annotations

import pytest

import rulec
from rulec.diagnostics import RuleError
from rulec.syntax.limits import MAX_NESTING
from tests.conftest import ROOT
from tests.conftest import run_cli as run

BACKPROP = (ROOT / "stdlib_rules" / "backprop.rule").read_text()
UPDATE = "w[i, j] - lr * sum(batch)"
UPDATE_LINE = BACKPROP[:BACKPROP.index(UPDATE)].count("\n") + 1
UPDATE_COLUMN = len("  w[i, j] := w[i, j] - (") + 1


def with_learning_rate(expression: str) -> str:
    """backprop.rule with its learning rate replaced by `expression`, in parentheses."""
    return BACKPROP.replace(UPDATE, f"w[i, j] - ({expression}) * sum(batch)")


def flat_sum(terms: int) -> str:
    return " + ".join(["lr"] * terms)


# The update nests the learning rate inside `-` and `*`: two operators before the sum starts.
LONGEST_SUM = MAX_NESTING - 2 + 1


def test_every_stage_handles_the_deepest_expression_within_the_limit():
    """The printer, LaTeX, the IR and the JAX lowering (traced, not compiled: that is XLA's time, not ours)."""
    import jax
    import jax.numpy as jnp

    from rulec.symbolic import latex
    from rulec.syntax.printer import print_rule

    rule = rulec.loads(with_learning_rate(flat_sum(LONGEST_SUM)))
    assert print_rule(rule.checked.rule).count("lr + ") == LONGEST_SUM - 1
    assert latex.document(rule.checked).count(r"\mathrm{lr}") >= LONGEST_SUM
    net = rule.network([2, 3, 1])
    genome, state = rule.init_genome(jax.random.key(0)), net.init(jax.random.key(1))
    after = jax.eval_shape(net.step, genome, state, jnp.ones((4, 2)), -jnp.ones((4, 1)))
    assert jax.tree.map(lambda a: a.shape, after) == jax.tree.map(jnp.shape, state)


@pytest.mark.parametrize("expression", [
    flat_sum(LONGEST_SUM + 1),
    flat_sum(10_000),
    "(lr + " * 5_000 + "lr" + ")" * 5_000,
    "-" * 5_000 + "lr",
    "tanh(" * 5_000 + "lr" + ")" * 5_000,
], ids=["one-past-the-limit", "10000-terms", "5000-nested-sums", "5000-negations", "5000-nested-calls"])
def test_deep_expressions_are_a_located_error(expression):
    with pytest.raises(RuleError) as caught:
        rulec.loads(with_learning_rate(expression), "deep.rule")
    error = caught.value
    assert error.codes == ("too-deep",)
    assert error.message == f"this expression nests more than {MAX_NESTING} operators deep"
    assert error.span.line == UPDATE_LINE
    assert error.span.column >= UPDATE_COLUMN
    assert "`let`" in error.diagnostics[0].hint


def test_five_thousand_parentheses_around_one_name_are_fine():
    rule = rulec.loads(with_learning_rate("(" * 5_000 + "lr" + ")" * 5_000))
    assert rule.name == "backprop"


@pytest.mark.parametrize("expression", [flat_sum(10_000), "(lr + " * 5_000 + "lr" + ")" * 5_000])
def test_rulec_check_reports_them_in_a_short_message(expression, tmp_path, monkeypatch, capsys):
    path = tmp_path / "deep.rule"
    path.write_text(with_learning_rate(expression))
    code, out, err = run("check", str(path), monkeypatch=monkeypatch, capsys=capsys)
    assert code == 1
    assert err.splitlines()[0].startswith(f"{path}:{UPDATE_LINE}:")
    assert f"more than {MAX_NESTING} operators deep" in err
    assert max(len(line) for line in err.splitlines()) < 300  # the 60,000-character line is quoted in part
    assert "Traceback" not in err and "internal error" not in err
