"""Front-end speed: parse and check every stdlib rule, after import and after the parser is built.

Run: python benchmarks/frontend_bench.py [--repeat N]

Prints, per rule, the median and worst time of parse + check over N runs, and the one-off cost of building the
LALR parser (paid once per process); the target is under 0.1 s per rule after import. It also prints the median
time to resolve the IR and to trace the JAX step of a 784-256-10 network to a jaxpr (the whole front end and
lowering without XLA's own compilation), whose target is 0.3 s.
"""

from __future__ import annotations

import argparse
import statistics
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
    args = options.parse_args()

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
