"""Arguments of a random draw that make no distribution: `normal(0, -1)`, `uniform(1, 0)`, `bernoulli(1.5)`.

Checked where they are constants (numbers, dims and arithmetic on them), in initialisers and in draws inside a
step alike. An argument that is a genome entry is known only at run time; there a Bernoulli probability outside
[0, 1] acts as the nearer bound, since a draw is 1 where a uniform number is below p.
"""

from __future__ import annotations

from collections.abc import Mapping

from rulec.check.constants import constant_value
from rulec.diagnostics import Diagnostic
from rulec.syntax import ast


def distribution_argument_errors(call: ast.Call, dims: Mapping[str, int]) -> list[Diagnostic]:
    """The errors in the constant arguments of the draw `call`, whose number of arguments is already right."""
    values = [constant_value(arg, dims) for arg in call.args]
    if call.function == "normal" and (spread := values[1]) is not None and spread < 0:
        return [Diagnostic(call.args[1].span, f"the standard deviation of `normal` is negative ({spread:g})",
                           "write the spread as a positive number and put any sign in front of the draw",
                           "distribution-argument")]
    low, high = values if call.function == "uniform" else (None, None)
    if low is not None and high is not None and low > high:
        return [Diagnostic(call.span, f"`uniform(low, high)` has low {low:g} above high {high:g}",
                           f"write `uniform({high:g}, {low:g})`", "distribution-argument")]
    if call.function == "bernoulli" and values[0] is not None and not 0 <= values[0] <= 1:
        return [Diagnostic(call.args[0].span, f"the probability of `bernoulli` is {values[0]:g}, outside [0, 1]",
                           "`bernoulli(p)` is 1 with probability p", "distribution-argument")]
    return []
