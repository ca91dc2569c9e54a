"""The documentation stays true: quoted errors are real, and the example checks."""

from __future__ import annotations

import importlib.util
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
    test_command = re.search(r"```sh[^\n]*\n(.*pytest.*)\n```", readme).group(1)
    assert test_command in ci


def test_every_reproduction_script_the_docs_name_exists():
    doc = (ROOT / "docs" / "reproductions.md").read_text()
    scripts = re.findall(r"bash (reproductions/\w+\.sh)", doc)
    assert len(set(scripts)) >= 3
    assert [s for s in scripts if not (ROOT / s).exists()] == []


def _generator():
    spec = importlib.util.spec_from_file_location("docs_generate", ROOT / "docs" / "generate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_generated_tables_equal_the_registries():
    """The command line's flags, the functions, losses, phase kinds, meta-training methods, diagnostic codes,
    datasets and stdlib rules in docs/*.md are generated; a registry entry the docs do not list fails here."""
    generate = _generator()
    docs = "".join(path.read_text() for path in (ROOT / "docs").glob("*.md"))
    assert set(generate.TABLES) <= set(re.findall(r"<!-- generated: ([\w-]+);", docs))
    stale = generate.stale()
    assert not stale, (f"{', '.join(str(p.relative_to(ROOT)) for p in stale)}: tables differ from the registries; "
                       f"run `{generate.COMMAND}`")


def test_a_new_registry_entry_makes_the_tables_stale(monkeypatch):
    from rulec import losses

    generate = _generator()
    monkeypatch.setitem(losses.LOSSES, "hinge", losses.LOSSES["mse"])
    assert ROOT / "docs" / "language.md" in generate.stale()


def test_the_help_lists_the_registries_choices():
    """`--help` names every meta-training method and dataset the registries hold."""
    from rulec.data.datasets import LOADERS, TRANSFORMS
    from rulec.data.inputs import INPUTS
    from rulec.meta.methods import METHODS

    helps = {(command, param.name): param.help for command, param in _params()}
    assert all(name in helps["meta-train", "method"] for name in METHODS)
    assert all(name in helps["train", "data"] for name in (*LOADERS, "fashion", "idx"))
    assert all(name in helps["train", "transform"] for name in TRANSFORMS)
    assert all(name in helps["train", "inputs"] for name in INPUTS)


def _params():
    import typer.main
    from typer import _click as click

    from rulec.cli import app

    group = typer.main.get_command(app)
    context = click.Context(group)
    return [(name, p) for name in group.list_commands(context) for p in group.get_command(context, name).params]


def test_the_exit_codes_documented_are_the_ones_rulec_gives():
    from rulec.commands.exits import ExitCode

    doc = (ROOT / "docs" / "errors.md").read_text()
    assert {int(code) for code in re.findall(r"^\| (\d+) \|", doc, re.M)} == {int(code) for code in ExitCode}


# A path on the machine a file was made on; Fashion-MNIST's system folder is a documented data location.
MACHINE_PATH = re.compile(r"(?<![\w.~-])/(?:root|home|tmp|work|Users|mnt|scratch|private|var|opt|srv|data)/\S*")
SHIPPED = ["*.md", "docs/*.md", "**/*.json", "reproductions/*.sh", "stdlib_rules/*.rule", "examples/*"]
# Folders a checkout grows that are not shipped: hidden ones (.git, .venv), builds and run outputs.
UNSHIPPED = {"build", "dist", "runs", "node_modules"}


def shipped(path) -> bool:
    folders = path.relative_to(ROOT).parts[:-1]
    return path.is_file() and not any(f.startswith(".") or f in UNSHIPPED for f in folders)


def test_no_shipped_file_records_a_path_of_the_machine_it_was_made_on():
    files = {p for pattern in SHIPPED for p in ROOT.glob(pattern) if shipped(p)}
    assert len([p for p in files if p.suffix == ".json"]) >= 5  # the shipped genomes' metadata is seen
    found = [f"{p.relative_to(ROOT)}: {m}" for p in sorted(files) for m in MACHINE_PATH.findall(p.read_text())]
    assert found == []


LINK = re.compile(r"\]\(([^)\s]+)\)")


def anchors(path) -> set[str]:
    """The anchors GitHub gives a document's headings: lower case, punctuation dropped, spaces as hyphens."""
    text = re.sub(r"```.*?```", "", path.read_text(), flags=re.S)
    headings = re.findall(r"^#+ (.*)$", text, re.M)
    return {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-") for h in headings}


def test_every_link_between_the_docs_leads_somewhere():
    broken = []
    for doc in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        prose = re.sub(r"`[^`\n]*`", "", re.sub(r"```.*?```", "", doc.read_text(), flags=re.S))
        for target in LINK.findall(prose):
            if "://" in target:
                continue
            file, _, anchor = target.partition("#")
            path = (doc.parent / file).resolve() if file else doc
            if not path.exists() or anchor and path.suffix == ".md" and anchor not in anchors(path):
                broken.append(f"{doc.relative_to(ROOT)}: {target}")
    assert broken == []
