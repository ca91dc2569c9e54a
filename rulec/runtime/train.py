"""Inner-loop training of a rule on real data, and SGD / momentum / Adam baselines under the same protocol.

Protocol: the same layer sizes, the same batches in the same order (a seeded permutation per epoch) and the
same evaluation points; test accuracy is measured after 1, 5, 10, 20, 50, 100, ... steps and after the last.
Baselines are plain MLPs trained with optax over a sweep of learning rates (vmapped, so the sweep costs about
one run); for each evaluation point the best learning rate is reported, as the paper does for SGD.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np
import optax

from rulec.data.datasets import Dataset, signed_one_hot
from rulec.geometry import geometry
from rulec.runtime.monitors import Monitor

# Learning-rate sweeps spanning 4 decades, in steps of sqrt(10).
SWEEPS = {"sgd": np.logspace(-3, 1, 9), "momentum": np.logspace(-4, 0, 9), "adam": np.logspace(-5, -1, 9)}
OPTIMISERS = {"sgd": lambda lr: optax.sgd(lr), "momentum": lambda lr: optax.sgd(lr, momentum=0.9),
              "adam": lambda lr: optax.adam(lr)}
MODELS = ("relu-xent", "tanh-mse")
# The test split is predicted in chunks: a convolutional layer's patches are kernel^2 / stride^2 times its size.
EVALUATION_CHUNK = 2000


def evaluation_steps(total: int) -> list[int]:
    marks = [1, 2, 5]
    steps, scale = [], 1
    while scale <= total:
        steps += [m * scale for m in marks if m * scale < total]
        scale *= 10
    return sorted(set(steps)) + [total]


def batch_indices(train_size: int, steps: int, batch: int, seed: int) -> np.ndarray:
    """[steps, batch] indices into the training split: a fresh seeded permutation every epoch."""
    rng = np.random.default_rng(seed)
    order = np.concatenate([rng.permutation(train_size) for _ in range(steps * batch // train_size + 1)])
    return order[: steps * batch].reshape(steps, batch)


def accuracy(logits, labels) -> float:
    return float(jnp.mean(jnp.argmax(logits, -1) == labels))


@dataclasses.dataclass
class Curve:
    steps: list[int]
    accuracy: list[float]
    diverged_at: int | None = None
    monitored: list[dict] = dataclasses.field(default_factory=list)  # a monitor's point at each of `steps`
    # Wall time of a step, from the end of the first (which compiles) to the last, less the evaluations.
    seconds_per_step: float | None = None


def train_rule(net, genome, state, data: Dataset, indices: np.ndarray, on_step: Callable[[int], None] = lambda _: None,
               monitor: Monitor | None = None) -> tuple[Curve, dict]:
    """Trains the rule's network; stops at the first evaluation point where a synapse is NaN or infinite,
    keeping every accuracy measured before it. Returns the curve and the state at the last evaluation point
    that was still finite. With a `monitor` (rulec/runtime/monitors.py), each evaluation point also measures the
    step that reached it, on its batch."""
    x_train, y_train = jnp.asarray(data.x_train), jnp.asarray(signed_one_hot(data.y_train, data.classes))
    x_test, y_test = jnp.asarray(data.x_test), jnp.asarray(data.y_test)
    # The batch is gathered inside the jitted step, on the device, from the indices alone. An unroll of one step
    # is the step with dead-state elimination: it skips what no later step nor `predict` reads.
    step = jax.jit(lambda genome, state, batch: net.unroll(genome, state, x_train[batch][None],
                                                           y_train[batch][None], remat=False))
    predict = jax.jit(net.predict)
    marks = set(evaluation_steps(len(indices)))
    curve = Curve([], [])
    last_finite = state
    started, evaluating = time.perf_counter(), 0.0
    for t, batch in enumerate(indices, start=1):
        before, state = state, step(genome, state, batch)
        on_step(t)
        if t == 1 or t in marks:  # the clock is read once the step is done (JAX dispatches asynchronously)
            jax.block_until_ready(state)
        if t == 1:
            started = time.perf_counter()
        if t in marks:
            evaluation_started = time.perf_counter()
            if not all(bool(jnp.all(jnp.isfinite(a))) for a in jax.tree.leaves((state.synapses, state.neurons))):
                curve.diverged_at = t
                break
            curve.steps.append(t)
            logits = jnp.concatenate([predict(genome, state, x_test[start:start + EVALUATION_CHUNK])
                                      for start in range(0, len(x_test), EVALUATION_CHUNK)])
            curve.accuracy.append(accuracy(logits, y_test))
            if monitor is not None:
                curve.monitored.append(monitor.on_host(monitor.measure(genome, before, state, x_train[batch],
                                                               y_train[batch])))
            last_finite = state
            evaluating += time.perf_counter() - evaluation_started
    if len(indices) > 1 and curve.diverged_at is None:  # the last step is an evaluation point: it is done
        curve.seconds_per_step = (time.perf_counter() - started - evaluating) / (len(indices) - 1)
    return curve, last_finite


# ---- baselines -----------------------------------------------------------------------------------------------------

def mlp_init(key, layers) -> list:
    """The baseline's weights on the rule's layers (sizes, or a geometry): a dense pair's [pre, post] matrix, a
    convolutional pair's [kernel, kernel, in, out] kernel (as lax.conv_general_dilated takes it), and biases."""
    shape = geometry(layers)
    keys = jax.random.split(key, len(shape.sizes) - 1)
    params = []
    for k, m, n, pair in zip(keys, shape.sizes[:-1], shape.sizes[1:], shape.convs):
        if pair is None:
            params.append((jax.random.uniform(k, (m, n), minval=-1, maxval=1) / np.sqrt(m + 1), jnp.zeros(n)))
        else:
            kernel = (pair.conv.kernel, pair.conv.kernel, pair.image[2], pair.conv.channels)
            params.append((jax.random.uniform(k, kernel, minval=-1, maxval=1) / np.sqrt(pair.receptive_field + 1),
                           jnp.zeros(pair.conv.channels)))
    return params


def mlp_apply(params, x, model: str, layers=None):
    """The baseline network: dense layers, and the convolutions of `layers` where it has them."""
    hidden = jnp.tanh if model == "tanh-mse" else jax.nn.relu
    convs = geometry(layers).convs if layers is not None else (None,) * len(params)
    for (weight, bias), pair in zip(params[:-1], convs):
        if pair is None:
            x = hidden(x.reshape(x.shape[0], -1) @ weight + bias)
        else:
            images = x.reshape((x.shape[0],) + pair.image)
            x = hidden(jax.lax.conv_general_dilated(images, weight, (pair.conv.stride,) * 2, "SAME",
                                                    dimension_numbers=("NHWC", "HWIO", "NHWC")) + bias)
    weight, bias = params[-1]
    out = x.reshape(x.shape[0], -1) @ weight + bias
    return jnp.tanh(out) if model == "tanh-mse" else out


def mlp_loss(params, x, labels, classes: int, model: str, layers=None):
    out = mlp_apply(params, x, model, layers)
    if model == "tanh-mse":  # backprop.rule's network and loss: the summed squared error against +-1 targets
        targets = jnp.where(jax.nn.one_hot(labels, classes) > 0, 1.0, -1.0)
        return 0.5 * jnp.sum((out - targets) ** 2)
    return optax.softmax_cross_entropy_with_integer_labels(out, labels).mean()


def _baseline_step(kind: str, rate, data: Dataset, model: str, layers=None):
    """One optimiser step of the baseline MLP (a convnet, on the convolutions of `layers`) on the batch of training
    indices `batch`:
    (params, opt_state, batch) -> (params, opt_state)."""
    x_train, y_train = jnp.asarray(data.x_train), jnp.asarray(data.y_train)
    optimiser = OPTIMISERS[kind](rate)

    def step(params, opt_state, batch):
        grads = jax.grad(mlp_loss)(params, x_train[batch], y_train[batch], data.classes, model, layers)
        updates, opt_state = optimiser.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state

    return step


def train_baseline(kind: str, params, data: Dataset, indices: np.ndarray, learning_rates, model: str = "relu-xent",
                   layers=None) -> np.ndarray:
    """Test accuracy [learning rate, evaluation point] of an MLP (a convnet, on the convolutions of `layers`)
    trained with one optimiser at each rate."""
    x_test, y_test = jnp.asarray(data.x_test), jnp.asarray(data.y_test)
    marks = evaluation_steps(len(indices))

    def run_segment(params, opt_state, segment, rate):
        step = _baseline_step(kind, rate, data, model, layers)
        (params, opt_state), _ = jax.lax.scan(lambda carry, batch: (step(*carry, batch), None), (params, opt_state),
                                              segment)
        correct = jnp.mean(jnp.argmax(mlp_apply(params, x_test, model, layers), -1) == y_test)
        return params, opt_state, correct

    rates = jnp.asarray(learning_rates, jnp.float32)
    segment_fn = jax.jit(jax.vmap(run_segment, in_axes=(0, 0, None, 0)))
    stacked = jax.tree.map(lambda a: jnp.broadcast_to(a, (len(rates),) + a.shape), params)
    opt_states = jax.vmap(lambda p, r: OPTIMISERS[kind](r).init(p))(stacked, rates)
    results, start = [], 0
    for mark in marks:
        stacked, opt_states, correct = segment_fn(stacked, opt_states, jnp.asarray(indices[start:mark]), rates)
        results.append(np.nan_to_num(np.asarray(correct)))
        start = mark
    return np.stack(results, axis=1)


def time_baseline(kind: str, params, data: Dataset, indices: np.ndarray, rate: float, model: str = "relu-xent",
                  layers=None) -> float | None:
    """Seconds per step of the baseline at one learning rate, timed as `train_rule` times a rule: one jitted step
    per batch, the clock started once the first step (and its compilation) is done. The sweep of
    `train_baseline` cannot say it: it runs every rate at once, and compiles each segment's length."""
    if len(indices) < 2:
        return None
    step = jax.jit(_baseline_step(kind, rate, data, model, layers))
    state = step(params, OPTIMISERS[kind](rate).init(params), jnp.asarray(indices[0]))
    jax.block_until_ready(state)
    started = time.perf_counter()
    for batch in indices[1:]:
        state = step(*state, batch)
    jax.block_until_ready(state)
    return (time.perf_counter() - started) / (len(indices) - 1)
