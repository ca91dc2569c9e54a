"""The embedding API: load a rule, build a network, and step, predict or unroll it inside your own JAX code.

    >>> import jax, rulec
    >>> rule = rulec.load("stdlib_rules/blur.rule", k=2)
    >>> net = rule.network([4, 8, 3])
    >>> genome = rule.init_genome(jax.random.key(0))
    >>> state = net.init(jax.random.key(1))
    >>> x, y = jax.numpy.ones((5, 4)), -jax.numpy.ones((5, 3))
    >>> state = net.step(genome, state, x, y)
    >>> net.predict(genome, state, x).shape
    (5, 3)

Every function is pure: jit, vmap (populations of genomes and synapse initialisations) and grad (with respect to
the genome, through `unroll`) compose with it. The state is a `NetworkState` pytree (rulec/lower/network_state.py):
synapses, persistent neurons, the key of the rule's draws and the step counter. Synapses are stored
channel-major: a synapse `w[k] : pre+bias -> post` is, per adjacent pair, an array [k, pre + 1, post] whose last
source row is the bias unit.
"""

from __future__ import annotations

import hashlib
import math
import warnings
from collections.abc import Sequence
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from rulec.check import CheckedRule
from rulec.diagnostics import Diagnostic, RuleError, RuleWarning, render
from rulec.frontend import check_text, read_rule_file
from rulec.functions import elementwise_table
from rulec.geometry import Geometry, LayerSpec, geometry, parse_spec
from rulec.ir import nodes as ir
from rulec.ir import liveness, resolve, verify
from rulec.ir.lint import lint, raise_errors
from rulec.lower.contraction import FORMS
from rulec.lower.jax_step import JaxStep
from rulec.lower.network_state import NetworkState
from rulec.preset_functions import preset_array
from rulec.shapes import init_genome, init_synapses
from rulec.ir.specialize import specialize as specialize_program
from rulec.syntax.printer import print_rule

_FUNCTIONS = elementwise_table(jnp)


def load(path: str | Path, **dims: int) -> Rule:
    """Parses, checks and resolves a rule file; dims override the file's (`k=8`). Raises RuleError. Its warnings
    (rulec/ir/lint.py) are issued as RuleWarnings and kept on `Rule.warnings`."""
    return loads(read_rule_file(path), str(path), **dims)


def loads(text: str, name: str = "<string>", **dims: int) -> Rule:
    """Like `load`, for rule text held in a string."""
    rule = Rule(check_text(text, name, dims))
    for warning in rule.warnings:
        warnings.warn(render(warning), RuleWarning, stacklevel=2)
    return rule


DRAWS_STREAM = 2**31 - 1  # folded into `init`'s key for the steps' draws, apart from the keys `_sampler` splits
FIRST_KEYS = 64  # keys split at first; when a network has more arrays to draw, twice as many, and so on


def _sampler(key):
    """`sample(kind, a, b, shape)`, drawing each array with the next key split from `key`, as many as the network
    needs. JAX's `split` (partitionable threefry, its default) gives the same first keys whatever the count, so a
    network with at most FIRST_KEYS arrays draws what it drew when that was a fixed limit."""
    keys, used = jax.random.split(key, FIRST_KEYS), 0

    def sample(kind, a, b, shape):
        nonlocal keys, used
        if used == len(keys):
            keys = jax.random.split(key, 2 * len(keys))
        subkey, used = keys[used], used + 1
        if kind == "normal":
            return a + b * jax.random.normal(subkey, shape)
        return jax.random.uniform(subkey, shape, minval=a, maxval=b)

    return sample


class Rule:
    """A checked rule, ready to build networks."""

    def __init__(self, checked: CheckedRule):
        self.checked = checked
        self.program: ir.Program = resolve(checked)
        if verify.enabled():
            verify.verify(self.program)
        self.warnings: tuple[Diagnostic, ...] = tuple(raise_errors(lint(self.program)))
        self.name = self.program.name
        self.dims = dict(self.program.dims)
        # The hash of the canonical text: comments and layout do not change it, every equation does.
        self.source_hash = hashlib.sha256(print_rule(checked.rule).encode()).hexdigest()

    def __repr__(self) -> str:
        dims = ", ".join(f"{k}={v}" for k, v in self.dims.items())
        return f"Rule({self.name}{', ' + dims if dims else ''})"

    @property
    def per_synapse_genome(self) -> tuple[str, ...]:
        return tuple(g.name for g in self.program.genome if g.per_synapse)

    def init_genome(self, key, dtype=jnp.float32) -> dict:
        """Draws a genome from the declared initialisers. Per-synapse entries need `network(...).init_genome`."""
        if self.per_synapse_genome:
            raise RuleError([Diagnostic(self.program.rule.span, f"rule `{self.name}` has per-synapse genome "
                                        f"entries ({', '.join(self.per_synapse_genome)}), whose shapes depend on the "
                                        "network", "use `rule.network(sizes).init_genome(key)`", "per-synapse")])
        return self.network((1, 1)).init_genome(key, dtype)

    def preset(self, name: str | None = None, dtype=jnp.float32,
               sizes: Sequence[LayerSpec] | Geometry | str = (1, 1)) -> dict:
        """The genome of a named preset (the default preset when `name` is None)."""
        name = name or self.program.default_preset
        if name not in self.program.presets:
            known = ", ".join(self.program.presets) or "none"
            raise RuleError([Diagnostic(self.program.rule.span, f"rule `{self.name}` has no preset `{name}`",
                                        f"its presets: {known}", "unknown-preset")])
        values = self.program.presets[name]
        genome = self.network(sizes).init_genome(jax.random.key(0), dtype)
        for entry, value in values.items():
            current = genome[entry]
            if isinstance(current, list):
                genome[entry] = [jnp.asarray(preset_array(value, a.shape), dtype) for a in current]
            else:
                genome[entry] = jnp.asarray(preset_array(value, current.shape), dtype)
        return genome

    def network(self, sizes: Sequence[LayerSpec] | Geometry | str, specialize: dict | None = None,
                prune: bool = True, contraction: str = "auto") -> Network:
        """A network with the given layers, input first: sizes of dense layers (`[784, 256, 10]`), or a
        convolutional network such as `[(28, 28, 1), rulec.Conv(16, 5, stride=2), 256, 10]`, also written as the
        string `"28x28x1,conv16k5s2,256,10"` (see rulec/geometry.py and docs/language.md). `specialize` folds a fixed genome into the program;
        the network's `step`, `predict` and `unroll` then refuse another genome, and a gradient with respect to it.
        `prune` (dead-state elimination) lets `unroll` and `predict` skip the writes that no later step nor
        `predict` reads: asymmetric BLUR's backward weights into the input layer, for example, then keep their
        initial values. `step` is always the complete step. `contraction` says how state-mixing matrices enter a
        contraction: "mix" (into the activations first), "fold" (into the weights, one larger matmul) or "auto"
        (the cheaper by a FLOP model, per contraction; see rulec/lower/contraction.py)."""
        return Network(self, geometry(parse_spec(sizes) if isinstance(sizes, str) else sizes), specialize, prune,
                       contraction)


class Network:
    """Pure functions of one rule on one network shape."""

    def __init__(self, rule: Rule, layers: Geometry, specialize: dict | None, prune: bool = True,
                 contraction: str = "auto"):
        self.rule = rule
        self.geometry = layers
        self.sizes = layers.sizes  # the neurons of each layer, an image layer's flattened
        self._given = specialize
        self.specialized = None if specialize is None else jax.tree.map(np.asarray, specialize)
        program = rule.program if self.specialized is None else specialize_program(rule.program, self.specialized)
        if verify.enabled():
            verify.verify(program)
        if contraction not in FORMS:
            raise ValueError(f"contraction must be one of {', '.join(FORMS)}, got {contraction!r}")
        self.lowered = JaxStep(program, layers, prune, contraction)

    @property
    def pruned(self) -> liveness.Pruned | None:
        """What `unroll` and `predict` leave out (rulec/ir/liveness.py); None when built with `prune=False`."""
        return self.lowered.pruned

    def init(self, key, dtype=jnp.float32) -> NetworkState:
        """The state before the first step: the synapses drawn from `key` (fixed ones included, channel-major,
        {name: [array per instance]}), the persistent neurons ([array per layer]) and persistent scalars (an array
        of shape ()) at their initial values, the key of the steps' draws (derived from `key`) and the step
        counter at 0."""
        program = self.rule.program
        synapses = init_synapses(program, self.geometry, _sampler(key), _FUNCTIONS)
        neurons: dict[str, list[jax.Array] | jax.Array] = {
            n.name: [jnp.full((size,) + ((n.states,) if n.states else ()), n.initial, dtype) for size in self.sizes]
            for n in program.neurons if n.initial is not None}  # the persistent ones
        neurons.update({s.name: jnp.full((), s.initial, dtype) for s in program.scalars})
        return NetworkState({name: [channel_major(jnp.asarray(a, dtype)) for a in arrays]
                             for name, arrays in synapses.items()},
                            neurons, jax.random.fold_in(key, DRAWS_STREAM), jnp.zeros((), jnp.int32))

    def init_genome(self, key, dtype=jnp.float32) -> dict:
        broadcast = lambda value, shape: jnp.broadcast_to(jnp.asarray(value, dtype), shape)  # noqa: E731
        return init_genome(self.rule.program, self.geometry, _sampler(key), _FUNCTIONS, broadcast)

    def _genome(self, genome):
        return genome if self.specialized is None else self._folded(genome)

    def _folded(self, genome):
        """The folded genome, after refusing a `genome` argument that cannot be it.

        A specialised network computes with the genome it was built with, whatever it is passed. Rather than warn,
        it refuses what would otherwise give silently wrong numbers: a genome with other values (checked when the
        arrays are concrete), and differentiation with respect to the genome, whose gradient would be zero. Under
        `jit` the values are unknown, so the argument's structure is checked and its values are not: pass the
        folded genome, or None. Build the network without `specialize` to vary or differentiate the genome."""
        if genome is None or genome is self._given:
            return self.specialized
        leaves, structure = jax.tree.flatten(genome)
        folded, folded_structure = jax.tree.flatten(self.specialized)
        if structure != folded_structure:
            raise ValueError(f"this network was specialised to a genome of entries {sorted(self.specialized)}; "
                             "pass that genome, or None")
        for leaf, value in zip(leaves, folded):
            if isinstance(leaf, jax.core.Tracer):
                _refuse_derivative(leaf)  # the tracer of a `jit` passes; differentiating raises
            elif not np.array_equal(np.asarray(leaf), value):
                raise ValueError("this network was specialised to another genome, which is folded into its "
                                 "program; pass that genome (or None), or build the network without `specialize` "
                                 "to run this one")
        return self.specialized

    def _refuse_shapes(self, x, y=None, axes: str = "batch") -> None:
        """A ValueError saying what to pass, for inputs or targets whose shape is not [`axes`, layer size], rather
        than an error from inside the lowering: an image input is passed flat."""
        for name, array, size in (("x", x, self.sizes[0]), ("y", y, self.sizes[-1])):
            shape = np.shape(array) if array is not None else None
            if shape is not None and (len(shape) != len(axes.split(", ")) + 1 or shape[-1] != size):
                image = self.geometry.images[0] if name == "x" else None
                how = (f", the {'x'.join(map(str, image))} images flattened (height x width x channels, as "
                       "x.reshape(len(x), -1) does)" if image else "")
                raise ValueError(f"{name} has shape {list(shape)}, and this network takes {name} [{axes}, {size}]"
                                 + how)

    def step(self, genome, state, x, y):
        """One inner step on a batch: x [batch, inputs], y [batch, outputs] (+-1 one-hot). Returns the new state."""
        self._refuse_shapes(x, y)
        return self.lowered.step(self._genome(genome), state, x, y)

    def predict(self, genome, state, x):
        """The forward pass: state 0 of the output layer, [batch, outputs]."""
        self._refuse_shapes(x)
        return self.lowered.predict(self._genome(genome), state, x)

    def unroll(self, genome, state, xs, ys, remat: bool = True):
        """`step` over the leading axis of xs and ys with lax.scan, skipping what `prune` found dead: the
        synapses that no later step nor `predict` reads keep the values they have in `state`.

        With `remat`, gradients through the unroll are rematerialised in two levels (jax.checkpoint): the steps
        are scanned in blocks of about sqrt(n), only the state at block boundaries is kept, and each block's steps
        are recomputed in the backward pass. Memory then grows like sqrt(n) instead of n.
        """
        self._refuse_shapes(xs, ys, "steps, batch")
        genome = self._genome(genome)

        def body(carry, batch):
            return self.lowered.step(genome, carry, *batch, in_unroll=True), None

        if not remat:
            return jax.lax.scan(body, state, (xs, ys))[0]
        steps = xs.shape[0]
        size = max(1, round(math.sqrt(steps)))
        blocks, rest = divmod(steps, size)
        checkpointed = jax.checkpoint(body)

        @jax.checkpoint
        def block(carry, batch):
            return jax.lax.scan(checkpointed, carry, batch)[0], None

        head = jax.tree.map(lambda a: a[:blocks * size].reshape((blocks, size) + a.shape[1:]), (xs, ys))
        state = jax.lax.scan(block, state, head)[0]
        if rest:
            state = jax.lax.scan(checkpointed, state, jax.tree.map(lambda a: a[blocks * size:], (xs, ys)))[0]
        return state


@jax.custom_jvp
def _refuse_derivative(leaf):
    return leaf


@_refuse_derivative.defjvp
def _refuse_derivative_jvp(primals, tangents):
    raise ValueError("a specialised network's genome is folded into its program, so its derivative with respect "
                     "to the genome it is passed would be zero; differentiate a network built without `specialize`")


def channel_major(array):
    """[source, target, channels...] -> [channels..., source, target]."""
    return jnp.moveaxis(array, (0, 1), (-2, -1)) if array.ndim > 2 else array


def source_major(array):
    """[channels..., source, target] -> [source, target, channels...], the reference interpreter's layout."""
    return jnp.moveaxis(array, (-2, -1), (0, 1)) if array.ndim > 2 else array
