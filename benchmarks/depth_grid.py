"""A genome at depth: the targets of a depth-general genome, on Fashion-MNIST's test split, which meta-training
never sees (docs/history.md, "A genome for every depth").

    nice python benchmarks/depth_grid.py targets [RULE] [--genome G] [--seeds 0 1 2] [--no-sgd]
    nice python benchmarks/depth_grid.py grid [RULE] [--genome G] [--seeds 0]

targets: 1 to 4 hidden layers of 256, batch 128, 1,000 steps, per seed, the rule beside SGD at its best learning
    rate and input scaling at each step (`rulec train --baseline sgd`, as a user runs it); mean over the seeds at
    steps 10, 20, 100 and 1,000. SGD does not depend on the rule: --no-sgd leaves it out (its column prints "-")
    when another rule's run has measured it on the same settings and seeds.
grid: 1 to 4 hidden layers of 128, 256 and 512 units, batch 32 and 128, 1,000 steps, the rule alone: whether it
    keeps learning (step 1,000 at least step 20 less 2 points) and never collapses (no step after 20 below half
    its accuracy at step 20, and no divergence).

Every figure is `python -m rulec train ... --json` (benchmarks/genome_transfer.py runs it), on the genome's own
input scaling.
"""

from __future__ import annotations

import argparse
import itertools
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from genome_transfer import best_per_step, train  # noqa: E402

READ_AT = (10, 20, 100, 1000)


def layers(width: int, depth: int) -> str:
    return ",".join([str(width)] * depth)


def targets(rule: str, genome: str | None, seeds: list[int], depths: list[int], with_sgd: bool = True) -> None:
    print("| hidden layers | " + " | ".join(f"rule, step {s} | SGD, step {s}" for s in READ_AT) + " |")
    print("|---|" + "---:|" * (2 * len(READ_AT)))
    with tempfile.TemporaryDirectory() as folder:
        for depth in depths:
            rule_at, sgd_at = {s: [] for s in READ_AT}, {s: [] for s in READ_AT}
            for seed in seeds:
                run = train(rule, genome, ["--data", "fashion", "--layers", layers(256, depth)], seed, 1000,
                            ("sgd",) if with_sgd else (), folder)
                sgd = best_per_step(run, "sgd") if with_sgd else {}
                for step in READ_AT:
                    rule_at[step].append(run["rule_accuracy"].get(str(step), np.nan))
                    sgd_at[step].append(sgd.get(step, np.nan))
            cells = [f"{np.mean(rule_at[s]):.3f} | " + (f"{np.mean(sgd_at[s]):.3f}" if with_sgd else "-")
                     for s in READ_AT]
            print(f"| {depth} x 256 | " + " | ".join(cells) + " |", flush=True)


def grid(rule: str, genome: str | None, seeds: list[int], depths: list[int]) -> None:
    print("| hidden layers | batch | seed | step 20 | step 100 | step 1000 | lowest after 20 | keeps learning |")
    print("|---|---:|---:|---:|---:|---:|---:|---|")
    with tempfile.TemporaryDirectory() as folder:
        for depth, width, batch, seed in itertools.product(depths, (128, 256, 512), (32, 128), seeds):
            run = train(rule, genome, ["--data", "fashion", "--layers", layers(width, depth), "--batch", str(batch)],
                        seed, 1000, (), folder)
            curve = {int(s): a for s, a in run["rule_accuracy"].items()}
            at20, last = curve.get(20, np.nan), curve.get(1000, np.nan)
            lowest = min((a for s, a in curve.items() if s > 20), default=np.nan)
            holds = run["diverged_at"] is None and last >= at20 - 0.02 and lowest >= at20 / 2
            print(f"| {depth} x {width} | {batch} | {seed} | {at20:.3f} | {curve.get(100, np.nan):.3f} | "
                  f"{last:.3f} | {lowest:.3f} | {'yes' if holds else 'NO'} |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("part", choices=("targets", "grid"))
    parser.add_argument("rule", nargs="?", default="stdlib_rules/blur_scaled.rule")
    parser.add_argument("--genome", help="a genome file (default: the one `rulec train` chooses)")
    parser.add_argument("--seeds", type=int, nargs="+")
    parser.add_argument("--depths", type=int, nargs="+", default=[1, 2, 3, 4], help="numbers of hidden layers")
    parser.add_argument("--no-sgd", action="store_true", help="targets without SGD beside the rule")
    args = parser.parse_args()
    if args.part == "targets":
        targets(args.rule, args.genome, args.seeds or [0, 1, 2], args.depths, not args.no_sgd)
    else:
        grid(args.rule, args.genome, args.seeds or [0], args.depths)


if __name__ == "__main__":
    main()
