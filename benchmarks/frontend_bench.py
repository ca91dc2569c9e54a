"""Front-end speed: parse and check every stdlib rule, after import and after the parser is built.

Run: python benchmarks/frontend_bench.py [--repeat N]

Prints, per rule, the median and worst time of parse + check over N runs, and the one-off cost of building the
LALR parser (paid once per process); the target is under 0.1 s per rule after import. It also prints the median
time to resolve the IR and to trace the JAX step of a 784-256-10 network to a jaxpr (the whole front end and
lowering without XLA's own compilation), whose target is 0.3 s.

First it measures start-up: the wall time of `rulec --help` in a fresh interpreter, side by side with a bare
`python -c pass` and with `import rulec.api` (each run in turn, round after round, so that a busy machine slows all
three alike); the target for `rulec --help` is under 0.5 s.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

import jax
import jax.numpy as jnp

from rulec.api import Rule
from rulec.check import check
from rulec.syntax import parse
from rulec.syntax.parse import parser

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--repeat", type=int, default=50)
    options.add_argument("--startup-runs", type=int, default=10)
    args = options.parse_args()

    startup = start_up_times(args.startup_runs)
    for label, seconds in startup.items():
        print(f"{label:<34} {seconds * 1e3:7.0f} ms (median of {args.startup_runs} fresh processes)")
    verdict = "meets" if startup[HELP] < 0.5 else "MISSES"
    print(f"rulec --help: {startup[HELP] - startup[BARE]:.2f} s over a bare interpreter ({verdict} the 0.5 s "
          "target)\n")

    start = time.perf_counter()
    parser()
    build = time.perf_counter() - start
    print(f"building the parser (once per process): {build * 1e3:.1f} ms\n")
    print(f"{'rule':<28} {'parse ms':>9} {'check ms':>9} {'total ms':>9} {'worst ms':>9} {'lower ms':>9}")
    worst_total = worst_lower = 0.0
    for path in sorted((ROOT / "stdlib_rules").glob("*.rule")):
        text = path.read_text()
        parses, checks = [], []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            rule = parse(text, str(path))
            t1 = time.perf_counter()
            check(rule)
            t2 = time.perf_counter()
            parses.append(t1 - t0)
            checks.append(t2 - t1)
        totals = [p + c for p, c in zip(parses, checks)]
        worst_total = max(worst_total, max(totals))
        lower = statistics.median(lower_time(text, str(path)) for _ in range(3))
        worst_lower = max(worst_lower, lower)
        print(f"{path.stem:<28} {statistics.median(parses) * 1e3:9.2f} {statistics.median(checks) * 1e3:9.2f} "
              f"{statistics.median(totals) * 1e3:9.2f} {max(totals) * 1e3:9.2f} {lower * 1e3:9.1f}")
    verdict = "meets" if worst_total < 0.1 else "MISSES"
    print(f"\nworst parse + check: {worst_total * 1e3:.2f} ms ({verdict} the 100 ms target)")
    verdict = "meets" if worst_lower < 0.3 else "MISSES"
    print(f"slowest parse + check + resolve + trace: {worst_lower * 1e3:.1f} ms ({verdict} the 300 ms target)")


BARE, HELP = "python -c pass", "python -m rulec --help"
START_UPS = {BARE: ["-c", "pass"], HELP: ["-m", "rulec", "--help"], "python -c 'import rulec.api'":
             ["-c", "import rulec.api"]}


def start_up_times(runs: int) -> dict[str, float]:
    """Median wall time of each command of START_UPS in a fresh interpreter, the commands run in turn."""
    times = {label: [] for label in START_UPS}
    for _ in range(runs):
        for label, arguments in START_UPS.items():
            start = time.perf_counter()
            subprocess.run([sys.executable, *arguments], check=True, capture_output=True, cwd=ROOT)
            times[label].append(time.perf_counter() - start)
    return {label: statistics.median(values) for label, values in times.items()}


def lower_time(text: str, name: str) -> float:
    """Seconds from rule text to the jaxpr of one step on 784-256-10, batch 128, without XLA compilation."""
    start = time.perf_counter()
    rule = Rule(check(parse(text, name)))
    net = rule.network((784, 256, 10))
    genome = jax.eval_shape(lambda: net.init_genome(jax.random.key(0)))
    state = jax.eval_shape(lambda: net.init(jax.random.key(0)))
    batch = jax.ShapeDtypeStruct((128, 784), jnp.float32), jax.ShapeDtypeStruct((128, 10), jnp.float32)
    jax.make_jaxpr(net.step)(genome, state, *batch)
    return time.perf_counter() - start


if __name__ == "__main__":
    main()
