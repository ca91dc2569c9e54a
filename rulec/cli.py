"""The `rulec` command line. It is the only place that prints diagnostics, and it never shows a traceback."""

from __future__ import annotations

import sys
import typing
from pathlib import Path
from typing import Annotated, Optional

import typer

from rulec.commands.compile import Emit
from rulec.commands import exits, interrupts
from rulec.commands.exits import report
from rulec.commands.flags import MAX_POPULATION, BaselineInputsOption, BaselineModelOption, BaselineOption, \
    DataDirOption, GenomeSetOption, HiddenOption, InputsOption, JsonOption, MonitorOption, SetOption, TrainDataOption, \
    TransformOption, force_option, on_command_line, parse_genome_sets, parse_hidden, parse_layers, \
    parse_overrides, parse_sizes, positive, refuse_genome_and_preset, refuse_unwritable, seed_option
from rulec.commands.flags import HorizonsOption, SearchScaleOption, StabilityFromOption, StabilityOption, \
    TruncationOption, ValidateOnOption, parse_grid, parse_horizons, persistent_truncation, refuse_bad_cluster, \
    refuse_bad_stability_from, refuse_horizon_conflicts, search_scale_choice
from rulec.diagnostics import RuleError, render_all
from rulec.experiment.choices import input_scaling
from rulec.meta.methods import METHODS, defaults_text

# Everything else (the front end, SymPy, JAX) is imported inside the command that needs it, so that `rulec --help`
# starts in a fraction of a second (benchmarks/frontend_bench.py measures it).
if typing.TYPE_CHECKING:
    from rulec.check import CheckedRule

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="rulec: a compiler for learned neural update rules.")

def echo_warning(text: str) -> None:
    typer.echo(f"warning: {text}", err=True)


def check_rule(path: Path, overrides) -> CheckedRule:
    """The checked rule of a file (a RuleError, located, when it has mistakes)."""
    from rulec.frontend import check_file

    return check_file(path, overrides)


WerrorOption = Annotated[bool, typer.Option("--werror", help="Treat the rule's warnings as errors.")]


def check_and_warn(path: Path, overrides, werror: bool) -> CheckedRule:
    """The checked rule of a file, after printing its warnings (rulec/ir/lint.py), which change nothing; with
    `--werror` they are errors."""
    import dataclasses

    from rulec.diagnostics import Severity
    from rulec.ir.lint import lint, raise_errors
    from rulec.ir.resolve import resolve

    checked = check_rule(path, overrides)
    found = raise_errors(lint(resolve(checked)))
    if werror and found:
        raise RuleError([dataclasses.replace(d, severity=Severity.ERROR) for d in found])
    if found:
        typer.echo(render_all(found), err=True)
        typer.echo(f"{len(found)} warning{'s' if len(found) != 1 else ''}", err=True)
    return checked




@app.command("check")
def check_command(files: Annotated[list[Path], typer.Argument(help="Rule files to check.")],
                  set_: SetOption = None,
                  prove: Annotated[bool, typer.Option("--prove/--no-prove",
                                                      help="Prove the rule's `prove` statements.")] = True,
                  werror: WerrorOption = False,
                  ) -> None:
    """Parse and check rule files, and prove their claims; print one summary line per file."""
    from rulec.summary import summarize
    from rulec.symbolic import prove_all
    from rulec.symbolic import summary as proof_summary

    overrides = parse_overrides(set_)
    failed = 0
    for path in files:
        try:
            checked = check_and_warn(path, overrides, werror)
            proofs = prove_all(checked) if prove and checked.rule.proofs else []
        except RuleError as error:
            if on_command_line(error):  # a bad `--set` is the same for every file: report it once
                raise
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
                 latex: Annotated[bool, typer.Option("--latex", help="Print the equations as LaTeX.")] = False,
                 ) -> None:
    """Pretty-print a checked rule in canonical form, with syntax highlighting, or its equations as LaTeX."""
    checked = check_rule(file, parse_overrides(set_))
    if latex:
        from rulec.symbolic.latex import document

        sys.stdout.write(document(checked))
        return
    # sys.stdout rather than typer.echo, which strips the colour codes when stdout is not a terminal.
    sys.stdout.write(render_rule(checked, sys.stdout.isatty() if color is None else color))


@app.command("analyze")
def analyze_command(file: Annotated[Path, typer.Argument(help="The rule file to analyse.")],
                    set_: SetOption = None,
                    genome: Annotated[Optional[Path], typer.Option(help="A genome file (.npz).")] = None,
                    preset: Annotated[Optional[str], typer.Option(help="A preset of the rule.")] = None,
                    genome_set: GenomeSetOption = None,
                    seed: Annotated[int, seed_option("Seed for a random genome and the synapses.")] = 0,
                    layers: Annotated[Optional[str], typer.Option(help=(
                        "The numeric check's network, input first, such as 6x6x1,conv2k3s2,3 (on a fixed random "
                        "batch); default 2,20,2 on xor."))] = None,
                    force: Annotated[bool, force_option()] = False,
                    werror: WerrorOption = False,
                    ) -> None:
    """Is the rule's update a gradient field? Checks dΔw_k/dw_m = dΔw_m/dw_k (paper eq. 10)."""
    from rulec.commands.analyze import run_analyze

    refuse_genome_and_preset(genome, preset)
    genome_settings = parse_genome_sets(genome_set)
    network = None if layers is None else parse_layers(layers)
    run_analyze(file=file, checked=check_and_warn(file, parse_overrides(set_), werror), genome_path=genome,
                preset=preset, genome_settings=genome_settings, seed=seed, force=force, warn=echo_warning,
                layers=network)


@app.command("train")
def train_command(file: Annotated[Path, typer.Argument(help="The rule file to train with.")],
                  set_: SetOption = None,
                  genome: Annotated[Optional[Path], typer.Option(help="A genome file (.npz).")] = None,
                  preset: Annotated[Optional[str], typer.Option(help="A preset of the rule.")] = None,
                  genome_set: GenomeSetOption = None,
                  data: TrainDataOption = "mnist5k",
                  data_dir: DataDirOption = None,
                  transform: TransformOption = "none",
                  inputs: InputsOption = None,
                  baseline_inputs: BaselineInputsOption = None,
                  layers: HiddenOption = None,
                  steps: Annotated[int, typer.Option(min=1)] = 100,
                  batch: Annotated[int, typer.Option(min=1)] = 128,
                  baseline: BaselineOption = "sgd,momentum,adam",
                  baseline_model: BaselineModelOption = "relu-xent",
                  seed: Annotated[int, seed_option()] = 0,
                  plot: Annotated[Optional[Path], typer.Option(help="Write a PNG of accuracy against steps.")] = None,
                  json_out: JsonOption = None,
                  monitor: MonitorOption = None,
                  force: Annotated[bool, force_option()] = False,
                  werror: WerrorOption = False,
                  ) -> None:
    """Train a network with the rule on real data, next to tuned SGD, momentum and Adam."""
    from rulec.commands.train import run_training

    refuse_genome_and_preset(genome, preset)
    checked = check_and_warn(file, parse_overrides(set_), werror)
    run_training(file=file, checked=checked, genome_path=genome, preset=preset,
                 genome_settings=parse_genome_sets(genome_set), data_name=data, data_dir=data_dir,
                 transform_name=transform, inputs=inputs, baseline_inputs=baseline_inputs, hidden=parse_hidden(layers),
                 steps=steps, batch=batch, baselines=baseline, baseline_model=baseline_model, seed=seed, plot_path=plot,
                 json_path=json_out, monitor=monitor, force=force)


@app.command("compare")
def compare_command(files: Annotated[list[Path], typer.Argument(help="The rule files to compare.")],
                    set_: SetOption = None,
                    preset: Annotated[Optional[str], typer.Option(help=(
                        "Run the rules that declare a preset of this name with it; the others keep the genome "
                        "train would choose."))] = None,
                    data: TrainDataOption = "digits",
                    data_dir: DataDirOption = None,
                    transform: TransformOption = "none",
                    inputs: InputsOption = None,
                    layers: HiddenOption = None,
                    steps: Annotated[int, typer.Option(min=1)] = 500,
                    batch: Annotated[int, typer.Option(min=1)] = 128,
                    seeds: Annotated[int, typer.Option(min=1, max=1000, help="Run with seeds 0 to N-1.")] = 3,
                    baseline: BaselineOption = "sgd,adam",
                    baseline_model: BaselineModelOption = "relu-xent",
                    plot: Annotated[Optional[Path], typer.Option(help="Write a PNG of the curves.")] = None,
                    json_out: JsonOption = None,
                    force: Annotated[bool, force_option()] = False,
                    ) -> None:
    """Train rules and baselines under one protocol: accuracy, alignment with the gradient, time per step."""
    from rulec.commands.compare import run_compare

    run_compare(files=files, dims=parse_overrides(set_), preset=preset, data_name=data, data_dir=data_dir,
                transform_name=transform, inputs=inputs, hidden=parse_hidden(layers), steps=steps, batch=batch,
                seeds=tuple(range(seeds)), baselines=baseline, baseline_model=baseline_model, plot_path=plot,
                json_path=json_out, force=force)


@app.command("meta-train")
def meta_train_command(
        file: Annotated[Path, typer.Argument(help="The rule file whose genome to learn.")],
        set_: SetOption = None,
        method: Annotated[str, typer.Option(help=f"The meta-learning method: {', '.join(METHODS)} (see "
                                                 "docs/meta-training.md).")] = "cmaes",
        data: Annotated[str, typer.Option(help="Meta-training tasks, comma-separated: datasets, class ranges "
                                               "(mnist5k:0-4) or synthetic tasks (xor,and,moons).")] = "digits",
        validate: Annotated[Optional[str], typer.Option(help="Meta-validation tasks (default: the training tasks), "
                                                             "measured where --validate-on says.")] = None,
        validate_on: ValidateOnOption = "test",
        data_dir: Annotated[Optional[Path], typer.Option(help="A directory of IDX files.")] = None,
        transform: Annotated[str, typer.Option(help="none, crop20-resize10 or resize14.")] = "none",
        inputs: InputsOption = None,
        layers: Annotated[str, typer.Option(help="Hidden layer sizes, such as 20 or 256,128; a grid of widths "
                                                 "as 128/256/512 or of depths as 256/256,256, trained on in "
                                                 "turn.")] = "20",
        steps: Annotated[int, typer.Option(min=1, help="Meta-steps or generations.")] = 100,
        population: Annotated[Optional[int], typer.Option(min=1, max=MAX_POPULATION, help="Genomes per generation, "
                                                          "or independent gradient runs (default "
                                                          f"{defaults_text('population')}).")] = None,
        batch: Annotated[str, typer.Option(help="Batch size, or a grid of them as 32/128.")] = "128",
        unroll: Annotated[Optional[int], typer.Option(min=1, help="Inner steps before scoring (default "
                                                                  f"{defaults_text('unroll')}).")] = None,
        eval_batches: Annotated[int, typer.Option(min=1, help="Held-out batches scored after the unroll.")] = 20,
        score_at: Annotated[Optional[str], typer.Option(help="Also score after these earlier inner steps (such as "
                                                             "5,10), averaging the scores.")] = None,
        horizons: HorizonsOption = None,
        stability: StabilityOption = 0.0,
        stability_from: StabilityFromOption = 0,
        truncation: TruncationOption = None,
        inits: Annotated[int, typer.Option(min=1, help="Synapse initialisations per genome and task.")] = 1,
        unroll_step: Annotated[int, typer.Option(min=0, help="Curriculum: unroll growth (grad).")] = 0,
        unroll_every: Annotated[int, typer.Option(min=1, help="Curriculum: meta-steps between growths.")] = 10_000,
        max_unroll: Annotated[int, typer.Option(min=1, help="Curriculum: the longest unroll.")] = 50,
        loss: Annotated[str, typer.Option(help="Meta-loss for grad: xent or l2.")] = "xent",
        lr: Annotated[float, typer.Option(callback=positive, help="Meta learning rate (Adam), a finite number > 0."
                                          )] = 5e-4,
        clip: Annotated[float, typer.Option(callback=positive, help="Global-norm clip of the meta-gradient, a finite "
                                                                    "number > 0.")] = 10.0,
        sigma: Annotated[float, typer.Option(callback=positive, help="Initial step size of the evolution strategy, in "
                                             "units of each genome entry's initial spread; a finite number > 0."
                                             )] = 0.3,
        search_scale: SearchScaleOption = "declared",
        remat: Annotated[bool, typer.Option("--remat/--no-remat", help="Rematerialise the unroll (grad).")] = True,
        genome: Annotated[Optional[Path], typer.Option(help="Start from this genome file.")] = None,
        preset: Annotated[Optional[str], typer.Option(help="Start from this preset (default: random).")] = None,
        genome_set: GenomeSetOption = None,
        seed: Annotated[int, seed_option()] = 0,
        output: Annotated[Optional[Path], typer.Option("--output", "-o", help="The genome file to write "
                                                                              "(default RULE.METHOD.npz).")] = None,
        checkpoint_dir: Annotated[Optional[Path], typer.Option(help="Default: next to the output.")] = None,
        checkpoint_every: Annotated[int, typer.Option(min=1)] = 10,
        eval_every: Annotated[int, typer.Option(min=1, help="Meta-validate every this many steps.")] = 10,
        resume: Annotated[bool, typer.Option("--resume", help="Continue from the checkpoint.")] = False,
        log: Annotated[Optional[Path], typer.Option(help="The JSON log (default: next to the output).")] = None,
        plot: Annotated[Optional[Path], typer.Option(help="Write a PNG of the meta-training curves.")] = None,
        force: Annotated[bool, force_option()] = False,
        werror: WerrorOption = False,
        coordinator: Annotated[Optional[str], typer.Option(
            help="Several processes (hosts, or GPUs of one host): HOST:PORT of process 0, which hosts the "
                 "coordinator. Every process runs the same command with its own --process-id; under SLURM or "
                 "mpirun leave the three flags out.", rich_help_panel="Several processes")] = None,
        num_processes: Annotated[Optional[int], typer.Option(min=1, help="How many processes the run has.",
                                                             rich_help_panel="Several processes")] = None,
        process_id: Annotated[Optional[int], typer.Option(min=0, help="This process, 0 to --num-processes - 1; "
                                                                      "process 0 writes the files.",
                                                          rich_help_panel="Several processes")] = None,
        distributed_timeout: Annotated[int, typer.Option(min=1, help="Seconds to wait for every process to join, "
                                                                     "and for a silent process before giving up.",
                                                         rich_help_panel="Several processes")] = 120,
        ) -> None:
    """Learn a genome by meta-gradients or CMA-ES; checkpointed, resumable, and writes a genome file."""
    from rulec.commands.console import flags_of
    from rulec.commands.meta_train import FLAGS as META_FLAGS, run_meta_training
    from rulec.experiment.meta_training import settings as meta_settings
    from rulec.data import datasets
    from rulec.meta.distributed import Cluster
    from rulec.meta.objectives import LOSSES
    from rulec.runtime.genome_file import learned_inputs
    from rulec.runtime.genome_set import describe

    if method not in METHODS:
        raise typer.BadParameter(f"choose from {', '.join(METHODS)}", param_hint="--method")
    if loss not in LOSSES:
        raise typer.BadParameter(f"choose from {', '.join(LOSSES)}", param_hint="--loss")
    refuse_genome_and_preset(genome, preset)
    genome_settings = parse_genome_sets(genome_set)
    checked = check_and_warn(file, parse_overrides(set_), werror)
    refuse_bad_cluster(coordinator, num_processes, process_id)
    # Scoring for the long run: --horizons sets the unroll to its longest horizon.
    scored_horizons = parse_horizons(horizons, eval_batches)
    refuse_horizon_conflicts(scored_horizons, unroll, score_at)
    unroll = max((h.step for h in scored_horizons), default=unroll or METHODS[method].unroll)
    hidden, batches = parse_grid(layers, batch)
    population = population or METHODS[method].population
    truncation = persistent_truncation(method, truncation, unroll)
    with flags_of(META_FLAGS):
        settings = meta_settings(
            method, data=data, validate=validate, validate_on=validate_on, transform=transform,
            inputs=input_scaling(inputs, genome and learned_inputs(genome), f"genome {genome}", echo_warning),
            hidden=hidden, batch=batches, steps=steps, population=population, unroll=unroll,
            eval_batches=eval_batches, score_at=parse_sizes(score_at, 1, "5,10", "--score-at") if score_at else (),
            horizons=scored_horizons, stability=stability, stability_from=stability_from, truncation=truncation,
            inits=inits, unroll_step=unroll_step, unroll_every=unroll_every, max_unroll=max_unroll, loss=loss,
            learning_rate=lr, clip=clip, sigma=sigma, search_scale=search_scale_choice(search_scale),
            remat=remat, start=(f"genome {genome}" if genome else f"preset {preset}" if preset else "random")
            + describe(genome_settings), seed=seed, checkpoint_every=checkpoint_every, eval_every=eval_every,
            data_dir=datasets.resolved_directory(data_dir) if data_dir else None)
    refuse_bad_stability_from(settings.protocol)
    stem = file.stem if file.suffix == ".rule" else file.name
    run_meta_training(file=file, checked=checked, settings=settings, genome_path=genome, preset=preset,
                      genome_settings=genome_settings, data_dir=data_dir, output=output or Path(f"{stem}.{method}.npz"),
                      checkpoint_dir=checkpoint_dir, resume=resume, log_path=log, plot_path=plot, force=force,
                      cluster=Cluster(coordinator, num_processes, process_id, distributed_timeout))


@app.command("compile")
def compile_command(file: Annotated[Path, typer.Argument(help="The rule file to compile.")],
                    set_: SetOption = None,
                    emit: Annotated[Emit, typer.Option(help="python: a stand-alone JAX module; stablehlo: the "
                                                             "step serialised by jax.export; ir: the lowered step "
                                                             "as a jaxpr; latex: the equations; png: the "
                                                             "equations rendered.")] = Emit.python,
                    layers: Annotated[str, typer.Option(help="Layer sizes, input first.")] = "784,256,10",
                    batch: Annotated[int, typer.Option(min=1, help="Batch size the step is compiled for.")] = 128,
                    preset: Annotated[Optional[str], typer.Option(help="Fold this preset's genome into the "
                                                                       "program.")] = None,
                    genome_set: GenomeSetOption = None,
                    prune: Annotated[bool, typer.Option(help="Dead-state elimination: predict, and each step of an "
                                                             "unroll, skip the writes nothing reads afterwards; "
                                                             "what is skipped goes to stderr.")] = True,
                    output: Annotated[Optional[Path], typer.Option("-o", "--output",
                                                                   help="Write here instead of stdout.")] = None,
                    force: Annotated[bool, force_option()] = False,
                    werror: WerrorOption = False,
                    ) -> None:
    """Compile a rule for one network shape and write the artifact."""
    from rulec.commands.compile import run_compile
    from rulec.runtime.outputs import plan

    refuse_unwritable(plan({"-o": output}))
    genome_settings = parse_genome_sets(genome_set)
    checked = check_and_warn(file, parse_overrides(set_), werror)
    run_compile(file=file, checked=checked, emit=emit, layers=layers, batch=batch,
                preset=preset, genome_settings=genome_settings, prune=prune, output=output, force=force,
                warn=echo_warning)


def render_rule(checked: CheckedRule, color: bool) -> str:
    from rulec.summary import summarize
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
    """Entry point: runs the app, turning user errors into messages and the exit codes of `ExitCode`."""
    with interrupts.handled():
        exits.run(app)
