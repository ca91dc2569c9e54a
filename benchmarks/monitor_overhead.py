"""What `rulec train --monitor alignment,norms` costs: the same training run with and without the monitors, side by
side in one process, as a ratio of wall times (the target is at most 1.3).

Each run is `rulec.train`'s (layers 64-256-10 on `digits`, batch 128, no baselines), compilation included, as a
user sees it; the runs alternate and the median of `--repeats` is kept. Usage:
`nice python benchmarks/monitor_overhead.py [--steps 500] [--repeats 3] [--rules backprop blur]`.
"""

from __future__ import annotations

import argparse
import pathlib
import time

import numpy as np

import rulec

ROOT = pathlib.Path(__file__).resolve().parent.parent


def timed(path, steps: int, monitor: tuple[str, ...]) -> tuple[float, float]:
    """(CPU seconds, wall seconds) of one run."""
    cpu, wall = time.process_time(), time.perf_counter()
    rulec.train(path, data="digits", hidden=(256,), steps=steps, batch=128, baselines=(), monitor=monitor)
    return time.process_time() - cpu, time.perf_counter() - wall


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
        timed(path, 2, ())  # JAX's own start-up, once
        for steps in args.steps:
            plain, watched = [], []
            for _ in range(args.repeats):
                plain.append(timed(path, steps, ()))
                watched.append(timed(path, steps, ("alignment", "norms")))
            (cpu, wall), (cpu_with, wall_with) = np.median(plain, axis=0), np.median(watched, axis=0)
            print(f"| {name} | {steps} | {cpu:.2f} | {cpu_with:.2f} | {cpu_with / cpu:.2f} | {wall_with / wall:.2f} |",
                  flush=True)


if __name__ == "__main__":
    main()
