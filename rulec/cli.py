"""The `rulec` command line. It is the only place that prints diagnostics, and it never shows a traceback."""

from __future__ import annotations

import enum
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from rulec.check import CheckedRule
from rulec.diagnostics import Diagnostic, RuleError, Source, Span, render
from rulec.frontend import check_file, read_rule_file
from rulec.summary import summarize
from rulec.symbolic import prove_all
from rulec.symbolic import summary as proof_summary

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="rulec: a compiler for learned neural update rules.")

SetOption = Annotated[Optional[list[str]], typer.Option("--set", help="Override a dim, as NAME=VALUE (k=8).")]


def parse_overrides(values: list[str] | None) -> dict[str, int]:
    """Parses `--set k=8` flags. Raises RuleError (located on the command line) when one is malformed."""
    overrides: dict[str, int] = {}
    for text in values or ():
        name, sep, value = text.partition("=")
        if not sep or not name.strip().isidentifier() or not value.strip().isdigit():
            source = Source("<command line>", f"--set {text}")
            span = Span(source, 1, 7, 1, 7 + max(1, len(text)))
            raise RuleError([Diagnostic(span, f"malformed `--set {text}`", "write `--set NAME=VALUE`, as in "
                                        "`--set k=8`", "bad-flag")])
        overrides[name.strip()] = int(value)
    return overrides


def report(error: RuleError) -> None:
    for diagnostic in error.diagnostics:
        typer.echo(render(diagnostic), err=True)
    count = len(error.diagnostics)
    typer.echo(f"{count} error{'s' if count != 1 else ''}", err=True)


@app.command("check")
def check_command(files: Annotated[list[Path], typer.Argument(help="Rule files to check.")],
                  set_: SetOption = None,
                  prove: Annotated[bool, typer.Option("--prove/--no-prove",
                                                      help="Prove the rule's `prove` statements.")] = True,
                  ) -> None:
    """Parse and check rule files, and prove their claims; print one summary line per file."""
    overrides = parse_overrides(set_)
    failed = 0
    for path in files:
        try:
            checked = check_file(path, overrides)
            proofs = prove_all(checked) if prove and checked.rule.proofs else []
        except RuleError as error:
            report(error)
            failed += 1
            continue
        typer.echo(f"{path}: ok: {summarize(checked)}")
        for result in proofs:
            typer.echo(f"{path}: {proof_summary(result)}")
    if failed:
        raise typer.Exit(1)


@app.command("show")
def show_command(file: Annotated[Path, typer.Argument(help="The rule file to show.")],
                 set_: SetOption = None,
                 color: Annotated[Optional[bool], typer.Option("--color/--no-color",
                                                              help="Highlight (default: when a terminal).")] = None,
                 ) -> None:
    """Pretty-print a checked rule in canonical form, with syntax highlighting."""
    checked = check_file(file, parse_overrides(set_))
    # sys.stdout rather than typer.echo, which strips the colour codes when stdout is not a terminal.
    sys.stdout.write(render_rule(checked, sys.stdout.isatty() if color is None else color))


class Emit(str, enum.Enum):
    python = "python"
    stablehlo = "stablehlo"
    ir = "ir"


@app.command("compile")
def compile_command(file: Annotated[Path, typer.Argument(help="The rule file to compile.")],
                    set_: SetOption = None,
                    emit: Annotated[Emit, typer.Option(help="python: a stand-alone JAX module; stablehlo: the "
                                                             "step serialised by jax.export; ir: the lowered step "
                                                             "as a jaxpr.")] = Emit.python,
                    layers: Annotated[str, typer.Option(help="Layer sizes, input first.")] = "784,256,10",
                    batch: Annotated[int, typer.Option(min=1, help="Batch size the step is compiled for.")] = 128,
                    preset: Annotated[Optional[str], typer.Option(help="Fold this preset's genome into the "
                                                                       "program.")] = None,
                    output: Annotated[Optional[Path], typer.Option("-o", "--output",
                                                                   help="Write here instead of stdout.")] = None,
                    ) -> None:
    """Compile a rule for one network shape and write the artifact."""
    from rulec import api
    from rulec.lower import export

    sizes = parse_layers(layers)
    rule = api.Rule(check_file(file, parse_overrides(set_)), read_rule_file(file))
    net = rule.network(sizes, specialize=rule.preset(preset) if preset else None)
    if emit is Emit.stablehlo:
        if output is None:
            raise typer.BadParameter("StableHLO is binary; give an output file with -o", param_hint="-o")
        output.write_bytes(export.emit_stablehlo(net, batch))
        typer.echo(f"wrote {output}: the step of `{rule.name}` for layers {list(sizes)}, batch {batch}")
        return
    text = export.emit_python(net, batch) if emit is Emit.python else export.emit_jaxpr(net, batch)
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text)
        typer.echo(f"wrote {output}")


def parse_layers(text: str) -> tuple[int, ...]:
    try:
        sizes = tuple(int(part) for part in text.split(","))
    except ValueError:
        sizes = ()
    if len(sizes) < 2 or min(sizes) < 1:
        raise typer.BadParameter(f"expected at least two positive sizes such as 784,256,10, got {text!r}",
                                 param_hint="--layers")
    return sizes


def render_rule(checked: CheckedRule, color: bool) -> str:
    from rulec.syntax.printer import print_rule

    dims = ", ".join(f"{k}={v}" for k, v in checked.dims.items())
    text = print_rule(checked.rule) + f"\n# checked: {summarize(checked)}" + (f"; dims {dims}" if dims else "") + "\n"
    if not color:
        return text
    from pygments import highlight
    from pygments.formatters import TerminalFormatter

    from rulec.highlight import RuleLexer

    return highlight(text, RuleLexer(), TerminalFormatter())


def main() -> None:
    """Entry point: runs the app, turning user errors into located messages and exit code 1."""
    try:
        result = app(standalone_mode=False)  # returns the exit code of a `typer.Exit`
        sys.exit(result if isinstance(result, int) else 0)
    except RuleError as error:
        report(error)
        sys.exit(1)
    except typer.Exit as done:
        sys.exit(done.exit_code)
    except typer.Abort:
        typer.echo("aborted", err=True)
        sys.exit(1)
    except Exception as error:  # a bug in rulec: say so plainly rather than dumping a traceback
        # Usage errors (bad flags, unknown commands) are click exceptions; typer may vendor click, so they are
        # recognised by their interface rather than their class.
        if callable(getattr(error, "show", None)) and isinstance(getattr(error, "exit_code", None), int):
            error.show()
            sys.exit(error.exit_code)
        typer.echo(f"rulec: internal error: {type(error).__name__}: {error}\n"
                   "This is a bug in rulec; please report it with the command and the rule file.", err=True)
        sys.exit(2)
