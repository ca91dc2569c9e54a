"""`rulec train`: load the rule and the data, train with progress bars, compare with the baselines, report."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from rulec import api
from rulec.commands.console import bars, flags_of, monitor_table, shown_steps, warner
from rulec.commands.flags import parse_monitor, refuse_unwritable
from rulec.experiment import training
from rulec.files import save_or_rescue, write_json
from rulec.geometry import describe as describe_layers
from rulec.runtime import report
from rulec.runtime.lock import holding
from rulec.runtime.outputs import plan as plan_outputs
from rulec.runtime.train import Curve

# The flag of each setting of rulec.train.
FLAGS = {"hidden": "--layers", "baselines": "--baseline", "baseline_model": "--baseline-model", "batch": "--batch",
         "monitor": "--monitor"}

def table(rule_name: str, curve: Curve, marks: list[int], baselines: dict, rule_scaling: str) -> Table:
    """Test accuracy at the evaluation steps worth a row, the rule beside each baseline's best rate; a baseline
    figure reached on inputs scaled otherwise than the rule's is marked, and the caption says on which."""
    shown = shown_steps(marks)
    others = sorted({scaling for b in baselines.values() for *_, scaling in b["best"]} - {rule_scaling})
    marker = {rule_scaling: "", **{scaling: "*" * (n + 1) for n, scaling in enumerate(others)}}
    result = Table(title="test accuracy after each number of steps (baselines: best learning rate at that step)",
                   caption="; ".join(f"{marker[scaling]}: the baseline on {scaling} inputs, the rule on "
                                     f"{rule_scaling}" for scaling in others) or None)
    result.add_column("step", justify="right")
    result.add_column(rule_name, justify="right")
    for kind in baselines:
        result.add_column(kind, justify="right")
    for step in shown:
        i = marks.index(step)
        rule_cell = f"{curve.accuracy[i]:.3f}" if i < len(curve.accuracy) else "diverged"
        cells = [f"{acc:.3f} (lr {rate:.0e}){marker[scaling]}"
                 for acc, rate, scaling in (b["best"][i] for b in baselines.values())]
        result.add_row(str(step), rule_cell, *cells)
    return result


def run_training(*, file, checked, genome_path, preset, genome_settings=(), data_name, data_dir, transform_name,
                 inputs=None, baseline_inputs=None, hidden, steps, batch, baselines, baseline_model, seed, plot_path,
                 json_path, monitor: str | None = None, force=False) -> None:
    console = Console(stderr=True)
    warn = warner(console)
    kinds = [] if baselines.strip() == "none" else [k.strip() for k in baselines.split(",") if k.strip()]
    watched = parse_monitor(monitor)
    with flags_of(FLAGS):
        training.check_choices(kinds, baseline_model, transform_name)
    planned = plan_outputs({"--json": json_path, "--plot": plot_path})
    refuse_unwritable(planned)
    with flags_of(FLAGS):
        prepared = training.prepare(
            api.Rule(checked), file=file, data=data_name, data_dir=data_dir, transform=transform_name, inputs=inputs,
            baseline_inputs=baseline_inputs, hidden=hidden, steps=steps, batch=batch, baselines=kinds,
            baseline_model=baseline_model, seed=seed, genome=genome_path, preset=preset,
            genome_settings=genome_settings, force=force, warn=warn,
            note=lambda text: console.print(f"[yellow]note:[/] {text}"))
    with holding(output.path for output in planned):
        console.print(prepared.describe())
        with bars(console) as progress:
            result = training.run(prepared, monitor=watched, progress=progress)
        curve, marks = result.curve, result.evaluation_steps
        if curve.diverged_at is not None:
            console.print(f"[red]the rule diverged:[/] a synapse became NaN or infinite by step {curve.diverged_at}; "
                          f"the accuracies measured before it are kept below")

        Console().print(table(prepared.rule.name, curve, marks, result.baselines, prepared.scaling))
        if result.monitor and curve.steps:
            Console().print(monitor_table(result.monitor, result.no_gradient, result.no_backward_pass,
                                          curve.steps, marks))
        record = {**result.record(), "command": report.command_line()}
        written = []
        if json_path is not None:
            written.append(save_or_rescue(Path(json_path), lambda path: write_json(path, record), warn))
        if plot_path is not None:
            title = f"{prepared.rule.name} on {prepared.data.name}, {describe_layers(prepared.sizes)}, batch {batch}"
            written.append(save_or_rescue(Path(plot_path), lambda path: report.plot(
                path, title, prepared.rule.name, curve, marks, result.baselines, result.monitor), warn))
        for path in written:
            console.print(f"wrote {path}")
        if curve.diverged_at is not None or written != [Path(p) for p in (json_path, plot_path) if p is not None]:
            raise typer.Exit(1)
