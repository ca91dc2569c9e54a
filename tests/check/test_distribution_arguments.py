"""Constant arguments of a draw must make a distribution; arguments known only at run time, and the edge cases
that still make one, pass."""

from __future__ import annotations

import pytest

from rulec.diagnostics import RuleError
from rulec.frontend import check_text
from tests.conftest import INVALID

TEMPLATE = INVALID[0].parent.joinpath("bernoulli_probability.rule").read_text()
DRAW = "bernoulli(1 - 1 / 2 + 1)"


@pytest.mark.parametrize("draw", ["bernoulli(lr)", "bernoulli(0)", "bernoulli(1)", "uniform(0, 0)",
                                  "normal(lr, 0)", "uniform(-lr, 1)", "normal(0, k)"])
def test_draws_that_make_a_distribution_or_are_known_only_at_run_time_pass(draw):
    check_text(TEMPLATE.replace(DRAW, draw))


@pytest.mark.parametrize("draw, message", [
    ("bernoulli(-0.5)", "the probability of `bernoulli` is -0.5, outside [0, 1]"),
    ("bernoulli(k)", "the probability of `bernoulli` is 2, outside [0, 1]"),
    ("normal(0, 1 - k)", "the standard deviation of `normal` is negative (-1)"),
    ("uniform(k, 1)", "`uniform(low, high)` has low 2 above high 1"),
])
def test_a_step_draw_with_constant_arguments_that_make_no_distribution_is_refused(draw, message):
    with pytest.raises(RuleError) as caught:
        check_text(TEMPLATE.replace(DRAW, draw))
    (error,) = caught.value.diagnostics
    assert (error.message, error.code, error.span.line) == (message, "distribution-argument", 21)
