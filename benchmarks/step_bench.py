"""Step speed: compiled rulec rules against a jax.grad + optax SGD MLP doing the same steps, in one process.

Run: python benchmarks/step_bench.py [--pop 80] [--repeats 5] [--quick] [--setting a|b] [--k 2 4] [--unpruned]

(a) population: a population of genomes and synapse inits, vmapped, in the paper's CMA-ES setting: a 196-512-10
    network trains on 15 batches of 128, then predicts 20 held-out batches of 128.
(b) one network: 784-256-10, batch 128, 100 steps.
With --unpruned, each blur row is also run without dead-state elimination (`rule.network(..., prune=False)`), side
by side.
(c) "before": a direct hand-written einsum BLUR (benchmarks/naive_blur.py), checked to compute the same numbers.
Then the memory of jax.grad through `unroll` at 10 and 50 steps, with and without rematerialisation.

Every time is the median wall time of the jitted computation (compilation excluded); ratios are to SGD measured
in the same run on the same data.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import optax

import rulec
from rulec.api import source_major

sys.path.insert(0, str(Path(__file__).resolve().parent))
import naive_blur  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
RULES = ROOT / "stdlib_rules"


def race(candidates: dict, repeats: int) -> dict:
    """Median wall time of each (function, args) candidate. The candidates are timed in turn, round after round,
    so that a slow phase of the machine slows them all rather than one of them."""
    for function, args in candidates.values():
        jax.block_until_ready(function(*args))  # compile and warm up
    times = {label: [] for label in candidates}
    for _ in range(repeats):
        for label, (function, args) in candidates.items():
            start = time.perf_counter()
            jax.block_until_ready(function(*args))
            times[label].append(time.perf_counter() - start)
    return {label: statistics.median(values) for label, values in times.items()}


def batches(rng, count, batch, sizes, leading=()):
    xs = rng.normal(size=leading + (count, batch, sizes[0])).astype(np.float32)
    labels = rng.integers(0, sizes[-1], size=leading + (count, batch))
    ys = np.where(np.eye(sizes[-1], dtype=np.float32)[labels] > 0, 1.0, -1.0).astype(np.float32)
    return jnp.asarray(xs), jnp.asarray(ys)


# ---- the SGD baseline -------------------------------------------------------------------------------------------

def mlp_init(key, sizes):
    keys = jax.random.split(key, len(sizes) - 1)
    return [(jax.random.uniform(k, (m, n), minval=-1, maxval=1) / np.sqrt(m + 1), jnp.zeros(n))
            for k, m, n in zip(keys, sizes[:-1], sizes[1:])]


def mlp_predict(params, x):
    for weight, bias in params[:-1]:
        x = jnp.tanh(x @ weight + bias)
    weight, bias = params[-1]
    return x @ weight + bias


def mlp_loss(params, x, y):
    return optax.softmax_cross_entropy(mlp_predict(params, x), (y + 1) / 2).sum()


def sgd_train(params, xs, ys, learning_rate=0.1):
    optimiser = optax.sgd(learning_rate)

    def body(carry, batch):
        params, opt_state = carry
        updates, opt_state = optimiser.update(jax.grad(mlp_loss)(params, *batch), opt_state)
        return (optax.apply_updates(params, updates), opt_state), None

    (params, _), _ = jax.lax.scan(body, (params, optimiser.init(params)), (xs, ys))
    return params


def accuracy(predict, xs, ys):
    logits = jax.vmap(predict)(xs)
    return jnp.mean(jnp.argmax(logits, -1) == jnp.argmax(ys, -1))


# ---- (a) population ---------------------------------------------------------------------------------------------

def population_bench(pop: int, repeats: int, rows: list, ks, unpruned: bool) -> None:
    sizes = (196, 512, 10)
    rng = np.random.default_rng(0)
    train = batches(rng, 15, 128, sizes)
    held_out = batches(rng, 20, 128, sizes)

    def sgd_member(key):
        params = sgd_train(mlp_init(key, sizes), *train)
        return accuracy(lambda x: mlp_predict(params, x), *held_out)

    keys = jax.random.split(jax.random.key(0), pop)
    candidates = {"sgd": (jax.jit(jax.vmap(sgd_member)), (keys,))}
    for k in ks:
        rule = rulec.load(RULES / "blur.rule", k=k)
        rulec_member, naive_member = members(rule.network(sizes), train, held_out)
        genomes = jax.vmap(rule.init_genome)(keys)
        candidates[f"after {k}"] = (jax.jit(jax.vmap(rulec_member)), (genomes, keys))
        candidates[f"before {k}"] = (jax.jit(jax.vmap(naive_member)), (genomes, keys))
        if unpruned:
            unpruned_member, _ = members(rule.network(sizes, prune=False), train, held_out)
            candidates[f"unpruned {k}"] = (jax.jit(jax.vmap(unpruned_member)), (genomes, keys))
    times = race(candidates, repeats)
    base = times["sgd"]
    rows.append(("(a) pop %d, 196-512-10, 15+20 batches" % pop, "jax.grad + optax.sgd", None, base, 1.0))
    for k in ks:
        after, before = times[f"after {k}"], times[f"before {k}"]
        rows.append((f"(a) pop {pop}", f"blur.rule k={k}", before / base, after, after / base))
        if unpruned:
            rows.append((f"(a) pop {pop}", f"  k={k}, prune=False", before / base, times[f"unpruned {k}"],
                         times[f"unpruned {k}"] / base))


def members(net, train, held_out):
    """One population member's evaluation, by rulec and by the hand-written einsum BLUR."""

    def rulec_member(genome, key):
        state = net.unroll(genome, net.init(key), *train, remat=False)
        return accuracy(lambda x: net.predict(genome, state, x), *held_out)

    def naive_member(genome, key):
        state = {name: [source_major(a) for a in arrays] for name, arrays in net.init(key).synapses.items()}
        for x, y in zip(*train):
            state = naive_blur.step(genome, state, x, y)
        return accuracy(lambda x: naive_blur.predict(genome, state, x), *held_out)

    return rulec_member, naive_member


# ---- (b) one network ---------------------------------------------------------------------------------------------

def single_bench(repeats: int, rows: list, ks, unpruned: bool) -> None:
    sizes = (784, 256, 10)
    rng = np.random.default_rng(1)
    xs, ys = batches(rng, 100, 128, sizes)
    candidates = {"sgd": (jax.jit(sgd_train), (mlp_init(jax.random.key(0), sizes), xs, ys))}
    labels = {}

    def add(label, net, genome, state, before=None):
        unroll = jax.jit(lambda g, s, xs, ys: net.unroll(g, s, xs, ys, remat=False))
        candidates[label] = (unroll, (genome, state, xs, ys))
        labels[label] = before

    backprop = rulec.load(RULES / "backprop.rule")
    genome = backprop.init_genome(jax.random.key(0))
    add("backprop.rule, specialised", backprop.network(sizes, specialize=genome), genome,
        backprop.network(sizes).init(jax.random.key(1)))
    template = rulec.load(RULES / "blur_two_state.rule")
    preset = template.preset("backprop")
    state = template.network(sizes).init(jax.random.key(1))
    add("blur_two_state@backprop", template.network(sizes), preset, state)
    add("  the same, specialised", template.network(sizes, specialize=preset), preset, state)

    def naive_unroll(g, s, xs, ys):
        return jax.lax.scan(lambda c, b: (naive_blur.step(g, c, *b), None), s, (xs, ys))[0]

    for k in ks:
        rule = rulec.load(RULES / "blur.rule", k=k)
        net = rule.network(sizes)
        genome, state = rule.init_genome(jax.random.key(0)), net.init(jax.random.key(1))
        reference_state = {name: [source_major(a) for a in arrays] for name, arrays in state.synapses.items()}
        check_naive_matches(genome, state, reference_state, net, xs[0], ys[0])
        candidates[f"naive {k}"] = (jax.jit(naive_unroll), (genome, reference_state, xs, ys))
        add(f"blur.rule k={k}", net, genome, state, before=f"naive {k}")
        if unpruned:
            add(f"  k={k}, prune=False", rule.network(sizes, prune=False), genome, state, before=f"naive {k}")

    times = race(candidates, repeats)
    base = times["sgd"]
    rows.append(("(b) 784-256-10, batch 128, 100 steps", "jax.grad + optax.sgd", None, base, 1.0))
    for label, before in labels.items():
        rows.append(("(b)", label, times[before] / base if before else None, times[label], times[label] / base))


def check_naive_matches(genome, state, reference_state, net, x, y) -> None:
    ours = net.step(genome, state, x, y)
    theirs = naive_blur.step(genome, reference_state, x, y)
    for name in ours.synapses:
        for a, b in zip(ours.synapses[name], theirs[name]):
            np.testing.assert_allclose(source_major(a), b, rtol=1e-4, atol=1e-5)


# ---- memory of the meta-gradient --------------------------------------------------------------------------------

def memory_bench() -> list[str]:
    sizes = (784, 256, 10)
    rule = rulec.load(RULES / "blur.rule", k=2)
    net = rule.network(sizes)
    genome, state = rule.init_genome(jax.random.key(0)), net.init(jax.random.key(1))
    lines = []
    for remat in (True, False):
        figures = {}
        for steps in (10, 50):
            xs, ys = batches(np.random.default_rng(2), steps, 128, sizes)

            def meta_loss(genome):
                final = net.unroll(genome, state, xs, ys, remat=remat)
                return optax.softmax_cross_entropy(net.predict(genome, final, xs[-1]), (ys[-1] + 1) / 2).mean()

            compiled = jax.jit(jax.grad(meta_loss)).lower(genome).compile()
            analysis = compiled.memory_analysis()
            figures[steps] = analysis.temp_size_in_bytes if analysis is not None else float("nan")
        ratio = figures[50] / figures[10]
        lines.append(f"grad through unroll, remat={remat}: {figures[10] / 2**20:.1f} MiB at 10 steps, "
                     f"{figures[50] / 2**20:.1f} MiB at 50 steps ({ratio:.2f}x)")
    return lines


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--pop", type=int, default=80)
    options.add_argument("--repeats", type=int, default=7)
    options.add_argument("--quick", action="store_true", help="pop 8, k = 2 and 4 only, 3 repeats")
    options.add_argument("--setting", choices=("a", "b"), help="run one setting only (and skip the memory figures)")
    options.add_argument("--k", type=int, nargs="+", help="blur's k values (default: 2 4 in (a), 2 4 8 in (b))")
    options.add_argument("--unpruned", action="store_true", help="also time blur with prune=False")
    args = options.parse_args()
    pop, repeats = (8, 3) if args.quick else (args.pop, args.repeats)
    print(f"devices: {jax.devices()}")
    rows: list = []
    if args.setting in (None, "a"):
        population_bench(pop, repeats, rows, args.k or (2, 4), args.unpruned)
    if args.setting in (None, "b"):
        single_bench(repeats, rows, args.k or ((2, 4) if args.quick else (2, 4, 8)), args.unpruned)
    print(f"\n{'setting':<40} {'program':<28} {'before/SGD':>10} {'time s':>9} {'rulec/SGD':>10}")
    for setting, program, before, seconds, ratio in rows:
        before_text = f"{before:10.2f}" if before is not None else f"{'':>10}"
        print(f"{setting:<40} {program:<28} {before_text} {seconds:9.4f} {ratio:10.2f}")
    if args.setting is None:
        print()
        for line in memory_bench():
            print(line)


if __name__ == "__main__":
    main()
