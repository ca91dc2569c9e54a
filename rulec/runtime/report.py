"""The results of `rulec train`: the best baseline per step, the command line, and a PNG of the curves (the
command prints the table and writes the JSON record: rulec/commands/train.py)."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

import numpy as np

from rulec.files import write_figure
from rulec.runtime.train import Curve


def best_per_step(sweeps: dict[str, np.ndarray], rates) -> list[tuple[float, float, str]]:
    """For each evaluation point, the best accuracy over the sweeps (one [rates, points] array per input scaling),
    with the learning rate and the input scaling that reached it."""
    scalings = list(sweeps)
    stacked = np.stack([sweeps[scaling] for scaling in scalings])  # [scalings, rates, points]
    flat = stacked.reshape(-1, stacked.shape[-1])
    best = np.argmax(flat, axis=0)
    return [(float(flat[b, i]), float(rates[b % len(rates)]), scalings[b // len(rates)]) for i, b in enumerate(best)]


def command_line() -> str:
    """The command as a user would retype it: `rulec` and its arguments, quoted for a shell."""
    return shlex.join(["rulec", *sys.argv[1:]])


MEASURE_LABELS = {"alignment": "cos(ΔW, -∇W L)", "norm_ratio": "‖ΔW‖ / ‖∇W L‖", "feedback_alignment": "cos(Bᵀ, W)",
                  "norm": "‖W‖"}


def plot(path: Path, title: str, rule_name: str, curve: Curve, marks: list[int], baselines: dict,
         monitor: dict | None = None) -> None:
    """The accuracy curves, and under them one panel per monitored measure (a line per synapse and instance)."""
    from matplotlib.figure import Figure  # not pyplot: no global figure registry, and no backend to switch

    monitor = monitor or {}
    measures = [m for m, by_synapse in monitor.items() if by_synapse]
    figure = Figure(figsize=(7, 4.5 + 2.5 * len(measures)))
    axes, *panels = figure.subplots(1 + len(measures), 1, squeeze=False, sharex=True,
                                    height_ratios=[4.5] + [2.5] * len(measures))[:, 0]
    for panel, measure in zip(panels, measures):
        for synapse, points in monitor[measure].items():
            for instance in range(len(points[0]) if points else 0):
                values = [p[instance] for p in points]
                if any(v is not None for v in values):
                    panel.plot(curve.steps, [float("nan") if v is None else v for v in values], ".-",
                               label=f"{synapse}[{instance}]")
        panel.set_ylabel(MEASURE_LABELS[measure])
        panel.grid(True, which="both", alpha=0.3)
        if panel.lines:
            panel.legend(loc="best", fontsize="small", framealpha=0.85)
    axes.plot(curve.steps, curve.accuracy, "o-", color="black", linewidth=2, label=rule_name)
    for kind, baseline in baselines.items():
        chosen = "best lr and inputs" if len(baseline["accuracy"]) > 1 else "best lr"
        axes.plot(marks, [best[0] for best in baseline["best"]], "s--", label=f"{kind} ({chosen} per step)")
    axes.set_xscale("log")
    (panels[-1] if panels else axes).set_xlabel("training steps")
    axes.set_ylabel("test accuracy")
    axes.set_ylim(0, 1)
    axes.set_title(title)
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(loc="best", framealpha=0.85)
    figure.tight_layout()
    write_figure(path, figure, dpi=120)


def plot_curves(path: Path, title: str, steps: list[int], curves: list[tuple[str, list, list, bool]]) -> None:
    """Curves of mean accuracy against steps, each shaded one standard deviation either side (the spread over
    seeds): `curves` holds (label, mean, std, dashed), with None where no seed reached the point."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(8, 5))
    axes = figure.subplots()
    for label, mean, std, dashed in curves:
        reached = [(s, m, d) for s, m, d in zip(steps, mean, std) if m is not None]
        if not reached:
            continue
        x, m, d = (np.array(column, dtype=float) for column in zip(*reached))
        line, = axes.plot(x, m, "s--" if dashed else "o-", label=label)
        axes.fill_between(x, m - d, m + d, color=line.get_color(), alpha=0.2)
    axes.set_xscale("log")
    axes.set_xlabel("training steps")
    axes.set_ylabel("test accuracy (mean ± std over seeds)")
    axes.set_ylim(0, 1)
    axes.set_title(title)
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(loc="best", framealpha=0.85, fontsize="small")
    figure.tight_layout()
    write_figure(path, figure, dpi=120)
