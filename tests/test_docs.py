"""The documentation stays true: quoted errors are real, and the example checks."""

from __future__ import annotations

import re

import pytest

from rulec.diagnostics import RuleError
from rulec.frontend import check_file
from rulec.symbolic import prove_all
from tests.check.test_invalid import EXPECT
from tests.conftest import INVALID, ROOT

QUOTED_ERROR = re.compile(r"error: (.*)$", re.M)


def test_every_error_quoted_in_the_language_reference_is_one_rulec_gives():
    doc = (ROOT / "docs" / "language.md").read_text()
    blocks = "\n".join(re.findall(r"```text\n(.*?)```", doc, re.S))
    quoted = QUOTED_ERROR.findall(blocks)
    produced = {EXPECT.search(path.read_text()).group(3) for path in INVALID}
    for path in sorted((ROOT / "tests" / "fixtures" / "proofs").glob("*.rule")):
        with pytest.raises(RuleError) as caught:
            prove_all(check_file(path))
        produced.add(caught.value.message)
    assert len(quoted) >= 15
    assert [q for q in quoted if q not in produced] == []


@pytest.mark.parametrize("path", sorted((ROOT / "examples").glob("*.rule")), ids=lambda p: p.stem)
def test_examples_check(path):
    check_file(path)


def test_readme_commands_are_the_ones_ci_runs():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    test_command = re.search(r"```sh\n(.*pytest.*)\n```", readme).group(1)
    assert test_command in ci


def test_every_reproduction_script_the_docs_name_exists():
    doc = (ROOT / "docs" / "reproductions.md").read_text()
    scripts = re.findall(r"bash (reproductions/\w+\.sh)", doc)
    assert len(set(scripts)) >= 3
    assert [s for s in scripts if not (ROOT / s).exists()] == []
