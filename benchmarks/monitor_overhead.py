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


def timed(path, steps: int, monitor: tuple[str, ...]) -> float:
    started = time.perf_counter()
    rulec.train(path, data="digits", hidden=(256,), steps=steps, batch=128, baselines=(), monitor=monitor)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("--steps", type=int, default=500)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--rules", nargs="*", default=["backprop", "kolen_pollack", "blur"])
    args = parser.parse_args()
    print("| rule | without (s) | with alignment,norms (s) | ratio |\n|---|---|---|---|")
    for name in args.rules:
        path = ROOT / "stdlib_rules" / f"{name}.rule"
        timed(path, 2, ())  # JAX's own start-up, once
        plain, watched = [], []
        for _ in range(args.repeats):
            plain.append(timed(path, args.steps, ()))
            watched.append(timed(path, args.steps, ("alignment", "norms")))
        without, with_ = np.median(plain), np.median(watched)
        print(f"| {name} | {without:.2f} | {with_:.2f} | {with_ / without:.2f} |", flush=True)


if __name__ == "__main__":
    main()
