"""Every supervised stdlib rule trained on `digits`, as `rulec train` trains it: test accuracy at 100 and 500 steps,
mean +- std over 3 seeds, printed as the README's stdlib table.

A rule is supervised when an equation reads `target`. Each trains with the genome `rulec train` chooses (a shipped
genome, else its default preset, else its declared constants, else a random draw of its seed), on layers
64-256-10, batch 128, with the same data order and synapse draws as `rulec train --seed S`. One run of 500 steps
gives both figures. Usage: `nice python benchmarks/stdlib_digits.py` (about 8 minutes on 2 cores).
"""

from __future__ import annotations

import pathlib
import sys

import jax
import numpy as np
from rich.console import Console

import rulec
from rulec.commands.train import choose_genome
from rulec.data import datasets
from rulec.ir import nodes as ir
from rulec.runtime.train import batch_indices, train_rule

ROOT = pathlib.Path(__file__).resolve().parent.parent
STEPS = (100, 500)
SEEDS = (0, 1, 2)
HIDDEN = 256
BATCH = 128


def supervised(rule) -> bool:
    return any(isinstance(e, ir.Load) and e.kind is ir.Source.TARGET
               for phase in rule.program.phases for statement in phase.statements for e in ir.walk(statement.value))


def accuracies(path: pathlib.Path, data) -> tuple[str, dict[int, list[float]]]:
    """The genome's origin, and the test accuracy at each of STEPS for each seed (NaN where the rule diverged)."""
    rule = rulec.load(path)
    net = rule.network((data.inputs, HIDDEN, data.classes))
    quiet = Console(stderr=True, quiet=True)
    found: dict[int, list[float]] = {s: [] for s in STEPS}
    origin = ""
    for seed in SEEDS:
        genome, origin = choose_genome(rule, path, net, None, None, seed, quiet)
        indices = batch_indices(len(data.x_train), max(STEPS), BATCH, seed)
        curve, _ = train_rule(net, genome, net.init(jax.random.key(seed + 1)), data, indices)
        measured = dict(zip(curve.steps, curve.accuracy))
        for steps in STEPS:
            found[steps].append(measured.get(steps, float("nan")))
    return origin.replace(f" (seed {SEEDS[-1]})", ""), found


def cell(values: list[float]) -> str:
    if any(np.isnan(values)):
        return f"diverged ({sum(np.isnan(values))} of {len(values)} seeds)"
    return f"{np.mean(values):.3f} ± {np.std(values):.3f}"


def main() -> None:
    data = datasets.normalise(datasets.load("digits"))
    rows = [f"| file | genome | digits, {STEPS[0]} steps | digits, {STEPS[1]} steps |", "|---|---|---|---|"]
    for path in sorted((ROOT / "stdlib_rules").glob("*.rule")):
        if not supervised(rulec.load(path)):
            continue
        origin, found = accuracies(path, data)
        shipped = f"{ROOT}/stdlib_rules/genomes/"
        origin = origin.replace(shipped, "`genomes/").replace(".npz", ".npz`")
        rows.append(f"| `{path.name}` | {origin} | {cell(found[STEPS[0]])} | {cell(found[STEPS[1]])} |")
        print(rows[-1], file=sys.stderr, flush=True)
    print(f"Test accuracy on `digits` (layers {data.inputs}-{HIDDEN}-{data.classes}, batch {BATCH}), mean ± std over "
          f"seeds {', '.join(map(str, SEEDS))}; chance is 0.1.\n")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
