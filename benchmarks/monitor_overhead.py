"""What `rulec train --monitor alignment,norms` costs: the same training run with and without the monitors, side by
side, as ratios of CPU time and of wall time (the target is at most 1.3).

Each run is `rulec.train`'s (layers 64-256-10 on `digits`, batch 128, no baselines) in a fresh process, as a user
runs `rulec train`: JAX's start-up and every compilation included, which a second run in one process would find
cached. The runs alternate and the median of `--repeats` is kept; on a shared machine the CPU ratio (the child
process's user + system time) is the one to read. Usage:
`nice python benchmarks/monitor_overhead.py [--steps 500 2000] [--repeats 3] [--rules backprop blur]`.
"""

from __future__ import annotations

import argparse
import pathlib
import resource
import subprocess
import sys
import time

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parent.parent
RUN = ("import sys, rulec; rulec.train(sys.argv[1], data='digits', hidden=(256,), steps=int(sys.argv[2]), batch=128, "
       "baselines=(), monitor=tuple(filter(None, sys.argv[3].split(','))))")


def timed(path: pathlib.Path, steps: int, monitor: str) -> tuple[float, float]:
    """(CPU seconds, wall seconds) of one run in a fresh process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    wall = time.perf_counter()
    subprocess.run([sys.executable, "-c", RUN, str(path), str(steps), monitor], cwd=ROOT, check=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return cpu, time.perf_counter() - wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("--steps", type=int, nargs="*", default=[500, 2000])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--rules", nargs="*", default=["backprop", "kolen_pollack", "blur"])
    args = parser.parse_args()
    print("| rule | steps | CPU s without | CPU s with alignment,norms | CPU ratio | wall ratio |\n"
          "|---|---|---|---|---|---|")
    for name in args.rules:
        path = ROOT / "stdlib_rules" / f"{name}.rule"
        for steps in args.steps:
            plain, watched = [], []
            for _ in range(args.repeats):
                plain.append(timed(path, steps, ""))
                watched.append(timed(path, steps, "alignment,norms"))
            (cpu, wall), (cpu_with, wall_with) = np.median(plain, axis=0), np.median(watched, axis=0)
            print(f"| {name} | {steps} | {cpu:.2f} | {cpu_with:.2f} | {cpu_with / cpu:.2f} | {wall_with / wall:.2f} |",
                  flush=True)


if __name__ == "__main__":
    main()
