"""Convolutional networks: speed and memory per step against a hand-written JAX convnet step, and accuracy on
Fashion-MNIST against the same rules on an MLP.

Run: python benchmarks/conv_bench.py speed [--repeats 20]
     python benchmarks/conv_bench.py forms [--repeats 20]
     nice -n 10 python benchmarks/conv_bench.py accuracy --data-dir DIR [--seeds 0 1 2] [--steps 1000]

speed: 28x28x1-conv32k5s2-conv64k5s2-256-10, batch 128, on the CPU. The hand-written step is
lax.conv_general_dilated + jax.grad + optax.sgd of the same network (tanh, summed squared error, as
backprop.rule); rulec runs backprop.rule and blur.rule (k=2) on it. Times are medians of the jitted step
(compilation excluded), measured side by side in this process, the candidates in turn in each round; memory is
XLA's memory_analysis of each compiled step (arguments, outputs and temporaries). No GPU run happens here: this
script runs on the machine it is started on, and says which.

forms: each contraction of convolution form on the speed network's two convolutions, batch 128, as the JAX
lowering runs it (rulec/lower/convolution.py, a lax.conv_general_dilated or one of its transposes on the layer)
against the patch path it replaces (the gathered patches, a matmul, and for the transposed sum the fold and a
second cut), side by side.

accuracy: `rulec train` on Fashion-MNIST's test split, 1000 steps, batch 128, per seed, on conv32k5s2,conv64k5s2,256
and on 256, with the learning rate of RATES (the best of the rates tried, docs/stdlib.md) or, with --rates, each
of the rates given (a sweep).
"""

from __future__ import annotations

import argparse
import functools
import math
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import optax

import rulec

sys.path.insert(0, str(Path(__file__).resolve().parent))
from step_bench import race  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
LAYERS = [(28, 28, 1), rulec.Conv(32, 5, stride=2), rulec.Conv(64, 5, stride=2), 256, 10]
BATCH = 128
# The rules' learning rates are per example, summed over the batch; on a convolution the batch is examples x
# positions, so a rate set for an MLP is too large there (see docs/language.md).
RATES = {("backprop", "conv"): 3e-4, ("backprop", "mlp"): 1e-3, ("backprop_relu", "conv"): 5e-4,
         ("backprop_relu", "mlp"): 1e-3, ("feedback_alignment", "conv"): 1e-4, ("feedback_alignment", "mlp"): 1e-3,
         ("sign_symmetry", "conv"): 1e-4, ("sign_symmetry", "mlp"): 1e-3, ("kolen_pollack", "conv"): 1e-4,
         ("kolen_pollack", "mlp"): 1e-3}


def hand_written_step():
    """(step, params): SGD on jax.grad of the convnet written with lax.conv_general_dilated."""
    keys = jax.random.split(jax.random.key(0), 4)
    params = [(jax.random.normal(keys[0], (5, 5, 1, 32)) * 0.1, jnp.zeros(32)),
              (jax.random.normal(keys[1], (5, 5, 32, 64)) * 0.03, jnp.zeros(64)),
              (jax.random.normal(keys[2], (7 * 7 * 64, 256)) * 0.02, jnp.zeros(256)),
              (jax.random.normal(keys[3], (256, 10)) * 0.06, jnp.zeros(10))]
    optimiser = optax.sgd(1e-3)

    def loss(params, x, y):
        h = x.reshape(-1, 28, 28, 1)
        for kernel, bias in params[:2]:
            h = jnp.tanh(jax.lax.conv_general_dilated(h, kernel, (2, 2), "SAME",
                                                      dimension_numbers=("NHWC", "HWIO", "NHWC")) + bias)
        h = h.reshape(h.shape[0], -1)
        for weight, bias in params[2:]:
            h = jnp.tanh(h @ weight + bias)
        return 0.5 * jnp.sum((h - y) ** 2)

    def step(carry, x, y):
        params, opt_state = carry
        updates, opt_state = optimiser.update(jax.grad(loss)(params, x, y), opt_state)
        return optax.apply_updates(params, updates), opt_state

    return step, (params, optimiser.init(params))


def compiled(fn, *args):
    return jax.jit(fn).lower(*args).compile()


def memory(executable) -> int:
    m = executable.memory_analysis()
    return m.argument_size_in_bytes + m.output_size_in_bytes + m.temp_size_in_bytes - m.alias_size_in_bytes


def speed(repeats: int) -> None:
    print(f"device: {jax.devices()[0].device_kind} ({jax.default_backend()}); the GPU run did not happen: no GPU "
          "was available to this run")
    rng = np.random.default_rng(0)
    x = jnp.asarray(rng.normal(size=(BATCH, 784)), jnp.float32)
    y = jnp.asarray(np.where(rng.random((BATCH, 10)) < 0.1, 1.0, -1.0), jnp.float32)
    step, carry = hand_written_step()
    candidates = {"hand-written jax.grad + optax": (compiled(step, carry, x, y), (carry, x, y))}
    for name, path, dims in [("backprop.rule", "backprop.rule", {}), ("blur.rule k=2", "blur.rule", {"k": 2})]:
        rule = rulec.load(ROOT / "stdlib_rules" / path, **dims)
        net = rule.network(LAYERS)
        genome = net.init_genome(jax.random.key(0))
        state = net.init(jax.random.key(1))
        candidates[name] = (compiled(net.step, genome, state, x, y), (genome, state, x, y))
    base_time = base_memory = None
    print(f"{'step':32} {'ms':>8} {'x time':>7} {'MiB':>8} {'x memory':>9}")
    medians = race(candidates, repeats)
    for name, (executable, args) in candidates.items():
        seconds, used = medians[name], memory(executable)
        base_time, base_memory = base_time or seconds, base_memory or used
        print(f"{name:32} {1e3 * seconds:8.1f} {seconds / base_time:7.2f} {used / 2**20:8.1f} "
              f"{used / base_memory:9.2f}")


def forms(repeats: int) -> None:
    from rulec.geometry import geometry
    from rulec.ir import spatial
    from rulec.lower import convolution

    rng = np.random.default_rng(0)
    candidates = {}
    for pair in [p for p in geometry(LAYERS).convs if p is not None]:
        source = jnp.asarray(rng.normal(size=(BATCH, math.prod(pair.image))), jnp.float32)
        weights = jnp.asarray(rng.normal(size=(pair.receptive_field, pair.conv.channels)), jnp.float32)
        post = jnp.asarray(rng.normal(size=(BATCH * pair.positions, pair.conv.channels)), jnp.float32)
        cut = functools.partial(spatial.patches, pair=pair, xp=jnp)
        ways = {"forward": (lambda s, w, d, p=pair: convolution.convolve(s, w, p),
                            lambda s, w, d, cut=cut: cut(s) @ w),
                "transposed": (lambda s, w, d, p=pair: convolution.convolve_transposed(w, d, p),
                               lambda s, w, d, p=pair, cut=cut: cut(convolution.fold(d @ w.T, p))),
                "kernel update": (lambda s, w, d, p=pair: convolution.kernel_gradient(s, d, p),
                                  lambda s, w, d, cut=cut: cut(s).T @ d)}
        for form, (convolved, patched) in ways.items():
            for way, fn in (("convolution", convolved), ("patches", patched)):
                candidates[f"{'x'.join(map(str, pair.image))} {form} {way}"] = (
                    compiled(fn, source, weights, post), (source, weights, post))
    medians = race(candidates, repeats)
    for name, seconds in medians.items():
        print(f"{name:40} {1e3 * seconds:8.1f} ms")


def accuracy(data_dir: str, seeds: list[int], steps: int, rules: list[str], rates: list[float] | None) -> None:
    for rule in rules:
        for kind, layers in (("conv", "conv32k5s2,conv64k5s2,256"), ("mlp", "256")):
            for rate in rates or [RATES[rule, kind]]:
                finals = []
                for seed in seeds:
                    with tempfile.TemporaryDirectory() as folder:
                        out = Path(folder) / "run.json"
                        command = [sys.executable, "-m", "rulec", "train",
                                   str(ROOT / "stdlib_rules" / f"{rule}.rule"), "--data", "fashion", "--data-dir",
                                   data_dir, "--layers", layers, "--steps", str(steps), "--batch", str(BATCH),
                                   "--seed", str(seed), "--baseline", "none", "--genome-set", f"lr={rate}",
                                   "--json", str(out)]
                        subprocess.run(command, check=True, capture_output=True)
                        record = json.loads(out.read_text())
                    finals.append(record["rule_accuracy"][str(steps)] if record["diverged_at"] is None else 0.0)
                    print(f"{rule:20} {kind:5} lr {rate:g} seed {seed}: {finals[-1]:.4f}", flush=True)
                print(f"{rule:20} {kind:5} lr {rate:g} mean {np.mean(finals):.4f} over {len(finals)} seeds "
                      f"({', '.join(f'{a:.3f}' for a in finals)})", flush=True)

if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("part", choices=("speed", "forms", "accuracy"))
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--data-dir", default="/usr/share/datasets/fashion-mnist")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--rules", nargs="+", default=["backprop", "backprop_relu", "feedback_alignment",
                                                       "sign_symmetry", "kolen_pollack"])
    parser.add_argument("--rates", type=float, nargs="+", help="a sweep of learning rates instead of RATES")
    arguments = parser.parse_args()
    if arguments.part == "speed":
        speed(arguments.repeats)
    elif arguments.part == "forms":
        forms(arguments.repeats)
    else:
        accuracy(arguments.data_dir, arguments.seeds, arguments.steps, arguments.rules, arguments.rates)
