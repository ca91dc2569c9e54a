"""The results of `rulec train`: the best baseline per step, the command line, and a PNG of the curves (the
command prints the table and writes the JSON record: rulec/commands/train.py)."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

import numpy as np

from rulec.files import write_figure
from rulec.runtime.train import Curve


def best_per_step(accuracy: np.ndarray, rates) -> list[tuple[float, float]]:
    """For each evaluation point, the best accuracy over the sweep and the learning rate that reached it."""
    best = np.argmax(accuracy, axis=0)
    return [(float(accuracy[b, i]), float(rates[b])) for i, b in enumerate(best)]


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
