"""Shared fixtures: the stdlib rules are the test battery for every stage."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
STDLIB = sorted((ROOT / "stdlib_rules").glob("*.rule"))
INVALID = sorted((ROOT / "tests" / "fixtures" / "invalid").glob("*.rule"))


@pytest.fixture(params=STDLIB, ids=lambda p: p.stem)
def stdlib_rule(request) -> Path:
    return request.param
