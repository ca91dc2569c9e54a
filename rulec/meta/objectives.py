"""What meta-learning optimises, for one genome: train a fresh network on a task, then score it on held-out data.

`evaluate` is the paper's CMA-ES fitness and meta-validation: accuracy on held-out batches after `unroll` inner
steps. `meta_loss` is the gradient method's objective on the same protocol: softmax cross-entropy of the
output's prediction state (paper section 3.3), or the released code's L2 against the +-1 targets. Both average
over the tasks and over `inits` synapse initialisations drawn per task. With `score_at`, the network is also
scored after those earlier inner steps and the scores are averaged, which rewards a rule for learning fast all
along the unroll rather than only at its end.
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
class Protocol:
    unroll: int = 15  # inner steps, one fresh batch each
    eval_batches: int = 20
    batch: int = 128
    inits: int = 1  # synapse initialisations per task
    outputs: int = 10
    remat: bool = True
    score_at: tuple[int, ...] = ()  # earlier inner steps after which the network is scored too

    def points(self) -> list[int]:
        """The inner steps after which the network is scored: those of score_at within the unroll, and its end."""
        return sorted({p for p in self.score_at if p < self.unroll} | {self.unroll})


def _finite(tree):
    return jnp.all(jnp.asarray([jnp.all(jnp.isfinite(leaf)) for leaf in jax.tree.leaves(tree)]))


def _trained(net, genome, key, task, protocol: Protocol, remat: bool):
    """The network after the inner loop; the predictions on the held-out batches after each scoring point
    [points, batches, batch, task classes]; the held-out targets and labels."""
    init_key, train_key, held_key = jax.random.split(key, 3)
    xs, ys, _ = sample(train_key, task.train, protocol.unroll, protocol.batch, protocol.outputs)
    held_xs, held_ys, labels = sample(held_key, task.held_out, protocol.eval_batches, protocol.batch, protocol.outputs)
    state, done, logits = net.init(init_key), 0, []
    for point in protocol.points():
        state = net.unroll(genome, state, xs[done:point], ys[done:point], remat=remat)
        logits.append(jax.vmap(lambda x, state=state: net.predict(genome, state, x))(held_xs))
        done = point
    # A task with fewer classes than the shared network has outputs is scored on its own outputs only, as if
    # it had its own head: xor's prediction is the larger of outputs 0 and 1, never blobs' output 4.
    return state, jnp.stack(logits)[..., :task.classes], held_ys[..., :task.classes], labels


def _over_tasks_and_inits(score, key, tasks, inits: int):
    """Mean of score(key, task) over the tasks and `inits` keys per task."""
    results = [jax.vmap(lambda k, task=task: score(k, task))(jax.random.split(jax.random.fold_in(key, i), inits))
               for i, task in enumerate(tasks)]
    return jax.tree.map(lambda *parts: jnp.mean(jnp.stack(parts)), *results)


def evaluate(net, genome, key, tasks, protocol: Protocol):
    """(accuracy, diverged): mean held-out accuracy after the inner loop; WORST if any synapse went non-finite."""
    def score(k, task):
        state, logits, _, labels = _trained(net, genome, k, task, protocol, remat=False)
        return jnp.mean(jnp.argmax(logits, -1) == labels[None]), (~_finite((state.synapses, state.neurons))
                                                                   ).astype(jnp.float32)

    accuracy, diverged = _over_tasks_and_inits(score, key, tasks, protocol.inits)
    diverged = (diverged > 0) | ~jnp.isfinite(accuracy)
    return jnp.where(diverged, WORST, accuracy), diverged


def meta_loss(net, genome, key, tasks, protocol: Protocol, loss: str = "xent"):
    """(loss, accuracy) averaged over tasks and synapse inits, differentiable with respect to the genome."""
    def score(k, task):
        _, logits, targets, labels = _trained(net, genome, k, task, protocol, remat=protocol.remat)
        if loss == "l2":
            value = jnp.mean((logits - targets[None]) ** 2)
        else:
            value = jnp.mean(optax.softmax_cross_entropy_with_integer_labels(logits, labels[None]))
        return value, jnp.mean(jnp.argmax(logits, -1) == labels[None])

    return _over_tasks_and_inits(score, key, tasks, protocol.inits)
