"""The registry of diagnostic codes (rulec/diagnostic_codes.py) holds every code rulec gives and only those, and
docs/language.md documents each with the registry's meaning."""

from __future__ import annotations

import ast
import dataclasses
import re
from collections.abc import Iterator

import pytest

from rulec.diagnostic_codes import CODES
from rulec.diagnostics import Diagnostic, RuleError, Source, Span
from tests.conftest import ROOT

TREES = {path: ast.parse(path.read_text()) for path in sorted((ROOT / "rulec").rglob("*.py"))}
DOC_ROW = re.compile(r"^\| `([a-z0-9-]+)` \| (.*) \|$", re.M)


def code_positions() -> dict[str, set[int | None]]:
    """Callables of rulec that take a `code`, by name, with the position of `code` among their positional
    parameters (None when it is keyword-only)."""
    fields = [f.name for f in dataclasses.fields(Diagnostic)]
    positions: dict[str, set[int | None]] = {"Diagnostic": {fields.index("code")}}
    for tree in TREES.values():
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef):
                names = [a.arg for a in node.args.posonlyargs + node.args.args]
                names = names[1:] if names[:1] in (["self"], ["cls"]) else names
                if "code" in names:
                    positions.setdefault(node.name, set()).add(names.index("code"))
                elif any(a.arg == "code" for a in node.args.kwonlyargs):
                    positions.setdefault(node.name, set()).add(None)
    return positions


def strings_in(node: ast.expr) -> Iterator[str]:
    return (n.value for n in ast.walk(node) if isinstance(n, ast.Constant) and isinstance(n.value, str))


def code_literals() -> Iterator[tuple[str, str]]:
    """(code, where) for every string rulec passes as a `code` argument or gives as a `code` default."""
    positions = code_positions()
    for path, tree in TREES.items():
        where = path.relative_to(ROOT)
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef):
                arguments = node.args.posonlyargs + node.args.args
                defaults = dict(zip(arguments[len(arguments) - len(node.args.defaults):], node.args.defaults))
                defaults |= {a: d for a, d in zip(node.args.kwonlyargs, node.args.kw_defaults) if d is not None}
                for argument, default in defaults.items():
                    if argument.arg == "code":
                        yield from ((code, f"{where}:{node.lineno}") for code in strings_in(default))
            elif isinstance(node, ast.Call):
                callee = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", None)
                given = [k.value for k in node.keywords if k.arg == "code"]
                given += [node.args[i] for i in positions.get(callee, ()) if i is not None and i < len(node.args)]
                for argument in given:
                    yield from ((code, f"{where}:{node.lineno}") for code in strings_in(argument))


def test_every_code_the_package_gives_is_registered_and_every_registered_code_is_given():
    found = list(code_literals())
    assert len(found) > 100  # the scan sees the checker's calls, not only a few
    assert sorted({f"{code} at {where}" for code, where in found if code not in CODES}) == []
    assert sorted(set(CODES) - {code for code, _ in found}) == []


def test_every_code_is_documented_in_the_language_reference_with_its_meaning():
    doc = (ROOT / "docs" / "language.md").read_text()
    table = doc[doc.index("<!-- generated: codes;"):doc.index("<!-- end generated: codes -->")]
    documented = DOC_ROW.findall(table)
    assert len(documented) == len(dict(documented))  # no code listed twice
    assert dict(documented) == dict(CODES)


def test_an_unregistered_code_is_refused_when_checks_are_on():
    span = Span(Source("r.rule", "rule r\n"), 1, 1, 1, 5)
    with pytest.raises(ValueError, match="diagnostic code 'no-such-code' is not in rulec/diagnostic_codes.py"):
        RuleError.at(span, "a message", code="no-such-code")
    assert Diagnostic(span, "a message", None, "syntax").code == "syntax"
