"""Text that misleads a renderer: invisible characters, exotic line breaks, misspelled keywords, floods."""

from __future__ import annotations

import pytest

from rulec.diagnostics import MAX_SHOWN, RuleError, render, render_all
from rulec.frontend import check_text
from tests.conftest import ROOT

BACKPROP = (ROOT / "stdlib_rules" / "backprop.rule").read_text()
LOSS_LINE = BACKPROP.split("\n").index("loss mse") + 1


def first_error(text: str) -> RuleError:
    with pytest.raises(RuleError) as caught:
        check_text(text, "hostile.rule")
    return caught.value


@pytest.mark.parametrize("char, message", [
    ("\ufeff", "unexpected byte-order mark U+FEFF"),
    ("\x00", "unexpected control character U+0000"),
    ("\x1b", "unexpected control character U+001B"),
    ("\u200b", "unexpected invisible character U+200B (zero width space)"),
    ("\u2028", "unexpected invisible character U+2028 (line separator)"),
])
def test_invisible_characters_are_named_by_code_point(char, message):
    error = first_error(BACKPROP.replace("loss mse", f"loss{char} mse"))
    assert error.message == message
    assert (error.span.line, error.span.column) == (LOSS_LINE, 5)
    quoted, caret = render(error.diagnostics[0]).splitlines()[1:3]
    code_point = f"<U+{ord(char):04X}>"
    assert quoted == f"  loss{code_point} mse"
    assert caret == "  " + " " * 4 + "^" * len(code_point)  # under the code point, not beside it


@pytest.mark.parametrize("line_break", ["\f", "\v", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029"])
def test_exotic_line_breaks_in_comments_keep_the_quoted_line_right(line_break):
    """`str.splitlines` breaks at these, Lark does not; the quoted line must be the one the parser means."""
    text = BACKPROP.replace("loss mse", f"# a comment with a{line_break}break\nloss mse", 1)
    text = text.replace("- lr * sum(batch)", "- lrr * sum(batch)")
    error = first_error(text)
    assert error.message == "undeclared name `lrr`"
    rendered = render(error.diagnostics[0]).splitlines()
    assert rendered[1].strip() == "w[i, j] := w[i, j] - lrr * sum(batch) a[i, 0] * a[j, 1]"
    assert rendered[1][rendered[2].index("^"):].startswith("lrr")


@pytest.mark.parametrize("typo, keyword", [
    ("forwrd (i in pre+bias, j in post)", "forward"), ("backwrd (i in pre, j in post)", "backward"),
    ("updat (i in pre+bias, j in post)", "update"), ("genom", "genome"), ("synaps v : pre -> post", "synapse"),
    ("neuronn b", "neuron"), ("dimm q = 2", "dim"), ("feedbak(j in output)", "feedback"),
])
@pytest.mark.parametrize("after", ["loss mse", "backward (i in pre, j in post)"], ids=["declarations", "phases"])
def test_misspelled_keywords_get_did_you_mean(typo, keyword, after):
    text = BACKPROP.replace(after, f"{typo}\n{after}", 1)
    line = text.split("\n").index(typo) + 1
    error = first_error(text)
    assert error.message == f"unknown keyword `{typo.split()[0].split('(')[0]}`"
    assert error.diagnostics[0].hint == f"did you mean `{keyword}`?"
    assert (error.span.line, error.span.column) == (line, 1)


def test_a_name_far_from_any_keyword_keeps_the_parser_message():
    error = first_error(BACKPROP.replace("loss mse", "zebra (i in pre)\nloss mse"))
    assert error.message == "unexpected `(`"


def test_a_flood_of_errors_shows_twenty_then_a_count():
    uses = "\n".join(f"  a[j, 0] := undeclared{n}[j]" for n in range(2_000))
    error = first_error(BACKPROP.replace("feedback (j in output)", "feedback (j in output)\n" + uses))
    assert len(error.diagnostics) == 2_000
    shown = str(error)
    assert shown == render_all(error.diagnostics)
    assert shown.count(": error: ") == MAX_SHOWN
    assert shown.endswith(f"\n... and {2_000 - MAX_SHOWN} more errors")


def test_an_undeclared_name_is_reported_once_with_a_count():
    text = BACKPROP.replace("- lr * sum(batch)", "- lrr * lrr * sum(batch)").replace(
        "a[j, 1] := loss'(a[j, 0], target[j]) * a[j, 1]", "a[j, 1] := loss'(a[j, 0], target[j]) * a[j, 1] * lrr")
    error = first_error(text)
    assert [d.message for d in error.diagnostics] == ["undeclared name `lrr`"]
    assert error.diagnostics[0].hint == "did you mean `lr`? (used 2 more times after this, not reported again)"
    assert error.span.line == text.split("\n").index("  a[j, 1] := loss'(a[j, 0], target[j]) * a[j, 1] * lrr") + 1


def test_a_long_line_is_quoted_around_the_caret():
    long_sum = " + ".join(["a[i, 0]"] * 150)
    error = first_error(BACKPROP.replace("  a[i, 0] := x[i]", f"  a[i, 0] := {long_sum} + zz"))
    quoted, caret = render(error.diagnostics[0]).splitlines()[1:3]
    assert error.message == "undeclared name `zz`"
    assert len(quoted) < 200 and quoted.startswith("  ...")
    assert quoted[caret.index("^"):].startswith("zz")
