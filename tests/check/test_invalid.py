"""Every malformed rule in tests/fixtures/invalid gives a located error with the expected message.

Each fixture states its expectation in its second line: `# expect: LINE:COL: message`. The first diagnostic
(diagnostics are sorted by location) must match it exactly.
"""

from __future__ import annotations

import re

import pytest

from rulec.diagnostics import RuleError, render
from rulec.frontend import check_file
from rulec.ir.lint import lint, raise_errors
from rulec.ir.resolve import resolve
from tests.conftest import INVALID

EXPECT = re.compile(r"^# expect: (\d+):(\d+): (.*)$", re.M)


def check_and_lint(path) -> None:
    """Checks a rule file, then raises the errors that need the resolved program (`never-written`)."""
    raise_errors(lint(resolve(check_file(path))))


def test_there_are_at_least_forty_distinct_malformed_inputs():
    assert len(INVALID) >= 40
    assert len({path.read_text() for path in INVALID}) == len(INVALID)


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.stem)
def test_malformed_rule_reports_message_and_location(path):
    line, column, message = EXPECT.search(path.read_text()).groups()
    with pytest.raises(RuleError) as caught:
        check_and_lint(path)
    first = caught.value.diagnostics[0]
    assert first.message == message
    assert (first.span.line, first.span.column) == (int(line), int(column))
    rendered = render(first)
    assert rendered.startswith(f"{path}:{line}:{column}: error: {message}")
    assert "^" in rendered.splitlines()[2]


def test_codes_are_distinct_enough_to_document():
    codes = set()
    for path in INVALID:
        with pytest.raises(RuleError) as caught:
            check_and_lint(path)
        codes.add(caught.value.diagnostics[0].code)
    assert len(codes) >= 30
