"""Every supervised stdlib rule trained on `digits`, as `rulec train` trains it: test accuracy at 100 and 500 steps,
mean +- std over 3 seeds, printed as the table of docs/stdlib.md.

A rule is supervised when an equation reads `target`. Each trains with the genome `rulec train` chooses (a shipped
genome, else its default preset, else its declared constants, else a random draw of its seed), on layers
64-256-10, batch 128, with the same data order, synapse draws and input scaling as `rulec train --seed S`. One
run of 500 steps gives both figures. Usage: `nice python benchmarks/stdlib_digits.py [--inputs feature|global|raw]
[--rules hebbian oja]` (about 8 minutes on 2 cores); `--inputs` scales every rule's inputs one way, to compare
the scalings.
"""

from __future__ import annotations

import argparse
import pathlib
import sys

import jax
import numpy as np
from rich.console import Console

import rulec
from rulec.commands.flags import input_scaling
from rulec.commands.train import choose_genome
from rulec.data import datasets
from rulec.data.inputs import INPUTS, standardise
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


def accuracies(path: pathlib.Path, loaded, inputs: str | None) -> tuple[str, str, dict[int, list[float]]]:
    """The genome's origin, the input scaling, and the test accuracy at each of STEPS for each seed (NaN where the
    rule diverged)."""
    rule = rulec.load(path)
    net = rule.network((loaded.inputs, HIDDEN, loaded.classes))
    quiet = Console(stderr=True, quiet=True)
    found: dict[int, list[float]] = {s: [] for s in STEPS}
    origin = ""
    for seed in SEEDS:
        genome, origin, learned_on = choose_genome(rule, path, net, None, None, seed, quiet)
        scaling = input_scaling(inputs, learned_on, origin, lambda text: print(f"warning: {text}", file=sys.stderr))
        data = standardise(loaded, scaling)
        indices = batch_indices(len(data.x_train), max(STEPS), BATCH, seed)
        curve, _ = train_rule(net, genome, net.init(jax.random.key(seed + 1)), data, indices)
        measured = dict(zip(curve.steps, curve.accuracy))
        for steps in STEPS:
            found[steps].append(measured.get(steps, float("nan")))
    return origin.replace(f" (seed {SEEDS[-1]})", ""), scaling, found


def cell(values: list[float]) -> str:
    if any(np.isnan(values)):
        return f"diverged ({sum(np.isnan(values))} of {len(values)} seeds)"
    return f"{np.mean(values):.3f} ± {np.std(values):.3f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("--inputs", choices=INPUTS, help="the input scaling of every rule (default: as `rulec train` "
                        "chooses it, the genome file's own, else the default)")
    parser.add_argument("--rules", nargs="*", help="only these rule files (stems)")
    args = parser.parse_args()
    loaded = datasets.load("digits")
    rows = [f"| file | genome | inputs | digits, {STEPS[0]} steps | digits, {STEPS[1]} steps |", "|---|---|---|---|---|"]
    for path in sorted((ROOT / "stdlib_rules").glob("*.rule")):
        if not supervised(rulec.load(path)) or (args.rules and path.stem not in args.rules):
            continue
        origin, scaling, found = accuracies(path, loaded, args.inputs)
        shipped = f"{ROOT}/stdlib_rules/genomes/"
        origin = origin.replace(shipped, "`genomes/").replace(".npz", ".npz`")
        rows.append(f"| `{path.name}` | {origin} | {scaling} | {cell(found[STEPS[0]])} | {cell(found[STEPS[1]])} |")
        print(rows[-1], file=sys.stderr, flush=True)
    print(f"Test accuracy on `digits` (layers {loaded.inputs}-{HIDDEN}-{loaded.classes}, batch {BATCH}), mean ± std "
          f"over seeds {', '.join(map(str, SEEDS))}; chance is 0.1.\n")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
