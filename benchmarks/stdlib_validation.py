"""How a stdlib rule's default genome constants were chosen: validation accuracy on `digits` (or another dataset)
over a grid of genome settings, never the test split.

The validation split is the last 20% of the dataset's training split (as meta-training holds out the last 20% of
each task's training split); the rule trains on the rest, with the input scaling `rulec train` uses by default, on
layers INPUTS-256-10 (or `--hidden`), batch 128 (or `--batch`), seeds 0 and 1, and is scored at 100 and 500 steps
(or `--steps`). Usage:

    nice python benchmarks/stdlib_validation.py hebbian eta=0.01,0.001 decay=0.001,0.0001 [--preset P]
    nice python benchmarks/stdlib_validation.py blur f_w=1,0.999 --genome stdlib_rules/genomes/blur.npz \
        --data mnist5k --inputs global --steps 20,100,1000
    nice python benchmarks/stdlib_validation.py blur_scaled eta=1.25,1.5 --genome-set "nu=block([[1, 0, 1]])" \
        --hidden 256,256,256,256 --data mnist5k

prints one row per combination of the values (any genome entry, numbers or preset functions as `--genome-set`),
set on top of the preset, the declared genome or `--genome`, and of the `--genome-set` entries given (held fixed:
a matrix such as block([[1, 0, 1]]) has commas of its own).
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools

import jax

import rulec
from rulec.data import datasets
from rulec.data.inputs import DEFAULT_INPUTS, standardise
from rulec.runtime.genome_file import load_genome
from rulec.runtime.genome_set import apply_settings, parse_setting
from rulec.runtime.train import batch_indices, evaluation_steps, train_rule
from rulec.meta.tasks import HELD_OUT_FRACTION, noisy_labels
from stdlib_digits import BATCH, HIDDEN, ROOT, STEPS, cell

SEEDS = (0, 1)


def validation_split(inputs: str, name: str = "digits", label_noise: float = 0.0) -> datasets.Dataset:
    """The dataset's training split cut in two: the first 80% to train on (with that fraction of its labels
    replaced by random classes, as meta-training's `NAME@noise=P` tasks), the rest as the `test` split."""
    loaded = datasets.load(name)
    cut = int(len(loaded.x_train) * (1 - HELD_OUT_FRACTION))
    trained_labels = noisy_labels(loaded.y_train[:cut], label_noise, range(loaded.classes))
    held = dataclasses.replace(loaded, x_train=loaded.x_train[:cut], y_train=trained_labels,
                               x_test=loaded.x_train[cut:], y_test=loaded.y_train[cut:])
    return standardise(held, inputs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("rule", help="a stdlib rule's stem, such as hebbian, or a .rule file")
    parser.add_argument("grid", nargs="*", help="NAME=V1,V2,... for each genome entry to vary")
    parser.add_argument("--preset", help="start from this preset rather than the declared or default genome")
    parser.add_argument("--genome", help="start from this genome file")
    parser.add_argument("--inputs", default=DEFAULT_INPUTS)
    parser.add_argument("--data", default="digits", help="a dataset of rulec.data, such as mnist5k")
    parser.add_argument("--steps", default=",".join(map(str, STEPS)), help="comma-separated step counts")
    parser.add_argument("--genome-set", action="append", default=[], help="an entry held fixed, as rulec's flag")
    parser.add_argument("--hidden", default=str(HIDDEN), help="hidden layer sizes, such as 256 or 256,256")
    parser.add_argument("--batch", type=int, default=BATCH)
    parser.add_argument("--label-noise", type=float, default=0.0,
                        help="replace this fraction of the training labels by random classes (the scored ones clean)")
    args = parser.parse_args()
    steps_shown = tuple(int(s) for s in args.steps.split(","))
    evaluated = {*evaluation_steps(max(steps_shown)), max(steps_shown)}
    if not evaluated.issuperset(steps_shown):  # an unmeasured step would print as diverged
        parser.error(f"a run of {max(steps_shown)} steps is evaluated at steps {sorted(evaluated)} only")
    data = validation_split(args.inputs, args.data, args.label_noise)
    rule = rulec.load(args.rule if args.rule.endswith(".rule") else ROOT / "stdlib_rules" / f"{args.rule}.rule")
    hidden = tuple(int(size) for size in args.hidden.split(","))
    net = rule.network((data.inputs, *hidden, data.classes))
    axes = [[f"{name}={value}" for value in values.split(",")] for name, _, values in
            (text.partition("=") for text in args.grid)]
    print(f"{args.rule}: validation accuracy (last {HELD_OUT_FRACTION:.0%} of the training split of {args.data}), "
          f"{args.inputs} inputs, hidden {args.hidden}, batch {args.batch}, label noise {args.label_noise}, "
          f"seeds {SEEDS}; steps {steps_shown}")
    loaded = load_genome(args.genome, rule, net.sizes) if args.genome else None
    preset = args.preset or rule.program.default_preset
    for combination in itertools.product(*axes):
        found = {s: [] for s in steps_shown}
        for seed in SEEDS:
            if loaded is not None:
                start = loaded
            else:
                start = rule.preset(preset, sizes=net.sizes) if preset else net.init_genome(jax.random.key(seed))
            genome = apply_settings(rule.program, start, tuple(parse_setting(t) for t in
                                                               (*args.genome_set, *combination)))
            curve, _ = train_rule(net, genome, net.init(jax.random.key(seed + 1)), data,
                                  batch_indices(len(data.x_train), max(steps_shown), args.batch, seed))
            measured = dict(zip(curve.steps, curve.accuracy))
            for steps in steps_shown:
                found[steps].append(measured.get(steps, float("nan")))
        print(f"  {' '.join(combination) or 'as declared'}: " + "  ".join(
            f"{steps}: {cell(found[steps])}" for steps in steps_shown), flush=True)


if __name__ == "__main__":
    main()
