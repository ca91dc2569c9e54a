"""Every supervised stdlib rule compared on `digits` by `rulec.compare`, as `rulec compare` runs them: the stdlib
table of docs/stdlib.md (test accuracy at 100 and 500 steps, mean +- std over 3 seeds) and, from the alignment monitor, how
close each rule's update is to backprop's: cos(ΔW, -∇W L) per layer at steps 1, 100 and 500, mean over seeds.

A rule is supervised when an equation reads `target`. Each trains with the genome `rulec train` chooses (a shipped
genome, else its default preset, else its declared constants, else a random draw of its seed), on layers
64-256-10, batch 128, with the same data order, synapse draws and input scaling as `rulec train --seed S`. Usage:
`nice python benchmarks/stdlib_digits.py [--inputs feature|global|raw] [--rules hebbian oja] [--seeds 3]`; `--inputs`
scales every rule's inputs one way, to compare the scalings. The same figures, one command:
`rulec compare stdlib_rules/*.rule --data digits --steps 500 --seeds 3 --json board.json`.
"""

from __future__ import annotations

import argparse
import pathlib
import sys

import numpy as np

import rulec
from rulec.data.inputs import INPUTS
from rulec.ir import nodes as ir

ROOT = pathlib.Path(__file__).resolve().parent.parent
STEPS = (100, 500)
COSINE_STEPS = (1, 100, 500)
HIDDEN = 256
BATCH = 128


def supervised(rule) -> bool:
    return any(isinstance(e, ir.Load) and e.kind is ir.Source.TARGET
               for phase in rule.program.phases for statement in phase.statements for e in ir.walk(statement.value))


def cell(values: list[float | None]) -> str:
    missing = sum(v is None or np.isnan(v) for v in values)
    if missing:
        return f"diverged ({missing} of {len(values)} seeds)"
    return f"{np.mean(values):.3f} ± {np.std(values):.3f}"


def at(row, step: int, marks: list[int]) -> list[float | None]:
    """Each seed's accuracy at `step` (None where the rule had diverged)."""
    return [a[marks.index(step)] for a in row.accuracy]


def cosines(row, marks: list[int]) -> str:
    """Per synapse and layer, cos(ΔW, -∇W L) at COSINE_STEPS, mean over seeds: `w[0] 0.12 / 0.34 / 0.56`."""
    parts = []
    for synapse, by_point in (row.monitor[0].get("alignment", {}) if row.monitor else {}).items():
        for instance in range(len(by_point[0]) if by_point else 0):
            means = []
            for step in COSINE_STEPS:
                values = [m["alignment"][synapse][marks.index(step)][instance] for m in row.monitor
                          if marks.index(step) < len(m["alignment"][synapse])]
                known = [v for v in values if v is not None]
                means.append(f"{np.mean(known):.3f}" if known else "—")
            if any(m != "—" for m in means):
                parts.append(f"{synapse}[{instance}] {' / '.join(means)}")
    return "; ".join(parts) or "no gradient"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("--inputs", choices=INPUTS, help="the input scaling of every rule (default: as `rulec train` "
                        "chooses it, the genome file's own, else the default)")
    parser.add_argument("--rules", nargs="*", help="only these rule files (stems)")
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args()
    paths = [path for path in sorted((ROOT / "stdlib_rules").glob("*.rule"))
             if supervised(rulec.load(path)) and (not args.rules or path.stem in args.rules)]
    board = rulec.compare(paths, data="digits", inputs=args.inputs, hidden=(HIDDEN,), steps=max(STEPS), batch=BATCH,
                          seeds=tuple(range(args.seeds)), baselines=(),
                          progress=lambda task, done, total: print(task, file=sys.stderr, flush=True) if done == 0
                          else None)
    marks = board.evaluation_steps
    shipped = f"{ROOT}/stdlib_rules/genomes/"
    accuracy = [f"| file | genome | inputs | digits, {STEPS[0]} steps | digits, {STEPS[1]} steps |",
                "|---|---|---|---|---|"]
    alignment = [f"| file | cos(ΔW, -∇W L) per layer at steps {' / '.join(map(str, COSINE_STEPS))} |", "|---|---|"]
    for path, row in zip(paths, board.rows):
        if row.error is not None:
            accuracy.append(f"| `{path.name}` | failed: {row.error} | | | |")
            continue
        origin = row.genome.replace(shipped, "`genomes/").replace(".npz", ".npz`").replace(
            f" (seed {args.seeds - 1})", "")
        accuracy.append(f"| `{path.name}` | {origin} | {row.inputs} | {cell(at(row, STEPS[0], marks))} | "
                        f"{cell(at(row, STEPS[1], marks))} |")
        alignment.append(f"| `{path.name}` | {cosines(row, marks)} |")
    print(f"Test accuracy on `digits` (layers 64-{HIDDEN}-10, batch {BATCH}), mean ± std over seeds "
          f"{', '.join(map(str, range(args.seeds)))}; chance is 0.1.\n")
    print("\n".join(accuracy))
    print(f"\nAlignment of each rule's update with the gradient of its loss (1: backprop's direction), on that step's "
          f"batch, mean over the seeds; layer 0 is input-hidden, layer 1 hidden-output.\n")
    print("\n".join(alignment))


if __name__ == "__main__":
    main()
