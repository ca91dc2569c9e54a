"""`size(...)` in the checker: a neuron index or `batch` is accepted anywhere a scalar is, and every other
argument is an error at its place, with the way to write it."""

from __future__ import annotations

import pytest

from rulec.frontend import check_text
from tests.check.test_loop_errors import first_error

RULE = """rule r
dim k = 2
genome
  eta = 0.1
neuron a[k]
synapse w : pre+bias -> post
bias 1

input (i in input)
  a[i, c] := x[i]

forward (i in pre+bias, j in post)
  a[j, c] := tanh(sum(i) w[i, j] * a[i, c] / size(i))

update (i in pre+bias, j in post)
  w[i, j] := w[i, j] + eta * sum(batch, c) a[i, c] * a[j, c] * EXPR
"""

# (the expression, code, message, the text under the caret)
MISTAKES = [
    ("size(c)", "size-argument", "`c` is a state index; `size` counts a neuron index's neurons", "c"),
    ("size(d)", "size-argument", "`size` counts the neurons of an index, but `d` is not a neuron index bound here",
     "d"),
    ("size(i, j)", "size-argument", "`size` takes one index", "size(i, j)"),
    ("size(w[i, j])", "size-argument", "`size` takes one index", "size(w[i, j])"),
    ("size'(i)", "size-argument", "`size` counts an index's neurons and has no derivative", "size'(i)"),
    ("size(eta)", "size-argument", "`size` counts the neurons of an index, but `eta` is not a neuron index", "eta"),
    ("fan_in", "init-only", "`fan_in` can only be used in an initialiser", "fan_in"),
    ("sise(i)", "unknown-function", "unknown function `sise`", "sise(i)"),
]


@pytest.mark.parametrize("expression, code, message, culprit", MISTAKES, ids=[m[0] for m in MISTAKES])
def test_a_size_mistake_is_reported_where_it_is(expression, code, message, culprit):
    found_code, found_message, _, _, under = first_error(RULE.replace("EXPR", expression))
    assert (found_code, under) == (code, culprit)
    assert found_message.startswith(message)


@pytest.mark.parametrize("expression", ["size(i)", "size(j)", "size(batch)", "(size(i) + size(j)) / size(batch)"])
def test_sizes_of_bound_indices_and_the_batch_check(expression):
    check_text(RULE.replace("EXPR", expression))
