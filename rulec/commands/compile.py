"""`rulec compile`: the artifact of one network shape (a Python module, StableHLO, a jaxpr) or the rule's equations
(LaTeX, PNG). The compiler is imported when the command runs, so that the command line can import `Emit` cheaply."""

from __future__ import annotations

import enum
import sys
import typing
from pathlib import Path

import typer

from rulec.commands.flags import parse_layers

if typing.TYPE_CHECKING:
    from rulec.check import CheckedRule


class Emit(str, enum.Enum):
    python = "python"
    stablehlo = "stablehlo"
    ir = "ir"
    latex = "latex"
    png = "png"


def folded_genome(rule, sizes, preset: str | None, genome_settings) -> dict | None:
    """The genome to fold into the program: the preset's (the default one when only `--genome-set` is given),
    with the `--genome-set` entries on top; None when neither flag is given."""
    from rulec.runtime.genome_set import apply_settings

    if genome_settings and preset is None and rule.program.default_preset is None:
        raise typer.BadParameter("compile folds a preset's genome into the program and this rule has no default "
                                 "preset; give --preset to say which one to change", param_hint="--genome-set")
    if preset is None and not genome_settings:
        return None
    return apply_settings(rule.program, rule.preset(preset, sizes=sizes), genome_settings)


def run_compile(*, file: Path, checked: CheckedRule, emit: Emit, layers: str, batch: int, preset: str | None,
                genome_settings: tuple, prune: bool, output: Path | None, force: bool,
                warn: typing.Callable[[str], None]) -> None:
    if emit in (Emit.latex, Emit.png):
        emit_equations(checked, emit, output)
        return
    from rulec import api, export
    from rulec.files import write_bytes, write_text
    from rulec.runtime import resources

    sizes = parse_layers(layers)
    rule = api.Rule(checked)
    resources.check_plan(resources.step_estimate(rule.program, sizes, batch), f"the step on layers {layers} with "
                         f"batch {batch}", force, warn)
    net = rule.network(sizes, specialize=folded_genome(rule, sizes, preset, genome_settings), prune=prune)
    report_pruning(net)
    if emit is Emit.stablehlo:
        if output is None:
            raise typer.BadParameter("StableHLO is binary; give an output file with -o", param_hint="-o")
        write_bytes(output, export.emit_stablehlo(net, batch))
        typer.echo(f"wrote {output}: the step of `{rule.name}` for layers {list(net.sizes)}, batch {batch}")
        return
    try:
        text = export.emit_python(net, batch) if emit is Emit.python else export.emit_jaxpr(net, batch)
    except export.EmitError as error:
        typer.echo(f"{file}: error: cannot write this rule as Python: {error}; `--emit stablehlo` writes any "
                   "rule", err=True)
        raise typer.Exit(1)
    if output is None:
        sys.stdout.write(text)
    else:
        write_text(output, text)
        typer.echo(f"wrote {output}")


def report_pruning(net) -> None:
    """Says on stderr what dead-state elimination leaves out."""
    from rulec.ir.liveness import report

    if net.pruned is not None:
        typer.echo(report(net.pruned), err=True)


def emit_equations(checked: CheckedRule, emit: Emit, output: Path | None) -> None:
    from rulec.files import write_text
    from rulec.symbolic import latex

    if emit is Emit.png:
        if output is None:
            raise typer.BadParameter("a PNG is binary; give an output file with -o", param_hint="-o")
        latex.render_png(checked, output)
        typer.echo(f"wrote {output}")
    elif output is None:
        sys.stdout.write(latex.document(checked))
    else:
        write_text(output, latex.document(checked))
        typer.echo(f"wrote {output}")
