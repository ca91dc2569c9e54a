"""Meta-validation of a genome file, as docs/reproductions.md reports it: train the rule's network for `--unroll`
inner steps on each held-out task's training split and score its test split, averaged over `--inits` synapse
initialisations and `--eval-batches` batches per task, on the input scaling the genome was learned on (its
metadata's `inputs`, unless `--inputs` says otherwise). Prints each task's accuracy and the mean.

Usage: `python benchmarks/meta_validation.py runs/synthetic-2d.npz` (the synthetic 2-D reproduction's defaults:
blur.rule with k = 2, a 2-20-5 network, circles, pieslice, cross, triangle and blobs, 10 inner steps, 8
initialisations, 20 batches of 128).
"""

from __future__ import annotations

import argparse
import pathlib

import jax

import rulec
from rulec.data.inputs import DEFAULT_INPUTS, INPUTS
from rulec.meta import objectives
from rulec.meta.tasks import load_tasks, shape
from rulec.runtime.genome_file import learned_inputs, load_genome

ROOT = pathlib.Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("genome", type=pathlib.Path)
    parser.add_argument("--rule", type=pathlib.Path, default=ROOT / "stdlib_rules" / "blur.rule")
    parser.add_argument("--k", type=int, default=2)
    parser.add_argument("--validate", default="circles,pieslice,cross,triangle,blobs")
    parser.add_argument("--layers", default="20")
    parser.add_argument("--unroll", type=int, default=10)
    parser.add_argument("--inits", type=int, default=8)
    parser.add_argument("--eval-batches", type=int, default=20)
    parser.add_argument("--inputs", choices=INPUTS, default=None)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    inputs = args.inputs or learned_inputs(args.genome) or DEFAULT_INPUTS
    tasks = load_tasks(args.validate.split(","), validation=True, inputs=inputs)
    inputs, outputs = shape(tasks)
    rule = rulec.load(args.rule, k=args.k)
    net = rule.network([inputs, *map(int, args.layers.split(",")), outputs])
    genome = load_genome(args.genome, rule, net.sizes, print)
    protocol = objectives.Protocol(unroll=args.unroll, eval_batches=args.eval_batches, inits=args.inits,
                                   outputs=outputs)
    score = jax.jit(lambda task: objectives.evaluate(net, genome, jax.random.key(args.seed), [task], protocol)[0])
    accuracies = {task.name: float(score(task)) for task in tasks}
    for name, accuracy in accuracies.items():
        print(f"{name:>10}  {accuracy:.3f}")
    print(f"{'mean':>10}  {sum(accuracies.values()) / len(accuracies):.3f}")


if __name__ == "__main__":
    main()
