"""The results of `rulec train` as shown: a table of accuracy per step, and a PNG of the curves (the JSON record
is written by train_command.py)."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

import numpy as np
from rich.table import Table

from rulec.runtime.files import write_figure
from rulec.runtime.train import Curve

TABLE_STEPS = (1, 5, 10, 20, 50, 100, 200, 500, 1000)


def best_per_step(accuracy: np.ndarray, rates) -> list[tuple[float, float]]:
    """For each evaluation point, the best accuracy over the sweep and the learning rate that reached it."""
    best = np.argmax(accuracy, axis=0)
    return [(float(accuracy[b, i]), float(rates[b])) for i, b in enumerate(best)]


def table(rule_name: str, curve: Curve, marks: list[int], baselines: dict) -> Table:
    shown = [s for s in marks if s in TABLE_STEPS or s == marks[-1]]
    result = Table(title="test accuracy after each number of steps (baselines: best learning rate at that step)")
    result.add_column("step", justify="right")
    result.add_column(rule_name, justify="right")
    for kind in baselines:
        result.add_column(kind, justify="right")
    for step in shown:
        i = marks.index(step)
        rule_cell = f"{curve.accuracy[i]:.3f}" if i < len(curve.accuracy) else "diverged"
        cells = [f"{acc:.3f} (lr {rate:.0e})" for acc, rate in (b["best"][i] for b in baselines.values())]
        result.add_row(str(step), rule_cell, *cells)
    return result


def warner(console):
    """A `warn(text)` that prints a yellow warning on the console."""
    return lambda text: console.print(f"[yellow]warning:[/] {text}")


def command_line() -> str:
    """The command as a user would retype it: `rulec` and its arguments, quoted for a shell."""
    return shlex.join(["rulec", *sys.argv[1:]])


def plot(path: Path, title: str, rule_name: str, curve: Curve, marks: list[int], baselines: dict) -> None:
    from matplotlib.figure import Figure  # not pyplot: no global figure registry, and no backend to switch

    figure = Figure(figsize=(7, 4.5))
    axes = figure.subplots()
    axes.plot(curve.steps, curve.accuracy, "o-", color="black", linewidth=2, label=rule_name)
    for kind, baseline in baselines.items():
        axes.plot(marks, [acc for acc, _ in baseline["best"]], "s--", label=f"{kind} (best lr per step)")
    axes.set_xscale("log")
    axes.set_xlabel("training steps")
    axes.set_ylabel("test accuracy")
    axes.set_ylim(0, 1)
    axes.set_title(title)
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(loc="best", framealpha=0.85)
    figure.tight_layout()
    write_figure(path, figure, dpi=120)
