"""What the commands print besides their results: warnings, progress bars, the monitors' table, and the library's
setting errors as usage errors of the flags they came from."""

from __future__ import annotations

import contextlib

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from rulec.experiment.choices import SettingError

# The table's columns: the evaluation steps worth one (and always the last).
TABLE_STEPS = (1, 5, 10, 20, 50, 100, 200, 500, 1000)
MEASURE_TITLES = {"alignment": "cos(ΔW, -∇L)", "norm_ratio": "‖ΔW‖/‖∇L‖", "feedback_alignment": "cos(Bᵀ, W)",
                  "norm": "‖W‖"}


def warner(console):
    """A `warn(text)` that prints a yellow warning on the console."""
    return lambda text: console.print(f"[yellow]warning:[/] {text}")


@contextlib.contextmanager
def flags_of(flags: dict[str, str]):
    """Turns the library's SettingError into the usage error of the flag that gave the setting."""
    try:
        yield
    except SettingError as error:
        raise typer.BadParameter(error.message, param_hint=flags.get(error.setting, error.setting)) from None


@contextlib.contextmanager
def bars(console, width: int = 22):
    """Rich progress bars as a library progress callback `progress(task, done, total)`: one bar per task, added
    when the task first reports."""
    columns = (TextColumn(f"{{task.description:<{width}}}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=False) as progress:
        tasks = {}

        def report(task: str, done: int, total: int) -> None:
            if task not in tasks:
                tasks[task] = progress.add_task(task, total=total)
            progress.update(tasks[task], completed=done)

        yield report


def shown_steps(marks: list[int]) -> list[int]:
    return [s for s in marks if s in TABLE_STEPS or s == marks[-1]]


def monitor_table(monitor: dict, no_gradient: dict[str, str], no_backward_pass: dict[str, list[int]],
                  reached: list[int], marks: list[int]) -> Table:
    """The monitors at the evaluation steps worth a column: one row per measure, synapse and instance; a synapse
    without a gradient, or a feedback instance that carries no backward pass, gets no row and the caption says
    why."""
    shown = [s for s in shown_steps(marks) if s in reached]
    caption = "; ".join([f"{synapse}: no gradient ({why})" for synapse, why in no_gradient.items()]
                        + [f"{synapse}[{i}]: carries no backward pass (no step reads it but its own update)"
                           for synapse, idle in no_backward_pass.items() for i in idle])
    result = Table(title="monitors at each step, on that step's batch (instance: the layer pair or layer)",
                   caption=caption or None)
    result.add_column("measure")
    result.add_column("synapse")
    for step in shown:
        result.add_column(str(step), justify="right")
    for measure, by_synapse in monitor.items():
        for synapse, points in by_synapse.items():
            if measure in ("alignment", "norm_ratio") and synapse in no_gradient:
                continue
            for instance in range(len(points[0]) if points else 0):
                if measure == "feedback_alignment" and instance in no_backward_pass.get(synapse, ()):
                    continue
                cells = [points[reached.index(step)][instance] for step in shown]
                result.add_row(MEASURE_TITLES[measure], f"{synapse}[{instance}]",
                               *["-" if value is None else f"{value:.3g}" for value in cells])
    return result
