"""The layer contract: every module imports only from the layers below its own (pyproject.toml's
[tool.importlinter], drawn in docs/compiler.md), and the light entry points stay light."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from importlinter.cli import lint_imports

ROOT = Path(__file__).resolve().parent.parent


def lint(config: Path) -> int:
    return lint_imports(config_filename=str(config), no_cache=True)


def test_the_layer_contract_holds():
    assert lint(ROOT / "pyproject.toml") == 0


def test_an_upward_import_breaks_a_contract(tmp_path):
    """The same tool on a contract that the code breaks: the command line imports the syntax, so a contract with
    the syntax above the command line fails."""
    config = tmp_path / "upside_down.toml"
    config.write_text('[tool.importlinter]\nroot_package = "rulec"\n\n[[tool.importlinter.contracts]]\n'
                      'name = "upside down"\ntype = "layers"\nlayers = ["rulec.syntax", "rulec.cli"]\n')
    assert lint(config) == 1


def imported_by(statement: str) -> set[str]:
    """The top-level packages a fresh interpreter has loaded after `statement`."""
    code = f"import sys\n{statement}\nprint(' '.join(sorted({{name.partition('.')[0] for name in sys.modules}})))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    return set(result.stdout.split())


def test_the_api_works_without_sympy():
    assert "sympy" not in imported_by("import rulec.api")


def test_the_command_line_starts_without_the_compiler():
    """`rulec --help` loads the command line alone: what each command needs is imported when it runs."""
    loaded = imported_by("import rulec.cli")
    assert not loaded & {"jax", "sympy", "numpy", "lark"}, loaded


def test_the_set_flag_states_the_range_the_checker_allows():
    """`--set`'s help writes the largest dim out rather than import the checker for it; the two must agree."""
    from rulec.check.declarations import MAX_DIM
    from rulec.commands.flags import SET_HELP

    assert SET_HELP.endswith(f"a whole number from 1 to {MAX_DIM}.")
