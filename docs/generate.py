"""Regenerate the tables of the docs that restate a registry of rulec, so that the docs cannot drift from the code.

    python docs/generate.py           # rewrite every generated table in docs/*.md
    python docs/generate.py --check   # exit 1, naming the stale tables, when a doc differs from the registries

A generated table sits between two marker comments in a doc,

    <!-- generated: NAME; python docs/generate.py -->
    ...
    <!-- end generated: NAME -->

and NAME is one of `TABLES` below, each a function of the registries alone: the command line's flags come from
typer's own command definitions (so a new command or flag appears without editing this file), the functions,
losses, phase kinds, meta-training methods and diagnostic codes from their registries, the standard library's
rules from their files. tests/test_docs.py runs the check.
"""

from __future__ import annotations

import re
import sys
import typing
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
COMMAND = "python docs/generate.py"
BLOCK = re.compile(r"(<!-- generated: (?P<name>[\w-]+); [^>]*-->\n)(?P<body>.*?)(<!-- end generated: (?P=name) -->)",
                   re.S)


def cell(text: str) -> str:
    """Text for one table cell: one line, with its pipes escaped."""
    return " ".join(str(text).split()).replace("|", "\\|")


def table(header: tuple[str, ...], rows) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def _flag_value(param) -> str:
    """What a flag takes: nothing for a switch, else the kind of its value, with its range where it has one."""
    if getattr(param, "is_flag", False):
        return ""
    annotation = param.type_descriptor.annotation
    annotation = typing.get_args(annotation)[0] if typing.get_origin(annotation) is list else annotation
    kind = {int: "integer", float: "number", Path: "path"}.get(annotation, "text")
    low, high = getattr(param, "min", None), getattr(param, "max", None)
    bounds = [f"{low} <=" if low is not None else "", "x", f"<= {high}" if high is not None else ""]
    return kind + (f", {' '.join(b for b in bounds if b)}" if low is not None or high is not None else "")


def _flag_default(param) -> str:
    if param.required:
        return "required"
    if param.default is None or param.default is False or (param.multiple and not param.default):
        return ""
    if getattr(param, "is_flag", False) and param.secondary_opts:
        return f"`{param.opts[0] if param.default else param.secondary_opts[0]}`"
    return f"`{param.default}`"


def cli_tables() -> str:
    """One section per `rulec` command, with a table of its arguments and flags, read from the typer app."""
    import typer.main
    from typer import _click as click

    from rulec.cli import app

    group = typer.main.get_command(app)
    context = click.Context(group)
    sections = []
    for name in group.list_commands(context):
        command = group.get_command(context, name)
        rows = []
        for param in command.params:
            if param.param_type_name == "argument":
                flag = param.name.upper() + ("..." if param.nargs == -1 else "")
            else:
                flag = " / ".join(f"`{opt}`" for opt in (*param.opts, *getattr(param, "secondary_opts", ())))
                flag += " (repeatable)" if param.multiple else ""
            rows.append((flag, _flag_value(param), _flag_default(param), getattr(param, "help", None) or ""))
        summary = (command.help or "").strip().splitlines()[0]
        sections.append(f"### rulec {name}\n\n{summary}\n\n" + table(("flag", "takes", "default", "meaning"), rows))
    return "\n".join(sections)


def function_table() -> str:
    from rulec.functions import FUNCTIONS

    def primes(record) -> str:
        marks = [record.name + "'" * n for n in range(1, len(record.derivatives) + 1)]
        return ", ".join(f"`{m}`" for m in marks) or "none"

    return table(("function", "derivatives"), [(f"`{name}`", primes(r)) for name, r in FUNCTIONS.items()])


def loss_table() -> str:
    from rulec.losses import LOSSES

    return table(("loss", "what a proof sums", "couples the outputs"),
                 [(f"`{name}`", r.summed, "yes" if r.couples_outputs else "no") for name, r in LOSSES.items()])


def phase_table() -> str:
    from rulec.phases import PHASES

    def sets(names) -> str:
        return ", ".join(f"`{n}`" for n in sorted(names)) or "none"

    rows = [(f"`{spec.kind.value}`", "required" if spec.required else "optional",
             " or ".join(f"({sets(s)})" for s in spec.schemes),
             sets(spec.neuron_writes) + (f"; persistent ones of {sets(spec.persistent_writes)}"
                                         if spec.persistent_writes else "")
             + ("; persistent scalars (over pairs, once a step)" if spec.writes_scalars else ""),
             "yes" if spec.writes_synapses else "no", "output to input" if spec.top_down else "input to output",
             "yes" if spec.predicts else "no", "yes" if spec.repeatable else "no") for spec in PHASES]
    return table(("phase", "in a rule", "header binds", "writes neurons of", "writes synapses", "instances run",
                  "`predict` runs it", "may repeat"), rows)


def method_table() -> str:
    from rulec.meta.methods import METHODS

    def implementation(entry) -> str:
        method = entry.load()
        name = f"`{method.__module__}.{method.__name__}`"
        return f"{name} on evosax's `{entry.variant}`" if entry.variant else name

    rows = [(f"`{name}`", implementation(e), e.population, e.unroll) for name, e in METHODS.items()]
    return table(("`--method`", "implementation", "default `--population`", "default `--unroll`"), rows)


def code_table() -> str:
    from rulec.diagnostic_codes import CODES

    return table(("code", "meaning"), [(f"`{code}`", meaning) for code, meaning in CODES.items()])


def stdlib_table() -> str:
    """Every rule of stdlib_rules/ with the first sentence of its own description."""
    from rulec.frontend import read_rule_file
    from rulec.syntax.parse import parse

    rows = []
    for path in sorted((ROOT / "stdlib_rules").glob("*.rule")):
        doc = parse(read_rule_file(path), str(path)).doc
        genome = (path.parent / "genomes" / f"{path.stem}.npz").exists()
        rows.append((f"[`{path.name}`](../stdlib_rules/{path.name})", doc.strip(),
                     f"`genomes/{path.stem}.npz`" if genome else ""))
    return table(("file", "rule", "shipped genome"), rows)


def dataset_table() -> str:
    from rulec.data.datasets import LOADERS, TRANSFORMS
    from rulec.data.inputs import INPUTS
    from rulec.data.synthetic import TASKS

    rows = [("`--data`", ", ".join(f"`{n}`" for n in (*LOADERS, "fashion", "idx", *TASKS))),
            ("`--transform`", ", ".join(f"`{n}`" for n in TRANSFORMS)),
            ("`--inputs`", ", ".join(f"`{n}`" for n in INPUTS))]
    return table(("flag", "choices"), rows)


TABLES: dict[str, Callable[[], str]] = {
    "cli": cli_tables, "functions": function_table, "losses": loss_table, "phases": phase_table,
    "methods": method_table, "codes": code_table, "stdlib": stdlib_table, "datasets": dataset_table,
}


def regenerate(text: str, cache: dict[str, str]) -> str:
    """`text` with every generated block rewritten from the registries (`cache` keeps each table built once)."""
    def fill(match: re.Match) -> str:
        name = match.group("name")
        if name not in TABLES:
            raise SystemExit(f"unknown generated table {name!r}; known: {', '.join(TABLES)}")
        if name not in cache:
            cache[name] = TABLES[name]()
        return match.group(1) + cache[name] + match.group(4)

    return BLOCK.sub(fill, text)


def stale() -> dict[Path, str]:
    """{doc: its regenerated text} for every doc whose generated tables differ from the registries."""
    cache: dict[str, str] = {}
    out = {}
    for path in sorted(DOCS.glob("*.md")):
        text = path.read_text()
        new = regenerate(text, cache)
        if new != text:
            out[path] = new
    return out


def main(argv: list[str]) -> int:
    changed = stale()
    if "--check" in argv:
        for path in changed:
            print(f"{path.relative_to(ROOT)}: generated tables differ from the registries; run `{COMMAND}`")
        return 1 if changed else 0
    for path, text in changed.items():
        path.write_text(text)
        print(f"rewrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main(sys.argv[1:]))
