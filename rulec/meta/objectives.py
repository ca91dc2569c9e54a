"""What meta-learning optimises, for one genome: train a fresh network on a task, then score it on held-out data.

`evaluate` is the paper's CMA-ES fitness and meta-validation: accuracy on held-out batches after `unroll` inner
steps. `meta_loss` is the gradient method's objective on the same protocol: softmax cross-entropy of the
output's prediction state (paper section 3.3), or the released code's L2 against the +-1 targets. Both average
over the tasks and over `inits` synapse initialisations drawn per task. With `score_at`, the network is also
scored after those earlier inner steps and the scores are averaged, which rewards a rule for learning fast all
along the unroll rather than only at its end.

With `horizons`, the unroll runs to the longest horizon and the network is scored after each one on its own
number of held-out batches (the first ones of one draw), the scores combined by the horizons' weights: a long
horizon costs the inner steps, and few batches, so a rule is rewarded for still learning at step 100 without
paying 100 steps of scoring. `stability` subtracts (from the fitness; adds, to the meta-loss) that weight times
the synapses' growth over the whole unroll (see `growth`), which a rule can show before its accuracy falls; with
`stability_from`, over the unroll after that scoring point only, so that the growth a rule needs to learn at all
goes free and only the growth that goes on after it has learned (the one that saturates it later) costs.
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import optax

from rulec.meta.tasks import sample

WORST = -1.0  # the fitness of a member whose synapses became NaN or infinite
LOSSES = ("xent", "l2")


@dataclasses.dataclass(frozen=True)
class Horizon:
    """Score the network after `step` inner steps, on `batches` held-out batches, with weight `weight`."""
    step: int
    batches: int
    weight: float = 1.0


@dataclasses.dataclass(frozen=True)
class Protocol:
    unroll: int = 15  # inner steps, one fresh batch each
    eval_batches: int = 20
    batch: int = 128
    inits: int = 1  # synapse initialisations per task
    outputs: int = 10
    remat: bool = True
    score_at: tuple[int, ...] = ()  # earlier inner steps after which the network is scored too
    horizons: tuple[Horizon, ...] = ()  # instead of score_at and the unroll's end, when given
    stability: float = 0.0  # the weight of the synapses' growth in the objective
    stability_from: int = 0  # the inner step from which that growth is measured: 0 or a scoring point
    truncation: int = 0  # persistent ES: inner steps per generation, of the unroll (0 for the other methods)

    def points(self) -> list[int]:
        """The inner steps after which the network is scored: those of score_at within the unroll, and its end."""
        return sorted({p for p in self.score_at if p < self.unroll} | {self.unroll})

    def scoring(self) -> list[Horizon]:
        """Where, on how many batches and with what weight the network is scored, in the order of the steps."""
        if self.horizons:
            return sorted((h for h in self.horizons if h.step <= self.unroll), key=lambda h: h.step)
        return [Horizon(point, self.eval_batches) for point in self.points()]

    def scored_batches(self) -> int:
        """Held-out batches scored in all, over every scoring point (for the memory and work estimates)."""
        return sum(h.batches for h in self.scoring())


def finite(tree):
    return jnp.all(jnp.asarray([jnp.all(jnp.isfinite(leaf)) for leaf in jax.tree.leaves(tree)]))


def growth(first, last):
    """How much the synapses grew from `first` to `last` (network states): the mean over the synapse arrays of
    max(0, log(rms(last) / rms(first))), 0 for arrays that shrank or kept their size. A log, so that growing
    18-fold costs three times as much as growing 2.6-fold, not seven times; RMS floored at 1e-6 so that
    a zero-initialised array has a finite growth. An array the unroll leaves alone because nothing reads it
    (dead-state elimination, rulec/lower) keeps its start and counts 0."""
    def rms(leaf):
        return jnp.maximum(jnp.sqrt(jnp.mean(jnp.square(leaf))), 1e-6)

    logs = [jnp.log(rms(b) / rms(a)) for a, b in zip(jax.tree.leaves(first.synapses), jax.tree.leaves(last.synapses))]
    return jnp.mean(jnp.maximum(0.0, jnp.stack(logs)))


def weighted(scores: list, horizons: list[Horizon]):
    """The scores at the horizons, combined by their weights."""
    total = sum(h.weight for h in horizons)
    return sum(h.weight * score for h, score in zip(horizons, scores)) / total


def scores(logits, targets, labels, loss: str = "xent"):
    """(meta-loss, accuracy) of predictions on held-out batches: the softmax cross-entropy of the output's
    prediction state, or with `loss="l2"` the squared error against the +-1 targets."""
    accuracy = jnp.mean(jnp.argmax(logits, -1) == labels)
    if loss == "l2":
        return jnp.mean((logits - targets) ** 2), accuracy
    return jnp.mean(optax.softmax_cross_entropy_with_integer_labels(logits, labels)), accuracy


def predicted(net, genome, state, held, task):
    """(predictions, targets, labels) of the network in `state` on held-out batches `held` = (xs, ys, labels). A
    task with fewer classes than the shared network has outputs is scored on its own outputs only, as if it had its
    own head: xor's prediction is the larger of outputs 0 and 1, never blobs' output 4."""
    xs, ys, labels = held
    logits = jax.vmap(lambda x: net.predict(genome, state, x))(xs)
    return logits[..., :task.classes], ys[..., :task.classes], labels


def _accuracy(scored: list, protocol: Protocol):
    """Held-out accuracy over the scoring points of `_trained`, weighted."""
    return weighted([scores(*point)[1] for point in scored], protocol.scoring())


def _trained(net, genome, key, task, protocol: Protocol, remat: bool):
    """The network's growth over the inner loop, its last state, and, for each scoring point of
    `protocol.scoring()`, (predictions, targets, labels) on that point's held-out batches: [batches, batch, task
    classes] and [batches, batch]."""
    init_key, train_key, held_key = jax.random.split(key, 3)
    horizons = protocol.scoring()
    xs, ys, _ = sample(train_key, task.train, protocol.unroll, protocol.batch, protocol.outputs)
    held = sample(held_key, task.held_out, max(h.batches for h in horizons), protocol.batch, protocol.outputs)
    grown_from = state = net.init(init_key)
    done, scored = 0, []
    for horizon in horizons:
        state = net.unroll(genome, state, xs[done:horizon.step], ys[done:horizon.step], remat=remat)
        if horizon.step == protocol.stability_from:
            grown_from = state
        scored.append(predicted(net, genome, state, [part[:horizon.batches] for part in held], task))
        done = horizon.step
    return growth(grown_from, state), state, scored


def _over_tasks_and_inits(score, key, tasks, inits: int):
    """Mean of score(key, task) over the tasks and `inits` keys per task."""
    results = [jax.vmap(lambda k, task=task: score(k, task))(jax.random.split(jax.random.fold_in(key, i), inits))
               for i, task in enumerate(tasks)]
    return jax.tree.map(lambda *parts: jnp.mean(jnp.stack(parts)), *results)


def evaluate(net, genome, key, tasks, protocol: Protocol):
    """(fitness, diverged): held-out accuracy after the inner loop (weighted over the horizons), less the
    stability term; WORST if any synapse went non-finite."""
    def score(k, task):
        grown, state, scored = _trained(net, genome, k, task, protocol, remat=False)
        fitness = _accuracy(scored, protocol) - protocol.stability * grown
        return fitness, (~finite((state.synapses, state.neurons))).astype(jnp.float32)

    accuracy, diverged = _over_tasks_and_inits(score, key, tasks, protocol.inits)
    diverged = (diverged > 0) | ~jnp.isfinite(accuracy)
    return jnp.where(diverged, WORST, accuracy), diverged


def meta_loss(net, genome, key, tasks, protocol: Protocol, loss: str = "xent"):
    """(loss, accuracy) averaged over tasks and synapse inits, differentiable with respect to the genome; both
    weighted over the horizons, the loss plus the stability term."""
    def score(k, task):
        grown, _, scored = _trained(net, genome, k, task, protocol, remat=protocol.remat)
        value = weighted([scores(*point, loss)[0] for point in scored], protocol.scoring())
        value = value + protocol.stability * grown
        return value, _accuracy(scored, protocol)

    return _over_tasks_and_inits(score, key, tasks, protocol.inits)
