"""The meta-training plot: fitness (best and mean of the population) and meta-validation accuracy per step, and
the meta-loss for the gradient method."""

from __future__ import annotations

from pathlib import Path

from rulec.files import write_figure


def plot(path: Path, history: list, title: str) -> None:
    from matplotlib.figure import Figure  # not pyplot: no global figure registry, and no backend to switch

    with_loss = any("loss" in r for r in history)
    figure = Figure(figsize=(11 if with_loss else 7, 4.5))
    axes = figure.subplots(1, 2 if with_loss else 1, squeeze=False)
    fitness = axes[0, 0]
    steps = [r["step"] for r in history]
    fitness.plot(steps, [r["best"] for r in history], color="tab:blue", label="meta-training, best member")
    fitness.plot(steps, [r["mean"] for r in history], color="tab:blue", alpha=0.4, label="meta-training, mean")
    validated = [r for r in history if "validation" in r]
    fitness.plot([r["step"] for r in validated], [r["validation"] for r in validated], "o-", color="black",
                 label="meta-validation")
    fitness.set_xlabel("meta-step" if with_loss else "generation")
    fitness.set_ylabel("held-out accuracy after the inner loop")
    fitness.set_ylim(0, 1)
    fitness.grid(True, alpha=0.3)
    fitness.legend(loc="lower right")
    if with_loss:
        loss = axes[0, 1]
        loss.plot(steps, [r["loss"] for r in history], color="tab:red")
        loss.set_xlabel("meta-step")
        loss.set_ylabel("meta-loss (lowest in the population)")
        loss.set_yscale("log")
        loss.grid(True, which="both", alpha=0.3)
    figure.suptitle(title)
    figure.tight_layout()
    write_figure(path, figure, dpi=120)
