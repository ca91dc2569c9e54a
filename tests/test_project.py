"""Project-level properties: the Pygments lexer is registered, the grammar ships, modules stay small."""

from __future__ import annotations

import importlib.resources
import statistics

from pygments.lexers import find_lexer_class_for_filename, get_lexer_by_name
from pygments.token import Keyword, Name

from tests.conftest import ROOT


def test_lexer_is_found_through_the_entry_point():
    assert get_lexer_by_name("rule").name == "rulec rule"
    assert find_lexer_class_for_filename("blur.rule").__name__ == "RuleLexer"


def test_lexer_marks_keywords_and_builtins():
    tokens = list(get_lexer_by_name("rule").get_tokens("forward (i in pre, j in post)\n  a[j] := tanh'(z)\n"))
    assert (Keyword.Namespace, "forward") in tokens
    assert (Name.Builtin, "tanh'") in tokens


def test_grammar_ships_inside_the_package():
    packaged = importlib.resources.files("rulec.syntax").joinpath("rule.lark").read_text()
    assert packaged == (ROOT / "grammar" / "rule.lark").read_text()


def test_module_size_budget():
    sizes = {p: len(p.read_text().splitlines()) for p in (ROOT / "rulec").rglob("*.py")}
    too_big = {str(p.relative_to(ROOT)): n for p, n in sizes.items() if n > 400}
    assert not too_big, f"modules over 400 lines: {too_big}"
    assert statistics.median(sizes.values()) < 200
