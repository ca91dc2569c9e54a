"""A learned genome against tuned baselines, on data and settings it was not meta-trained on: the tables of
docs/history.md, "Meta-training for the long run" (the issue's targets for the shipped blur genome).

Every figure is `rulec train` as a user runs it (`python -m rulec train ... --seed S --json`), on the test split,
mean +- std over seeds. A baseline's figure at a step is, per seed, the best of its learning rates at that step
(as `rulec train` prints it), then averaged. Each setting runs twice per seed: `--steps 100` with the baselines,
and `--steps LONG --baseline none` for the rule alone to the long step count (the rule's figures up to step 100
agree between the two: same seed, same batches).

    nice python benchmarks/genome_transfer.py [RULE] [--genome G] [--seeds 0 1 2] [--settings fashion ...]
        [--baseline-inputs feature global]

The rule runs on the genome's own input scaling. The baselines run on the scalings `rulec train --baseline-inputs`
gives them, by default the rule's and `feature` (baselines can be faster on another scaling than the rule's:
docs/reproductions.md, "The baselines on per-feature inputs"), and each is, per seed and step, its best over the
scalings and learning rates. `--baseline-inputs global` gives the baselines the rule's `global` inputs only, as the
tables measured before the flag existed.

Settings (784 inputs at 28x28; hidden 256, batch 128 unless said):
    fashion   Fashion-MNIST, the baselines SGD, momentum and Adam, the rule to step 1000
    mnist5k   mnist5k, the baselines SGD, momentum and Adam, the rule to step 100
    width128, width512, batch32: Fashion-MNIST with that width or batch, baseline SGD, the rule to step 500
About 12 minutes on 2 cores for all five with 3 seeds (measured for the shipped blur genome).
"""

from __future__ import annotations

import argparse
import json
import math
import pathlib
import subprocess
import sys
import tempfile

import numpy as np

from rulec.data.inputs import INPUTS

ROOT = pathlib.Path(__file__).resolve().parent.parent
ALL_BASELINES = ("sgd", "momentum", "adam")
# name: (train flags, baselines, the rule's long step count)
SETTINGS = {
    "fashion": (["--data", "fashion"], ALL_BASELINES, 1000),
    "mnist5k": (["--data", "mnist5k"], ALL_BASELINES, 100),
    "width128": (["--data", "fashion", "--layers", "128"], ("sgd",), 500),
    "width512": (["--data", "fashion", "--layers", "512"], ("sgd",), 500),
    "batch32": (["--data", "fashion", "--batch", "32"], ("sgd",), 500),
}
SHOWN = (1, 5, 10, 20, 50, 100, 200, 500, 1000)


def train(rule: str, genome: str | None, flags: list[str], seed: int, steps: int, baselines, folder) -> dict:
    out = pathlib.Path(folder) / f"run-{seed}-{steps}.json"
    command = [sys.executable, "-m", "rulec", "train", rule, *flags, "--steps", str(steps), "--seed", str(seed),
               "--baseline", ",".join(baselines) or "none", "--json", str(out)]
    if genome:
        command += ["--genome", genome]
    done = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    if done.returncode != 0:
        sys.exit(f"{' '.join(command)} failed ({done.returncode}):\n{done.stderr}")
    return json.loads(out.read_text())


def best_per_step(run: dict, baseline: str) -> dict[int, float]:
    """The best accuracy over the baseline's learning rates (and input scalings) at each evaluation step, as
    `rulec train` recorded it."""
    return {step: best[0] for step, best in zip(run["evaluation_steps"], run["baselines"][baseline]["best"])}


def measure(rule: str, genome: str | None, name: str, seeds, baseline_inputs=()) -> dict[str, dict[int, list[float]]]:
    """{column: {step: [one figure per seed]}} for the rule and each baseline of a setting, the baselines on
    `baseline_inputs` (default: `rulec train`'s)."""
    flags, baselines, long = SETTINGS[name]
    scaled = ["--baseline-inputs", ",".join(baseline_inputs)] if baseline_inputs else []
    columns: dict[str, dict[int, list[float]]] = {}
    with tempfile.TemporaryDirectory() as folder:
        for seed in seeds:
            short = train(rule, genome, [*flags, *scaled], seed, 100, baselines, folder)
            rule_run = train(rule, genome, flags, seed, long, (), folder) if long > 100 else short
            # A rule that diverged has no accuracy after it: counted as chance would hide it, so it shows as nan.
            curves = {"rule": {int(s): a for s, a in rule_run["rule_accuracy"].items()}}
            on = short["baseline_inputs"]
            suffix = f" (best of {', '.join(on)})" if len(on) > 1 else f" ({on[0]})"
            for b in baselines:
                curves[b + suffix] = best_per_step(short, b)
            for column, curve in curves.items():
                for step in SHOWN:
                    if step <= (long if column == "rule" else 100):
                        columns.setdefault(column, {}).setdefault(step, []).append(curve.get(step, math.nan))
    return columns


def table(name: str, columns: dict[str, dict[int, list[float]]]) -> str:
    heads = list(columns)
    lines = [f"{name}:", "", "| step | " + " | ".join(heads) + " |", "|---:|" + "---:|" * len(heads)]
    for step in sorted({s for c in columns.values() for s in c}):
        cells = []
        for head in heads:
            values = columns[head].get(step)
            cells.append("" if values is None else f"{np.mean(values):.3f} ± {np.std(values):.3f}")
        lines.append(f"| {step} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rule", nargs="?", default="stdlib_rules/blur.rule")
    parser.add_argument("--genome", help="a genome file (default: the one `rulec train` chooses)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--settings", nargs="+", choices=list(SETTINGS), default=list(SETTINGS))
    parser.add_argument("--baseline-inputs", nargs="+", choices=INPUTS, default=[],
                        help="the input scalings the baselines run on (default: the rule's and feature), each "
                             "baseline at its best over them")
    args = parser.parse_args()
    for name in args.settings:
        print(table(name, measure(args.rule, args.genome, name, args.seeds, args.baseline_inputs)), end="\n\n",
              flush=True)


if __name__ == "__main__":
    main()
