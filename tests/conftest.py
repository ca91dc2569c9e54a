"""Shared fixtures: the stdlib rules are the test battery for every stage."""

from __future__ import annotations

import os
from pathlib import Path

# Verify the IR between stages in every test (rulec/ir/verify.py), as JAX's enable_checks does.
os.environ["RULEC_CHECKS"] = "1"

import pytest

ROOT = Path(__file__).resolve().parent.parent
STDLIB = sorted((ROOT / "stdlib_rules").glob("*.rule"))
INVALID = sorted((ROOT / "tests" / "fixtures" / "invalid").glob("*.rule"))


@pytest.fixture(params=STDLIB, ids=lambda p: p.stem)
def stdlib_rule(request) -> Path:
    return request.param


def run_cli(*args: str, monkeypatch, capsys) -> tuple[int, str, str]:
    """Runs `rulec ARGS` in this process: (exit code, stdout, stderr)."""
    import sys

    from rulec import cli

    monkeypatch.setattr(sys, "argv", ["rulec", *args])
    with pytest.raises(SystemExit) as done:
        cli.main()
    out, err = capsys.readouterr()
    return done.value.code or 0, out, err
