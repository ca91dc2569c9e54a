"""Every code block of the README and the guides runs, or says why not.

A block's fence names what it is:

* ```` ```sh ````: `rulec` commands, run here in order, in one temporary folder per document (which sees the
  repository's `stdlib_rules/`, `examples/` and `tests/`), each of which must exit 0, or N with ```` ```sh exit=N ````;
* ```` ```sh long ```` (minutes of work, a cluster) and ```` ```sh setup ```` (a fresh machine's install): not run,
  but every `rulec` command in them must name a command and flags that exist, and every script a file that does;
  `.ci/run` runs the README's test command (tests/test_docs.py);
* ```` ```rule ````: a whole rule, checked; ```` ```rule file=NAME ```` also writes it to NAME for the blocks after it;
* ```` ```python ````: run, the blocks of one document in one namespace;
* ```` ```text ````: output, or a picture of a layout: not run.

docs/language.md, the reference, quotes rule fragments and errors; tests/test_docs.py checks its errors.
"""

from __future__ import annotations

import glob
import re
import shlex
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import ROOT, run_cli

DOCUMENTS = [ROOT / "README.md", *sorted(p for p in (ROOT / "docs").glob("*.md") if p.name != "language.md")]
FENCE = re.compile(r"^```(\w*)([^\n]*)\n(.*?)^```\s*$", re.M | re.S)
KINDS = {"sh": {"", "long", "setup", "exit"}, "rule": {"", "file"}, "python": {""}, "text": {""}}
SHARED = ("stdlib_rules", "examples", "tests")


@dataclass(frozen=True)
class Block:
    kind: str
    options: dict[str, str]
    body: str
    line: int

    @property
    def where(self) -> str:
        return f"line {self.line}"


def blocks(path: Path) -> list[Block]:
    text = path.read_text()
    found = []
    for match in FENCE.finditer(text):
        words = match.group(2).split()
        options = dict(word.partition("=")[::2] for word in words)
        found.append(Block(match.group(1), options, match.group(3), text.count("\n", 0, match.start()) + 1))
    return found


def commands(body: str) -> list[str]:
    """The commands of a shell block: continuation lines joined, comments and blank lines left out."""
    joined = re.sub(r"\\\n\s*", " ", body)
    return [line.strip() for line in joined.splitlines() if line.strip() and not line.strip().startswith("#")]


def rulec_arguments(command: str) -> list[str] | None:
    """The arguments after `rulec` in a command (`srun ... rulec meta-train ...` included), or None."""
    words = shlex.split(command.split("&&")[-1], comments=True)
    return words[words.index("rulec") + 1:] if "rulec" in words else None


def known_flags() -> dict[str, set[str]]:
    import typer.main
    from typer import _click as click

    from rulec.cli import app

    group = typer.main.get_command(app)
    context = click.Context(group)
    return {name: {opt for p in group.get_command(context, name).params
                   for opt in (*p.opts, *getattr(p, "secondary_opts", ())) if opt.startswith("-")} | {"--help"}
            for name in group.list_commands(context)}


def test_every_block_says_what_it_is():
    unknown = [f"{path.name} {b.where}: ```{b.kind} {' '.join(b.options)}" for path in DOCUMENTS for b in blocks(path)
               if b.kind not in KINDS or not set(b.options) <= KINDS[b.kind]]
    assert unknown == [], "give each block one of: " + ", ".join(f"{k} {sorted(v)}" for k, v in KINDS.items())


def test_commands_that_are_not_run_name_commands_and_flags_that_exist():
    flags = known_flags()
    wrong = []
    for path in DOCUMENTS:
        for block in blocks(path):
            if block.kind != "sh" or not {"long", "setup"} & set(block.options):
                continue
            for command in commands(block.body):
                for script in re.findall(r"(?:bash|python) ((?:reproductions|benchmarks)/\S+)", command):
                    if not (ROOT / script).exists():
                        wrong.append(f"{path.name} {block.where}: no {script}")
                arguments = rulec_arguments(command)
                if arguments is None:
                    continue
                name, *rest = arguments
                given = {word.split("=")[0] for word in rest if word.startswith("-")}
                if name not in flags:
                    wrong.append(f"{path.name} {block.where}: no command `rulec {name}`")
                elif given - flags[name]:
                    wrong.append(f"{path.name} {block.where}: `rulec {name}` has no {sorted(given - flags[name])}")
    assert wrong == []


@pytest.mark.parametrize("path", [p for p in DOCUMENTS if any(b.kind in ("sh", "python", "rule") and
                                                               not {"long", "setup"} & set(b.options)
                                                               for b in blocks(p))],
                         ids=lambda p: p.name)
def test_the_blocks_of_a_document_run(path, tmp_path, monkeypatch, capsys):
    from rulec.frontend import check_text

    for name in SHARED:
        (tmp_path / name).symlink_to(ROOT / name)
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    for block in blocks(path):
        if block.kind == "rule":
            check_text(block.body, f"{path.name}:{block.line}")
            if "file" in block.options:
                (tmp_path / block.options["file"]).write_text(block.body)
        elif block.kind == "python":
            exec(compile(block.body, f"{path.name}:{block.line}", "exec"), namespace)
        elif block.kind == "sh" and not {"long", "setup"} & set(block.options):
            for command in commands(block.body):
                arguments = rulec_arguments(command)
                assert arguments is not None and command.startswith("rulec "), \
                    f"{path.name} {block.where}: a block that runs holds `rulec` commands only: {command}"
                expanded = [match for word in arguments for match in (sorted(glob.glob(word)) if "*" in word else [word])]
                code, out, err = run_cli(*expanded, monkeypatch=monkeypatch, capsys=capsys)
                expected = int(block.options.get("exit", 0))
                assert code == expected, f"{path.name} {block.where}: `{command}` exited {code}:\n{out}\n{err}"
