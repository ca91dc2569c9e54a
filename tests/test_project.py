"""Project-level properties: the Pygments lexer is registered, the grammar ships, modules stay small, plots keep
to themselves."""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys

import pytest

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


def test_the_built_package_carries_the_grammar_as_a_file_and_parses_with_it(tmp_path):
    """In the repository `rulec/syntax/rule.lark` links to `grammar/rule.lark`; what setuptools builds from
    pyproject.toml (its `package-data`) must hold the grammar itself, and the built package must parse without the
    repository beside it."""
    pytest.importorskip("setuptools")
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source)
    shutil.copytree(ROOT / "grammar", source / "grammar")
    shutil.copytree(ROOT / "rulec", source / "rulec", symlinks=True, ignore=shutil.ignore_patterns("__pycache__"))
    built = tmp_path / "built"
    subprocess.run([sys.executable, "-c", "from setuptools import setup; setup()", "-q", "build_py", "--build-lib",
                    str(built)], cwd=source, capture_output=True, text=True, check=True, timeout=120)
    grammar = built / "rulec" / "syntax" / "rule.lark"
    assert grammar.is_file() and not grammar.is_symlink()
    assert grammar.read_text() == (ROOT / "grammar" / "rule.lark").read_text()
    # A fresh interpreter in the built folder, which has no grammar/ beside it: its first path entry is that folder.
    environment = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    script = ("import importlib, sys; parse = importlib.import_module('rulec.syntax.parse'); "
              "print(parse.__file__, parse.parse(sys.stdin.read(), 'backprop.rule').name)")
    parsed = subprocess.run([sys.executable, "-c", script],
                            input=(ROOT / "stdlib_rules" / "backprop.rule").read_text(), cwd=built,
                            env=environment, capture_output=True, text=True, timeout=120)
    assert parsed.returncode == 0, parsed.stderr
    assert parsed.stdout.split() == [str(built / "rulec" / "syntax" / "parse.py"), "backprop"]


def test_module_size_budget():
    sizes = {p: len(p.read_text().splitlines()) for p in (ROOT / "rulec").rglob("*.py")}
    too_big = {str(p.relative_to(ROOT)): n for p, n in sizes.items() if n > 400}
    assert not too_big, f"modules over 400 lines: {too_big}"
    assert statistics.median(sizes.values()) < 200


def test_plots_leave_the_callers_matplotlib_backend_and_pyplot_alone(tmp_path):
    """Library code draws on a bare Figure: a caller's backend (here svg) is not switched, nor pyplot imported."""
    script = f"""
import sys
import matplotlib
matplotlib.use("svg")
from pathlib import Path
from rulec.frontend import check_file
from rulec.meta import report as meta_report
from rulec.runtime import report
from rulec.runtime.train import Curve
from rulec.symbolic.latex import render_png
out = Path({str(tmp_path)!r})
render_png(check_file("stdlib_rules/backprop.rule"), out / "rule.png")
report.plot(out / "train.png", "title", "backprop", Curve([1, 2], [0.5, 0.6]), [1, 2], {{}})
meta_report.plot(out / "meta.png", [{{"step": 1, "best": 0.5, "mean": 0.4, "loss": 1.0}}], "title")
print(matplotlib.get_backend(), "matplotlib.pyplot" in sys.modules)
"""
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["svg", "False"]
    assert all((tmp_path / name).read_bytes()[:4] == b"\x89PNG" for name in ("rule.png", "train.png", "meta.png"))
