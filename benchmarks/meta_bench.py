"""Meta-training speed: CMA-ES genome evaluations per second, and meta-gradient steps per second and memory
against the unroll length.

Run: python benchmarks/meta_bench.py [--generations 5] [--quick]

(a) CMA-ES in the paper's setting (section 4.4): population 80, blur.rule with k = 2, a 196-512-10 network on
    mnist5k resized to 14x14; each member trains on 15 batches of 128 and is scored on 20 held-out batches of 128.
    A generation is ask + the population's evaluation + tell; the time is the median over generations after the
    first (which compiles).
(b) Meta-gradients in the paper's MNIST setting (section 4.2): blur.rule with k = 4, a 100-256-10 network on
    mnist5k cropped to 20x20 and resized to 10x10, batch 128, one run; steps per second at unrolls 10, 20 and 50,
    with the memory XLA plans for one step (temporaries), with and without rematerialisation.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import jax

import rulec
from rulec.meta import objectives
from rulec.meta.evolution import Evolution
from rulec.meta.gradient import Curriculum, Gradient
from rulec.meta.networks import Network
from rulec.meta.tasks import load_tasks, shape

RULE = Path(__file__).resolve().parent.parent / "stdlib_rules" / "blur.rule"


def timed_steps(method, carry, count: int) -> tuple[float, object]:
    """Median seconds of a method step over `count` steps after a compiling one."""
    carry, _ = method.step(carry, jax.random.key(0), 0)
    times = []
    for step in range(1, count + 1):
        start = time.perf_counter()
        carry, _ = method.step(carry, jax.random.key(step), 0)
        times.append(time.perf_counter() - start)
    return statistics.median(times), carry


def cmaes_bench(population: int, hidden: int, generations: int) -> str:
    rule = rulec.load(RULE, k=2)
    tasks = load_tasks(["mnist5k"], "resize14")
    inputs, outputs = shape(tasks)
    net = rule.network((inputs, hidden, outputs))
    protocol = objectives.Protocol(unroll=15, eval_batches=20, batch=128, outputs=outputs)
    genome = net.init_genome(jax.random.key(0))
    method = Evolution([Network(net, protocol)], tasks, "CMA_ES", population, 0.3, genome)
    seconds, _ = timed_steps(method, method.init(jax.random.key(1), net.init_genome), generations)
    return (f"CMA-ES, pop {population}, {inputs}-{hidden}-{outputs}, k=2, 15 + 20 batches of 128: "
            f"{seconds * 1e3:.0f} ms a generation, {population / seconds:.0f} genome evaluations/s")


def gradient_bench(unrolls, hidden: int, steps: int) -> list[str]:
    rule = rulec.load(RULE, k=4)
    tasks = load_tasks(["mnist5k"], "crop20-resize10")
    inputs, outputs = shape(tasks)
    net = rule.network((inputs, hidden, outputs))
    lines = []
    for unroll in unrolls:
        for remat in (True, False):
            protocol = objectives.Protocol(unroll=unroll, eval_batches=1, batch=128, outputs=outputs, remat=remat)
            method = Gradient([Network(net, protocol)], tasks, Curriculum(unroll=unroll, max_unroll=unroll), "xent",
                              5e-4, 10.0, population=1)
            carry = method.init(jax.random.key(0), net.init_genome)
            seconds, carry = timed_steps(method, carry, steps)
            engine = method.engine(unroll)
            compiled = engine.run.lower((carry["genomes"], carry["opt"], jax.random.split(jax.random.key(0), 1)),
                                         tasks).compile()
            analysis = compiled.memory_analysis()
            memory = analysis.temp_size_in_bytes / 2**20 if analysis is not None else float("nan")
            lines.append(f"meta-gradient, k=4, {inputs}-{hidden}-{outputs}, batch 128, unroll {unroll:>2}, "
                         f"remat={'on ' if remat else 'off'}: {1 / seconds:.2f} steps/s, {memory:.0f} MiB temporaries")
    return lines


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--generations", type=int, default=5)
    options.add_argument("--quick", action="store_true", help="pop 16, hidden 64, unrolls 5 and 10")
    args = options.parse_args()
    print(f"jax {jax.__version__} on {jax.devices()[0].platform} ({jax.device_count()} device(s))")
    if args.quick:
        print(cmaes_bench(16, 64, 2))
        lines = gradient_bench((5, 10), 64, 2)
    else:
        print(cmaes_bench(80, 512, args.generations))
        lines = gradient_bench((10, 20, 50), 256, args.generations)
    for line in lines:
        print(line)


if __name__ == "__main__":
    main()
