"""The Python API of docs/python.md: its examples run as written, from the repository's root."""

from __future__ import annotations

import re
import runpy

import pytest

from tests.conftest import ROOT

BLOCKS = re.findall(r"```python\n(.*?)```", (ROOT / "docs" / "python.md").read_text(), re.S)


@pytest.mark.parametrize("block", BLOCKS, ids=[f"block{i}" for i in range(len(BLOCKS))])
def test_the_examples_run_as_written(block, tmp_path, monkeypatch, capsys):
    script = tmp_path / "example.py"
    script.write_text(block)
    monkeypatch.chdir(ROOT)
    runpy.run_path(str(script), run_name="__main__")
    assert capsys.readouterr().out.strip()
