"""Relaxation loops in the checker: every mistake gets its message at its place, and a loop's reads are not
taken for reads before writes."""

from __future__ import annotations

import pytest

from rulec.diagnostics import RuleError
from rulec.frontend import check_text
from rulec.ir.lint import lint
from rulec.ir.resolve import resolve

HEAD = """rule r
dim n = 3
genome
  lr = 0.1
neuron a[2]
neuron up
synapse w : pre+bias -> post
bias 1

input (i in input)
  a[i, c] := x[i]
"""
FORWARD = """  forward (i in pre+bias, j in post)
    a[j, c] := tanh(sum(i) w[i, j] * a[i, c] + up[j])
"""
FEEDBACK = """  feedback (j in output)
    a[j, 1] := a[j, 1] - target[j]
"""
BACKWARD = """  backward (i in pre, j in post)
    up[i] := sum(j) w[i, j] * a[j, 1]
"""
UPDATE = """update (i in pre+bias, j in post)
  w[i, j] := w[i, j] + lr * sum(batch) a[i, 0] * a[j, 1]
"""


def rule_text(body: str) -> str:
    return HEAD + "\n" + body + "\n" + UPDATE


def first_error(text: str, dims=None) -> tuple[str, str, int, int, str]:
    """(code, message, line, column, the text under the caret) of the first error."""
    with pytest.raises(RuleError) as caught:
        check_text(text, "loops.rule", dims)
    error = caught.value.diagnostics[0]
    line = text.split("\n")[error.span.line - 1]
    end = error.span.end_column - 1 if error.span.end_line == error.span.line else len(line)
    return error.code, error.message, error.span.line, error.span.column, line[error.span.column - 1:end]


def line_of(text: str, fragment: str) -> int:
    return next(number for number, line in enumerate(text.split("\n"), 1) if fragment in line)


# (the loop's text, code, message, the text under the caret, a fragment of the line it is on)
MISTAKES = [
    ("repeat m\n" + FORWARD + "end\n", "loop-count", "unknown dim `m`", "m", "repeat m"),
    ("repeat lr\n" + FORWARD + "end\n", "loop-count", "the count of a loop must be a dim, but `lr` is a genome",
     "lr", "repeat lr"),
    ("repeat 0\n" + FORWARD + "end\n", "loop-count", "a loop runs between 1 and 1024 times, not 0", "0", "repeat 0"),
    ("repeat n\nend\n" + FORWARD.replace("  ", "", 1), "empty-loop", "this loop holds no phase", "repeat",
     "repeat n"),
    ("repeat n\n" + FORWARD + "repeat 2\n" + BACKWARD + "end\nend\n", "nested-loop", "loops cannot be nested",
     "repeat", "repeat 2"),
    ("repeat n\n" + BACKWARD + FORWARD + "end\n", "loop-order",
     "the forward phase runs before backward in a step, but follows it in this loop", "forward", "forward ("),
    ("repeat n\n" + FORWARD + BACKWARD + "end\n" + FEEDBACK, "loop-order",
     "the feedback phase runs between phases that the loop on line 13 repeats", "feedback", "feedback ("),
]


@pytest.mark.parametrize("body, code, message, culprit, where", MISTAKES, ids=[m[1] for m in MISTAKES])
def test_a_loop_mistake_is_reported_where_it_is(body, code, message, culprit, where):
    text = rule_text(body)
    found_code, found_message, line, column, under = first_error(text)
    assert (found_code, under, line) == (code, culprit, line_of(text, where))
    assert found_message.startswith(message)


def test_the_input_and_update_phases_cannot_repeat():
    text = HEAD.replace("input (i in input)", "repeat n\ninput (i in input)") + "\n" + FORWARD + "end\n" + UPDATE
    assert first_error(text)[:2] == ("looped-phase", "the input phase cannot run inside a loop")
    assert first_error(text)[2:] == (line_of(text, "input (i in"), 1, "input")
    text = rule_text(FORWARD + "repeat n\n" + UPDATE + "end\n")
    code, message, line, column, under = first_error(text)
    assert (code, message, line, under) == ("looped-phase", "the update phase cannot run inside a loop",
                                            line_of(text, "update ("), "update")


def test_a_loop_count_is_a_dim_that_overrides_change():
    text = rule_text("repeat n\n" + FORWARD + FEEDBACK + BACKWARD + "end\n")
    assert [loop.count for loop in resolve(check_text(text, "loops.rule", {"n": 7})).loops] == [7]
    assert [loop.count for loop in resolve(check_text(text.replace("repeat n", "repeat 5"))).loops] == [5]


def test_inside_a_loop_a_read_before_its_write_is_no_warning():
    """`up[j]` is read by forward before backward writes it: inside the loop it holds the previous iteration's
    value. Run once, outside a loop, the same read reads zero and is warned about."""
    looped = rule_text("repeat n\n" + FORWARD + FEEDBACK + BACKWARD + "end\n")
    assert [w.code for w in lint(resolve(check_text(looped)))] == []
    once = rule_text(FORWARD + FEEDBACK + BACKWARD)
    warnings = [(w.code, w.span.line) for w in lint(resolve(check_text(once)))]
    assert ("read-before-write", line_of(once, "+ up[j]")) in warnings


def test_a_target_read_that_predict_runs_in_a_loop_is_a_warning_at_the_read():
    text = rule_text("repeat n\n" + FORWARD + "  backward (i in hidden, j in output)\n    up[i] := sum(j) "
                     "target[j] * a[j, 0]\nend\n")
    [warning] = [d for d in lint(resolve(check_text(text, "loops.rule"))) if d.code == "predict-target"]
    assert (warning.span.line, warning.span.column) == (line_of(text, "sum(j) target"), 21)
    assert warning.message.startswith("`predict` runs the backward phase too, and has no target: this reads 0")


def test_a_persistent_write_inside_a_loop_is_a_warning_at_the_write():
    text = rule_text("repeat n\n" + FORWARD + "    r[j] := r[j] + mean(batch) a[j, 0]\n" + FEEDBACK + BACKWARD
                     + "end\n").replace("neuron up\n", "neuron up\nneuron r persistent = 0\n")
    [warning] = [d for d in lint(resolve(check_text(text, "loops.rule"))) if d.code == "persistent-in-loop"]
    assert (warning.span.line, warning.span.column) == (line_of(text, "r[j] := "), 5)
    assert warning.message == "`r` persists across steps, but the loop on line 14 writes it 3 times a step"
