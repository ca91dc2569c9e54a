"""`rulec compare`: several rules and baselines under one protocol, as one leaderboard, a JSON record and a plot."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from rulec.commands.console import bars, flags_of, shown_steps, warner
from rulec.commands.flags import refuse_unwritable
from rulec.experiment import comparison
from rulec.files import save_or_rescue, write_json
from rulec.runtime import report
from rulec.runtime.lock import holding
from rulec.runtime.outputs import plan as plan_outputs

FLAGS = {"hidden": "--layers", "baselines": "--baseline", "baseline_model": "--baseline-model", "seeds": "--seeds",
         "dims": "--set", "inputs": "--inputs", "preset": "--preset"}


def leaderboard(board: comparison.Comparison) -> Table:
    """Test accuracy at the evaluation steps worth a column (mean ± std over seeds), the final alignment with the
    gradient, and the time per step; a rule that failed or diverged says so in its row."""
    shown = shown_steps(board.evaluation_steps)
    seeds = len(board.settings["seeds"])
    result = Table(title=f"test accuracy on {board.settings['data']}, mean ± std over {seeds} seed"
                         f"{'s' if seeds != 1 else ''} (baselines: best learning rate at each step)")
    for name in ("rule", *map(str, shown), "final cos(ΔW, -∇L)", "ms / step", "note"):
        result.add_column(name, justify="left" if name in ("rule", "note") else "right")
    for row in board.rows:
        if row.error is not None:
            result.add_row(row.name, *[""] * (len(shown) + 2), "[red]failed[/] (below)")
            continue
        mean, std = row.mean, row.std
        cells = ["-" if mean[i] is None else f"{mean[i]:.3f} ± {std[i]:.3f}"
                 for i in (board.evaluation_steps.index(step) for step in shown)]
        alignment = ", ".join(f"{synapse} {value:.3f}" for synapse, value in row.alignment.items()
                              if value is not None)
        timing = "" if row.seconds_per_step is None else f"{1000 * row.seconds_per_step:.2f}"
        note = (f"[red]diverged[/] (seed {', '.join(map(str, row.diverged))})" if row.diverged
                else "" if row.kind == "rule" else f"{row.inputs} inputs")
        result.add_row(row.name, *cells, alignment, timing, note)
    return result


def run_compare(*, files: list[Path], dims, preset, data_name, data_dir, transform_name, inputs, hidden, steps, batch,
                seeds, baselines, baseline_model, plot_path, json_path, force=False) -> None:
    console = Console(stderr=True)
    warn = warner(console)
    kinds = [] if baselines.strip() == "none" else [k.strip() for k in baselines.split(",") if k.strip()]
    planned = plan_outputs({"--json": json_path, "--plot": plot_path})
    refuse_unwritable(planned)
    with flags_of(FLAGS):
        comparison.refuse_unfit_layers(hidden, data_name, data_dir, transform_name)
    with holding(output.path for output in planned):
        console.print(f"comparing {len(files)} rule{'s' if len(files) != 1 else ''} on {data_name}, hidden layers "
                      f"{','.join(map(str, hidden))}, batch {batch}, {steps} steps, seeds "
                      f"{', '.join(map(str, seeds))}" + "".join(f", {name}={value}" for name, value in dims.items())
                      + (f", {inputs} inputs" if inputs else "") + (f", preset {preset}" if preset else ""))
        with flags_of(FLAGS), bars(console, width=32) as progress:
            board = comparison.compare(files, data=data_name, data_dir=data_dir, transform=transform_name,
                                       inputs=inputs, dims=dims, preset=preset, hidden=hidden, steps=steps,
                                       batch=batch, seeds=seeds, baselines=kinds,
                                       baseline_model=baseline_model, force=force, progress=progress, warn=warn)
        Console().print(leaderboard(board))
        for row in board.rows:
            if row.error is not None:
                console.print(f"[red]{row.name} failed:[/] {escape(row.error)}")
        record = {**board.record(), "command": report.command_line()}
        written = []
        if json_path is not None:
            written.append(save_or_rescue(Path(json_path), lambda path: write_json(path, record), warn))
        if plot_path is not None:
            curves = [(row.name, row.mean, row.std, row.kind == "baseline") for row in board.rows if row.error is None]
            title = f"{data_name}, hidden {','.join(map(str, hidden))}, batch {batch}, {len(seeds)} seeds"
            written.append(save_or_rescue(Path(plot_path), lambda path: report.plot_curves(
                path, title, board.evaluation_steps, curves), warn))
        for path in written:
            console.print(f"wrote {path}")
        failed = any(row.error is not None or row.diverged for row in board.rows)
        if failed or written != [Path(p) for p in (json_path, plot_path) if p is not None]:
            raise typer.Exit(1)
