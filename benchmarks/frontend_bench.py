"""Front-end speed: parse and check every stdlib rule, after import and after the parser is built.

Run: python benchmarks/frontend_bench.py [--repeat N]

Prints, per rule, the median and worst time of parse + check over N runs, and the one-off cost of building the
LALR parser (paid once per process). The target is under 0.1 s per rule after import.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

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
    print(f"{'rule':<28} {'parse ms':>9} {'check ms':>9} {'total ms':>9} {'worst ms':>9}")
    worst_total = 0.0
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
        print(f"{path.stem:<28} {statistics.median(parses) * 1e3:9.2f} {statistics.median(checks) * 1e3:9.2f} "
              f"{statistics.median(totals) * 1e3:9.2f} {max(totals) * 1e3:9.2f}")
    verdict = "meets" if worst_total < 0.1 else "MISSES"
    print(f"\nworst parse + check: {worst_total * 1e3:.2f} ms ({verdict} the 100 ms target)")


if __name__ == "__main__":
    main()
