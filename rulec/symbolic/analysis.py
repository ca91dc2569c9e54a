"""Is a rule's update a gradient field? The paper's section 3.5, eq. 10.

If the update were -lr times the gradient of some function of the weights, its Jacobian Q[k, m] = dΔw_k / dw_m
would be symmetric. The check runs twice:
* symbolically, on a tiny network with symbolic weights and generic activations: is Q - Q^T exactly zero?
* numerically, in float64 with jax.jacfwd, by default on the paper's setting (2 inputs, 20 hidden neurons, 2
  outputs, the Boolean xor task), or on any network, convolutional ones included, with a fixed random batch: the
  relative asymmetry |Q - Q^T| / |Q| is reported next to a noise floor, the relative difference between the
  Jacobian computed by forward-mode and by reverse-mode differentiation.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import sympy

from rulec.data.errors import DataError
from rulec.diagnostics import RuleError
from rulec.geometry import Geometry, describe, geometry
from rulec.ir import nodes as ir
from rulec.reference.interpreter import Reference
from rulec.shapes import synapse_shapes
from rulec.symbolic import refuse_what_sympy_cannot_read, too_deep
from rulec.symbolic.functions import generic_table, loss_functions
from rulec.symbolic.proofs import exact, literal_array, symbolic_draw, symbols

SYMBOLIC_SHAPE = (1, 2, 1)
NUMERIC_SHAPE = (2, 20, 2)
# The check compares every pair of weights, so its time grows with their square: beyond these it takes many
# minutes (blur with k = 64, 704 and 11648 weights, ran past 300 s). The stdlib rules have at most 44 and 728.
MAX_SYMBOLIC_WEIGHTS = 200
MAX_NUMERIC_WEIGHTS = 4096
XOR_INPUTS = np.array([[-1.0, -1.0], [-1.0, 1.0], [1.0, -1.0], [1.0, 1.0]])
XOR_LABELS = np.array([0, 1, 1, 0])
NUMERIC_EXAMPLES = len(XOR_LABELS)  # xor's, or as many random ones: on a convolutional pair each position is one more


@dataclasses.dataclass(frozen=True)
class SymbolicResult:
    symmetric: bool
    weights: int
    witness: str | None  # the first asymmetric pair and its residual


@dataclasses.dataclass(frozen=True)
class NumericResult:
    asymmetry: float
    noise: float
    weights: int

    @property
    def symmetric(self) -> bool:
        return self.asymmetry <= 10 * self.noise + 1e-12


def trainable_weights(program: ir.Program, sizes) -> int:
    return sum(math.prod(shape) for s in program.synapses if not s.fixed for shape in synapse_shapes(s, sizes))


def refuse_too_many_weights(program: ir.Program, numeric_layers: Geometry, force: bool) -> None:
    """Refuses (unless `force`) a rule whose networks hold more weights than the check compares in minutes."""
    symbolic, numeric = trainable_weights(program, SYMBOLIC_SHAPE), trainable_weights(program, numeric_layers)
    if (symbolic > MAX_SYMBOLIC_WEIGHTS or numeric > MAX_NUMERIC_WEIGHTS) and not force:
        shapes = "-".join(map(str, SYMBOLIC_SHAPE)), describe(geometry(numeric_layers))
        raise DataError(f"the gradient-field check compares every pair of weights, and this rule has {symbolic} on "
                        f"layers {shapes[0]} and {numeric} on {shapes[1]}, more than the {MAX_SYMBOLIC_WEIGHTS} and "
                        f"{MAX_NUMERIC_WEIGHTS} it checks in minutes",
                        "use smaller dims (--set) or layers (--layers), or pass --force to wait for it")


def symbolic_symmetry(program: ir.Program, genome: dict, sizes=SYMBOLIC_SHAPE) -> SymbolicResult:
    """Q - Q^T on a tiny network with one example; genome values are taken exactly.

    Raises:
        RuleError: at the rule's header when its expressions nest too deeply for SymPy.
    """
    refuse_what_sympy_cannot_read(program, "analyse this rule")
    try:
        return _symbolic_symmetry(program, genome, sizes)
    except RecursionError:
        raise RuleError([too_deep(program.rule.span, "analyse it")]) from None


def _symbolic_symmetry(program: ir.Program, genome: dict, sizes) -> SymbolicResult:
    exact_genome = {}
    for entry in program.genome:
        value = genome[entry.name]
        exact_genome[entry.name] = ([literal_array(np.asarray(v).tolist(), np.shape(v)) for v in value]
                                    if entry.per_synapse else literal_array(np.asarray(value).tolist(), entry.shape))
    synapses = {s.name: [symbols(f"{s.name}{l}", shape) for l, shape in enumerate(synapse_shapes(s, sizes))]
                for s in program.synapses}
    x = symbols("x", (1, sizes[0]))
    t = symbols("t", (1, sizes[-1]))
    reference = Reference(program, sizes, generic_table(), constant=exact, losses=loss_functions(abstract=False),
                          draw=symbolic_draw)
    updated, _ = reference.step(exact_genome, synapses, x, t)
    weights, updates = [], []
    for synapse in program.synapses:
        if synapse.fixed:
            continue
        for old, new in zip(synapses[synapse.name], updated[synapse.name]):
            weights += list(old.flat)
            updates += [n - o for n, o in zip(new.flat, old.flat)]
    for k, (w_k, update_k) in enumerate(zip(weights, updates)):
        for m in range(k + 1, len(weights)):
            residual = sympy.expand(sympy.diff(update_k, weights[m]) - sympy.diff(updates[m], w_k))
            if residual != 0:
                text = str(sympy.N(residual, 4))
                witness = f"dΔ{w_k}/d{weights[m]} - dΔ{weights[m]}/d{w_k} = " + (text[:200] + " ..." if len(text) > 200
                                                                                    else text)
                return SymbolicResult(False, len(weights), witness)
    return SymbolicResult(True, len(weights), None)


def numeric_examples(layers: Geometry) -> tuple[np.ndarray, np.ndarray, str]:
    """The numeric check's inputs, labels and their description: xor on a network of 2 inputs and 2 classes (the
    paper's setting), else a fixed batch of standard normal inputs with random labels."""
    if layers.sizes[0] == 2 and layers.sizes[-1] == 2:
        return XOR_INPUTS, XOR_LABELS, "xor"
    draw = np.random.default_rng(0)
    return (draw.standard_normal((NUMERIC_EXAMPLES, layers.sizes[0])),
            draw.integers(0, layers.sizes[-1], NUMERIC_EXAMPLES), f"{NUMERIC_EXAMPLES} random examples")


def numeric_symmetry(net, genome, state, inputs=XOR_INPUTS, labels=XOR_LABELS) -> NumericResult:
    """The relative asymmetry of dΔw/dw on the examples (xor by default; `labels` the classes of `inputs`), in
    float64, with its forward/reverse-mode noise floor."""
    import jax
    import jax.flatten_util
    import jax.numpy as jnp

    with jax.enable_x64(True):
        genome = jax.tree.map(lambda a: jnp.asarray(a, jnp.float64), genome)
        synapses = jax.tree.map(lambda a: jnp.asarray(a, jnp.float64), state.synapses)
        fixed = {s.name for s in net.rule.program.synapses if s.fixed}
        learned = {k: v for k, v in synapses.items() if k not in fixed}
        flat, unflatten = jax.flatten_util.ravel_pytree(learned)
        x = jnp.asarray(inputs, jnp.float64)
        y = jnp.asarray(np.where(np.eye(net.sizes[-1])[labels] > 0, 1.0, -1.0))

        def update(weights):
            full = dataclasses.replace(state, synapses=dict(synapses, **unflatten(weights)))
            new = net.step(genome, full, x, y).synapses
            return jax.flatten_util.ravel_pytree({k: new[k] for k in learned})[0] - weights

        forward = np.asarray(jax.jit(jax.jacfwd(update))(flat))
        reverse = np.asarray(jax.jit(jax.jacrev(update))(flat))
    scale = max(np.linalg.norm(forward), 1e-300)
    return NumericResult(float(np.linalg.norm(forward - forward.T) / scale),
                         float(np.linalg.norm(forward - reverse) / scale + np.finfo(np.float64).eps),
                         flat.size)
