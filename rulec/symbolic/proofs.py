"""Proves `prove sgd(loss = ..., lr = ...)`: one step of the rule is one step of gradient descent.

The proof runs the rule's own equations, through the reference interpreter, on small networks whose weights
(biases included), inputs and targets are SymPy symbols and whose activations are generic differentiable
functions. For every weight it then shows that the rule's update minus (-lr * dL/dw) expands to zero, where L is
the loss of the rule's own prediction h, summed over examples and outputs: (h - t)^2 / 2 for `mse`,
log(1 + exp(-t h)) for `logistic`, and a generic differentiable l(h, t) for `any`, which holds only when the
rule's feedback is written with `loss'(h, t)`. A failure names the weight, prints the residual, and evaluates a
numeric counter-example.
"""

from __future__ import annotations

import dataclasses
import operator
import time
from collections.abc import Sequence

import numpy as np
import sympy

from rulec.functions import elementwise_table
from rulec.initializers import evaluate as initial_value
from rulec.geometry import geometry
from rulec.ir import nodes as ir
from rulec.ir.schedule import PHASE_ORDER
from rulec.reference.interpreter import Reference
from rulec.shapes import Layers, genome_shapes, instance_roles, synapse_shapes
from rulec.losses import ANY_LOSS, LOSSES
from rulec.preset_functions import preset_array
from rulec.symbolic.functions import Generic, GenericLoss, generic_table, loss_functions, numeric, total_loss
from rulec.syntax import ast

# Two shapes, one with two hidden layers, and a batch of 2 (so that the sum over the batch is checked too).
SHAPES = ((2, 2, 1), (1, 2, 2, 1))
# A loss that couples the outputs is trivial on one output (softmax of one logit is 1): prove it on two.
COUPLED_SHAPES = ((2, 2, 2), (1, 2, 2, 2))
BATCH = 2


@dataclasses.dataclass(frozen=True)
class Failure:
    weight: str
    residual: sympy.Expr
    rule_update: float
    gradient_step: float
    point: str


@dataclasses.dataclass(frozen=True)
class ProofResult:
    claim: str
    shapes: tuple[tuple[int, ...], ...]
    batch: int
    seconds: float
    failure: Failure | None
    failing_shape: tuple[int, ...] | None = None
    loss: str = "mse"

    @property
    def proved(self) -> bool:
        return self.failure is None


def exact(value: float) -> sympy.Expr:
    """A number as SymPy reads it from the rule's text: 0.1 is exactly 1/10."""
    return sympy.Rational(repr(float(value))) if value != int(value) else sympy.Integer(int(value))


def literal_array(value, shape) -> np.ndarray:
    """A preset value as an exact object array of the entry's shape (one number fills it)."""
    data = preset_array(value, shape)
    result = np.empty(shape, dtype=object)
    for index in np.ndindex(shape):
        result[index] = exact(data[index])
    return result


def symbols(name: str, shape) -> np.ndarray:
    result = np.empty(shape, dtype=object)
    for index in np.ndindex(shape):
        result[index] = sympy.Symbol(f"{name}[{','.join(map(str, index))}]" if index else name, real=True)
    return result


def symbolic_draw(e: ir.Draw, roles: dict[str, int], shape) -> np.ndarray:
    """A draw inside a step as symbols, one per element: a claim proved with them holds for every draw. The
    name says the draw site and the instance, so the step and the forward pass of one proof share them."""
    instance = ",".join(f"{role}={layer}" for role, layer in sorted(roles.items()))
    return symbols(f"{e.distribution}{e.site}({instance})", shape)


_NUMPY = elementwise_table(np)  # evaluates a constant's declared initialiser, as `train` does


def symbolic_genome(program: ir.Program, sizes, preset: str | None) -> dict:
    """The genome: without a preset, a symbol for every entry; under a preset, the genome `train --preset` runs,
    exactly: the preset's values, and the declared value of every constant it does not set (a preset sets every
    drawn entry)."""
    values = dict(program.presets.get(preset, {})) if preset else {}
    if preset:
        values.update({entry.name: initial_value(entry.init, (), dict(program.dims), None, _NUMPY)
                       for entry in program.genome if entry.name not in values and not entry.sampled})
    genome = {}
    for entry in program.genome:
        shapes = genome_shapes(entry, sizes) if entry.per_synapse else [entry.shape]
        arrays = [literal_array(values[entry.name], shape) if entry.name in values
                  else symbols(f"{entry.name}{i}" if entry.per_synapse else entry.name, shape)
                  for i, shape in enumerate(shapes)]
        genome[entry.name] = arrays if entry.per_synapse else arrays[0]
    return genome


def scalar_value(expr: ast.Expr, genome: dict, dims: dict) -> sympy.Expr:
    """The value of a `prove` argument such as `lr = -eta_w`, from the genome."""
    if isinstance(expr, ast.Number):
        return exact(expr.value)
    if isinstance(expr, ast.Ref):
        return sympy.Integer(dims[expr.name]) if expr.name in dims else genome[expr.name].item()
    if isinstance(expr, ast.Neg):
        return -scalar_value(expr.operand, genome, dims)
    return expr.op.apply(scalar_value(expr.left, genome, dims), scalar_value(expr.right, genome, dims))


def prove_sgd(program: ir.Program, proof: ast.Prove, shapes: Sequence[Layers] | None = None) -> ProofResult:
    """Checks the claim on every shape in SHAPES (or `shapes`: layers as `Rule.network` takes them, convolutional
    ones too); returns the first failure, if any."""
    start = time.perf_counter()
    preset = proof.preset.id if proof.preset else None
    arguments = {arg.name: arg.value for arg in proof.args}
    loss = arguments["loss"].name if "loss" in arguments else "mse"
    if shapes is None:
        shapes = COUPLED_SHAPES if loss in LOSSES and LOSSES[loss].couples_outputs else SHAPES
    for sizes in shapes:
        failure = _check_shape(program, sizes, preset, arguments["lr"], loss)
        if failure is not None:
            return ProofResult(describe(proof), shapes, BATCH, time.perf_counter() - start, failure, sizes, loss)
    return ProofResult(describe(proof), shapes, BATCH, time.perf_counter() - start, None, None, loss)


def describe(proof: ast.Prove) -> str:
    from rulec.syntax.printer import expr

    args = ", ".join(f"{a.name} = {expr(a.value)}" for a in proof.args)
    return f"{proof.claim}({args})" + (f" under preset {proof.preset.id}" if proof.preset else "")


def _check_shape(program: ir.Program, sizes: Layers, preset, lr_expr, loss_name: str) -> Failure | None:
    genome = symbolic_genome(program, sizes, preset)
    lr = scalar_value(lr_expr, genome, program.dims)
    synapses = {s.name: [symbols(f"{s.name}{l}", shape) for l, shape in enumerate(synapse_shapes(s, sizes))]
                for s in program.synapses}
    x = symbols("x", (BATCH, geometry(sizes).sizes[0]))
    t = symbols("t", (BATCH, geometry(sizes).sizes[-1]))
    reference = Reference(program, sizes, generic_table(), constant=exact,
                          losses=loss_functions(abstract=loss_name == ANY_LOSS), draw=symbolic_draw)
    updated, _ = reference.step(genome, synapses, x, t, PHASE_ORDER)
    prediction = reference.predict(genome, synapses, x)
    loss = total_loss(loss_name, prediction, t, abstract=loss_name == ANY_LOSS)
    for synapse in program.synapses:
        if synapse.fixed:
            continue
        placed = instance_roles(synapse.scheme, len(geometry(sizes).sizes) - 1)
        for layer, (old, new) in enumerate(zip(synapses[synapse.name], updated[synapse.name])):
            for index in np.ndindex(old.shape):
                weight = old[index]
                residual = sympy.expand((new[index] - weight) + lr * sympy.diff(loss, weight))
                if residual != 0:
                    residual = sympy.simplify(residual)
                if residual != 0:
                    # The layers the instance joins: adjacent for a pair, the input and output for a skip synapse.
                    source, target = (placed[layer][end[0]] for end in (synapse.source, synapse.target))
                    name = (f"{synapse.name}{layer}[{', '.join(map(str, index))}] (from neuron {index[0]} of layer "
                            f"{source} to neuron {index[1]} of layer {target})")
                    return _counterexample(name, residual, new[index] - weight, -lr * sympy.diff(loss, weight),
                                           program)
    return None


def _counterexample(name, residual, update, gradient_step, program) -> Failure:
    """Evaluates both sides at random inputs, weights and genome values, with the rule's concrete activations."""
    rng = np.random.default_rng(0)
    free = sorted(residual.free_symbols | update.free_symbols | gradient_step.free_symbols, key=str)
    point = {s: round(float(rng.uniform(-1, 1)), 3) for s in free}
    shown = ", ".join(f"{s} = {v}" for s, v in list(point.items())[:8]) + (", ..." if len(point) > 8 else "")
    return Failure(name, residual, evaluate(update, point), evaluate(gradient_step, point), shown)


def evaluate(expression: sympy.Expr, point: dict) -> float:
    """The value of an expression at `point`, reading each generic activation as the rule's concrete one."""
    if isinstance(expression, sympy.Symbol):
        return point[expression]
    if expression.is_Number:
        return float(expression)
    if isinstance(expression, sympy.Piecewise):  # the first branch whose condition holds, as SymPy reads it
        return next(evaluate(branch, point) for branch, condition in expression.args if holds(condition, point))
    values = [evaluate(arg, point) for arg in expression.args]
    if isinstance(expression, Generic):
        return float(numeric(expression.activation, expression.order)(np.asarray(values[0])))
    if isinstance(expression, GenericLoss):  # read as the squared error
        return [(values[0] - values[1]) ** 2 / 2, values[0] - values[1], 1.0, 0.0][min(expression.order, 3)]
    if isinstance(expression, sympy.Add):
        return float(sum(values))
    if isinstance(expression, sympy.Mul):
        return float(np.prod(values))
    if isinstance(expression, sympy.Pow):
        return float(values[0] ** values[1])
    return float(sympy.N(expression.func(*[sympy.Float(v) for v in values])))


_COMPARISONS = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge, "==": operator.eq,
                "!=": operator.ne}


def holds(condition: sympy.Basic, point: dict) -> bool:
    """Whether a condition of a piecewise expression (a piecewise loss's branches) holds at `point`."""
    if isinstance(condition, sympy.logic.boolalg.BooleanAtom):
        return bool(condition)
    if isinstance(condition, sympy.core.relational.Relational):
        return _COMPARISONS[condition.rel_op](evaluate(condition.lhs, point), evaluate(condition.rhs, point))
    if isinstance(condition, sympy.Not):
        return not holds(condition.args[0], point)
    if isinstance(condition, (sympy.And, sympy.Or)):
        return (all if isinstance(condition, sympy.And) else any)(holds(c, point) for c in condition.args)
    raise TypeError(f"cannot evaluate the condition {condition}")  # SymPy builds no other from our losses
