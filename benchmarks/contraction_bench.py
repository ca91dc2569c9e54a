"""The two forms of a contraction with a state-mixing matrix, measured against the FLOP model that picks one.

Run: python benchmarks/contraction_bench.py [--pop 80] [--repeats 5] [--k 2 4 8]

For BLUR's forward contraction `sum(i, d) w[i, j, c] * nu[d, c] * a[i, d]` on the layer pairs of step_bench.py's
settings (a) (196+bias -> 512 and 512+bias -> 10, vmapped over a population) and (b) (784+bias -> 256, one
network), batch 128: the median time of "mix" (mixing the activations first, then k per-channel matmuls) and of
"fold" (the mixing folded into the weights, one larger matmul), timed in turn in one process, with the FLOP ratio
the model sees and the form `contraction="auto"` picks.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import jax
import numpy as np

from rulec.lower import contraction
from rulec.ir import named as nm

sys.path.insert(0, str(Path(__file__).resolve().parent))
from step_bench import race  # noqa: E402

BATCH = 128


def forms(n_in: int, n_out: int, k: int, pop: int):
    """The contraction in both forms, vmapped over `pop` members (pop 1: one network), with its arguments."""
    rng = np.random.default_rng(0)
    lead = (pop,) if pop > 1 else ()
    args = tuple(np.asarray(rng.normal(size=lead + shape), np.float32)
                 for shape in ((k, n_in, n_out), (k, k), (k, BATCH, n_in)))

    def build(form):
        def one(w, nu, a):
            factors = [nm.Named(w, ("c", "i", "j")), nm.Named(nu, ("d", "c")), nm.Named(a, ("d", "batch", "i"))]
            return contraction.contract(factors, ("i", "d"), ("i", "j"), form).data
        return jax.jit(jax.vmap(one) if pop > 1 else one)

    shaped = [nm.Named(a[0] if pop > 1 else a, axes) for a, axes in zip(args, (("c", "i", "j"), ("d", "c"),
                                                                              ("d", "batch", "i")))]
    flops = {form: contraction.cost(shaped, ("i", "d"), ("i", "j"), form) for form in ("mix", "fold")}
    return {form: (build(form), args) for form in ("mix", "fold")}, flops


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--pop", type=int, default=80)
    options.add_argument("--repeats", type=int, default=5)
    options.add_argument("--k", type=int, nargs="+", default=(2, 4, 8))
    args = options.parse_args()
    print(f"devices: {jax.devices()}")
    print(f"\n{'contraction':<34} {'k':>2} {'mix ms':>9} {'fold ms':>9} {'fold/mix':>9} {'FLOP ratio':>10} auto")
    for label, n_in, n_out, pop in (("(a) 197 -> 512, pop %d" % args.pop, 197, 512, args.pop),
                                    ("(a) 513 -> 10, pop %d" % args.pop, 513, 10, args.pop),
                                    ("(b) 785 -> 256, one network", 785, 256, 1)):
        for k in args.k:
            candidates, flops = forms(n_in, n_out, k, pop)
            times = race(candidates, args.repeats)
            auto = min(("mix", "fold"), key=flops.get)
            print(f"{label:<34} {k:>2} {times['mix'] * 1e3:9.2f} {times['fold'] * 1e3:9.2f} "
                  f"{times['fold'] / times['mix']:9.2f} {flops['fold'] / flops['mix']:10.2f} {auto}", flush=True)


if __name__ == "__main__":
    main()
