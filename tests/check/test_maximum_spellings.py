"""The spellings people try for the maximum of two values get a located hint towards `maximum(a, b)`."""

from __future__ import annotations

import pytest

from rulec.diagnostics import RuleError
from rulec.frontend import check_text
from tests.conftest import ROOT

TEXT = (ROOT / "stdlib_rules" / "backprop_xent.rule").read_text()
LINE = "a[j, 0] := tanh(z[j]) for j in hidden"
ROW = next(n for n, line in enumerate(TEXT.splitlines(), 1) if LINE in line)


@pytest.mark.parametrize("written, column, message, hint", [
    ("min(z[j], 0)", 14, "unknown function `min`", "did you mean `minimum`?"),
    ("max(z[j], 0)", 19, "a reduction lists index names in parentheses, not values",
     "write `max(i) w[i, j]`; the larger or smaller of two values is `maximum(a, b)` or `minimum(a, b)`"),
])
def test_min_and_max_of_two_values_point_at_maximum_and_minimum(written, column, message, hint):
    with pytest.raises(RuleError) as caught:
        check_text(TEXT.replace(LINE, f"a[j, 0] := {written} for j in hidden"), "m.rule")
    diagnostic = caught.value.diagnostics[0]
    assert (diagnostic.message, diagnostic.hint) == (message, hint)
    assert (diagnostic.span.line, diagnostic.span.column) == (ROW, column)


def test_maximum_takes_two_arguments():
    with pytest.raises(RuleError) as caught:
        check_text(TEXT.replace(LINE, "a[j, 0] := maximum(z[j]) for j in hidden"), "m.rule")
    assert caught.value.diagnostics[0].message == "`maximum` takes 2 arguments, got 1"
    assert caught.value.diagnostics[0].code == "arity"
