"""Types a checker can read: mypy checks the packages pyproject.toml's [tool.mypy] lists with zero errors, and a
dispatch over IR expressions that leaves a node out is one of them."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

import pytest
from mypy import api

ROOT = Path(__file__).resolve().parent.parent
# mypy's incremental cache, kept between runs of the suite: a warm run reads only the files that changed. One cache
# per checkout, so that two checkouts of rulec never read each other's.
CACHE = Path(tempfile.gettempdir()) / (f"rulec-mypy-cache-{os.getuid() if hasattr(os, 'getuid') else 'user'}-"
                                       f"{hashlib.sha256(str(ROOT).encode()).hexdigest()[:12]}")


def mypy(*args: str) -> tuple[str, int]:
    stdout, stderr, status = api.run(["--config-file", str(ROOT / "pyproject.toml"), "--cache-dir", str(CACHE),
                                      *args])
    return stdout + stderr, status


@pytest.fixture(autouse=True)
def at_the_root(monkeypatch):
    monkeypatch.chdir(ROOT)  # the config's `files` are relative to the repository


def test_the_listed_packages_type_check():
    output, status = mypy()
    assert status == 0, output


def test_a_dispatch_missing_an_expression_node_is_a_type_error(tmp_path):
    """`assert_never` ends each match over `ir.Expr`, so a node with no case is reported: here, `Size`."""
    code = ("from typing import assert_never\nfrom rulec.ir import nodes as ir\n\n"
            "def name(e: ir.Expr) -> str:\n    match e:\n"
            "        case ir.Const() | ir.Load() | ir.Func() | ir.PerState() | ir.Loss() | ir.Arith() | ir.Neg():\n"
            "            return 'one'\n"
            "        case ir.Reduce() | ir.Pairwise() | ir.IndexCompare() | ir.Draw():\n            return 'two'\n"
            "        case _:\n            assert_never(e)\n")
    (tmp_path / "dispatch.py").write_text(code)
    output, status = mypy(str(tmp_path / "dispatch.py"))
    assert status == 1 and '"Size"' in output and "assert_never" in output, output
