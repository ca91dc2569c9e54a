"""`rulec meta-train`: learn a genome by meta-gradients or an evolution strategy, with progress, checkpoints,
resumption, a JSON log, a plot and a genome file at the end."""

from __future__ import annotations

import math
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from rulec import __version__, api
from rulec.commands import interrupts
from rulec.commands.console import flags_of, warner
from rulec.commands.flags import refuse_unwritable
from rulec.experiment import meta_training
from rulec.files import save_or_rescue, write_json
from rulec.geometry import describe as describe_layers
from rulec.meta import distributed, report
from rulec.meta.methods import Settings
from rulec.runtime.genome_file import save_genome
from rulec.runtime.lock import holding
from rulec.runtime.outputs import plan as plan_outputs
from rulec.runtime.report import command_line

# The flag of each setting of rulec.meta_train.
FLAGS = {"validate": "--validate", "resume": "--resume", "method": "--method", "loss": "--loss",
         "truncation": "--truncation", "population": "--population", "horizons": "--horizons",
         "score_at": "--score-at", "stability": "--stability", "inits": "--inits", "hidden": "--layers",
         "search_scale": "--search-scale", "steps": "--steps"}


def run_meta_training(*, file, checked, settings: Settings, genome_path, preset, genome_settings, data_dir,
                      output: Path,
                      checkpoint_dir: Path | None, resume: bool, log_path: Path | None, plot_path: Path | None,
                      force: bool = False, cluster: distributed.Cluster = distributed.Cluster()) -> None:
    with distributed.joined(cluster):
        # Every process computes the same search; process 0 alone reports, holds the output locks and writes files.
        leader = distributed.is_leader()
        console = Console(stderr=True, quiet=not leader)
        warn = warner(console)
        checkpoint_dir = checkpoint_dir or output.with_suffix(".checkpoint")
        log_path = log_path or output.with_suffix(".log.json")
        planned = plan_outputs({"-o": output, "--log": log_path, "--plot": plot_path},
                               {"--checkpoint-dir": checkpoint_dir}, genome="-o")
        if leader:
            refuse_unwritable(planned)
        rule = api.Rule(checked)
        with flags_of(FLAGS):
            run = meta_training.prepare(rule, settings, genome=genome_path, preset=preset,
                                        genome_settings=genome_settings, data_dir=data_dir, resume=resume, force=force,
                                        warn=warn)
        settings = run.settings
        with holding([o.path for o in planned] if leader else []):
            if resume:
                with flags_of(FLAGS):
                    start = run.resume(checkpoint_dir)
                console.print(f"resuming from step {start} ({checkpoint_dir})")
            console.print(run.describe())
            columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                       TextColumn("{task.fields[status]}"))
            try:
                with Progress(*columns, console=console) as progress, interrupts.deferred():
                    bar = progress.add_task(settings.method, total=settings.steps, completed=run.start, status="")

                    def stepped(record: dict) -> None:
                        progress.update(bar, completed=record["step"], status=_status(record))
                        interrupts.check()  # a Ctrl-C of the step just taken stops here, where the run checkpoints

                    result = run.run(progress=stepped, checkpoint_dir=checkpoint_dir if leader else None,
                                     on_checkpoint=lambda history: write_json(
                                         log_path, _log(rule, settings, history, file)),
                                     warn=warn)
            except meta_training.Interrupted as interrupted:
                console.print(f"[yellow]interrupted:[/] checkpoint written at step {interrupted.step}; continue with "
                              "--resume")
                raise typer.Exit(130)

            if not leader:
                return
            history = result.history
            final = history[-1] if history else {}
            written = save_or_rescue(output, lambda path: save_genome(
                path, rule, result.genome, command=command_line(), seed=settings.seed, method=settings.method,
                layers=list(result.sizes), networks=[describe_layers(net, ",") for net in result.networks],
                data=settings.data, transform=settings.transform, inputs=settings.inputs,
                steps=settings.steps,
                validation_accuracy=final.get("validation"), settings=settings.config()), warn)
            log = _log(rule, settings, history, file)
            log_written = save_or_rescue(log_path, lambda path: write_json(path, log), warn)
            console.print(_summary(history, result.seconds))
            console.print(f"wrote {written} (genome), {log_written} (log), {checkpoint_dir}/ (checkpoint)")
            rescued = (written, log_written) != (output, log_path) or bool(run.unsaved)
            if plot_path is not None:
                plotted = save_or_rescue(plot_path, lambda path: report.plot(
                    path, history, f"{rule.name}: {settings.method} on {settings.data}"), warn)
                console.print(f"wrote {plotted}")
                rescued = rescued or plotted != plot_path
            if rescued:
                raise typer.Exit(1)


def _status(record: dict) -> str:
    text = f"best {record['best']:.3f} mean {record['mean']:.3f}"
    if "loss" in record:
        text += f" loss {record['loss']:.4f} unroll {record['unroll']}"
    if "validation" in record:
        text += f" validation {record['validation']:.3f}"
    trouble = record.get("diverged", 0) or record.get("skipped", 0)
    return text + (f" [red]{'diverged' if 'diverged' in record else 'skipped'} {trouble}[/]" if trouble else "")


def _summary(history: list, seconds: float) -> str:
    diverged = sum(r.get("diverged", 0) for r in history)
    skipped = sum(r.get("skipped", 0) for r in history)
    validated = [r["validation"] for r in history if "validation" in r and math.isfinite(r["validation"])]
    lines = [f"{len(history)} steps in {seconds:.1f} s; best fitness {max(r['best'] for r in history):.3f}"
             if history else "no steps run"]
    if validated:
        lines.append(f"meta-validation accuracy: first {validated[0]:.3f}, last {validated[-1]:.3f}")
    if diverged:
        lines.append(f"{diverged} population members diverged (NaN or Inf) and got the worst fitness")
    if skipped:
        lines.append(f"{skipped} meta-gradient steps were non-finite and skipped")
    return "\n".join(lines)


def _log(rule, settings: Settings, history: list, file) -> dict:
    return {"rule": rule.name, "file": str(file), "source_hash": rule.source_hash, "dims": rule.dims,
            "rulec_version": __version__, "command": command_line(), "settings": settings.config(),
            "history": history}
