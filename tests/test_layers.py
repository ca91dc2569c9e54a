"""The layer contract: every module imports only from the layers below its own (pyproject.toml's
[tool.importlinter], drawn in docs/compiler.md), and the light entry points stay light."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from importlinter.cli import lint_imports

ROOT = Path(__file__).resolve().parent.parent


def lint(config: Path) -> int:
    return lint_imports(config_filename=str(config), no_cache=True)


def test_the_layer_contract_holds():
    assert lint(ROOT / "pyproject.toml") == 0


def test_rulecs_contracts_catch_an_upward_import_and_a_forbidden_one(tmp_path):
    """pyproject.toml's contracts on a copy of rulec with two planted imports: the syntax importing the runtime
    (upwards, and so a circle with the runtime, which imports the syntax), and the IR importing typer (which
    belongs to the command line). Each breaks its contracts, named with the import; the SymPy contract, untouched,
    holds."""
    shutil.copytree(ROOT / "rulec", tmp_path / "rulec", symlinks=True, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    for module, planted in (("syntax/limits.py", "rulec.runtime.train"), ("ir/nodes.py", "typer")):
        with open(tmp_path / "rulec" / module, "a") as file:
            file.write(f"\nimport {planted}\n")
    # A fresh interpreter in the copy, whose first path entry is the copy: the linter finds the planted rulec.
    environment = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    result = subprocess.run([sys.executable, "-c", "import sys; from importlinter.cli import lint_imports; "
                             "sys.exit(lint_imports(no_cache=True))"], cwd=tmp_path, env=environment,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 1, result.stderr
    report = result.stdout
    assert "rulec imports downwards only BROKEN" in report and "- rulec.syntax.limits -> rulec.runtime.train" in report
    assert "typer and rich belong to the command line BROKEN" in report
    assert "rulec.ir is not allowed to import typer:\n\n-   rulec.ir.nodes -> typer" in report
    assert "no import runs in a circle BROKEN" in report  # the upward import closes a circle: runtime -> syntax
    assert "Contracts: 1 kept, 3 broken." in report  # the SymPy contract, untouched, holds


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
