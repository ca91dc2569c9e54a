"""Constants, folded once at check time: every constant in a rule is a finite float32 number, or a located error.

Initialisers are folded here and only here: `lr = 1 / 0` or `nu ~ normal(0, 1e400)` is refused by `rulec check`,
and the folded initialisers (each constant part replaced by its value; draws, `fan_in` and `fan_out` kept) are
what later stages evaluate. Constant parts of equations and `prove` arguments are checked the same way but left
as written, so that the printer, the proofs and the lowering see them as the user wrote them.

Every constant must fit float32, the precision rules train and compile in: `1e39` is a finite Python float but
float32 rounds it to inf, so it is refused like `1e400` rather than turning a genome infinite at run time.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping

import numpy as np

from rulec.check.symbols import Symbols
from rulec.diagnostics import Diagnostic, Span
from rulec.functions import ELEMENTWISE, TWO_ARGUMENT_FUNCTIONS, elementwise_table
from rulec.initializers import evaluate
from rulec.syntax import ast

FLOAT32_MAX = float(np.finfo(np.float32).max)
_FUNCTIONS = elementwise_table(np)


@dataclasses.dataclass
class _Folder:
    """Folds expressions bottom-up, evaluating one operator at a time so that an error points at the operator
    that produced it, and collecting those errors."""

    dims: Mapping[str, int]
    errors: list[Diagnostic] = dataclasses.field(default_factory=list)

    def fold(self, e: ast.Expr) -> ast.Expr:
        if isinstance(e, ast.Number):
            self.check(e.value, e.span, literal=True)
            return e
        if isinstance(e, ast.Ref):
            return ast.Number(float(self.dims[e.name]), e.span) if not e.indices and e.name in self.dims else e
        if isinstance(e, ast.Neg):
            folded: ast.Expr = dataclasses.replace(e, operand=self.fold(e.operand))
        elif isinstance(e, ast.Binary):
            folded = dataclasses.replace(e, left=self.fold(e.left), right=self.fold(e.right))
        elif isinstance(e, ast.Compare):  # comparisons and their indices are left to the interpreters
            return dataclasses.replace(e, left=self.fold(e.left), right=self.fold(e.right))
        elif isinstance(e, ast.Call):
            folded = dataclasses.replace(e, args=tuple(self.fold(arg) for arg in e.args))
            if e.function in TWO_ARGUMENT_FUNCTIONS:
                return folded
        else:
            return dataclasses.replace(e, body=self.fold(e.body))
        return self.evaluate(folded) if _is_constant(folded) else folded

    def evaluate(self, e: ast.Expr) -> ast.Expr:
        """`e`, whose operands are numbers, as one number; or `e` itself when that is no finite float32, so that
        the expressions around it are not reported again."""
        with np.errstate(all="ignore"):  # inf and nan are values here, reported below with their location
            value = float(evaluate(_in_float64(e), (), {}, None, _FUNCTIONS))
        return ast.Number(value, e.span) if self.check(value, e.span, literal=False) else e

    def check(self, value: float, span: Span, literal: bool) -> bool:
        if not math.isfinite(value):
            message = ("this number is too large to represent" if literal else
                       f"this constant is {'infinite' if math.isinf(value) else 'not a number (NaN)'}")
            hint = (f"numbers in a rule must fit float32, up to about {FLOAT32_MAX:.1e}" if literal else
                    "look for a division by zero, the log of zero, the root of a negative number or an overflow")
            self.errors.append(Diagnostic(span, message, hint, "not-finite"))
            return False
        if abs(value) > FLOAT32_MAX:
            self.errors.append(Diagnostic(span, f"this constant, {value:.3g}, overflows float32",
                                          f"rules run in float32, whose largest number is about {FLOAT32_MAX:.1e}; "
                                          "this one would become infinite", "float32-overflow"))
            return False
        return True


def _is_constant(e: ast.Expr) -> bool:
    if isinstance(e, ast.Neg):
        return isinstance(e.operand, ast.Number)
    if isinstance(e, ast.Binary):
        return isinstance(e.left, ast.Number) and isinstance(e.right, ast.Number)
    return (isinstance(e, ast.Call) and e.function in ELEMENTWISE and not e.primes and not e.selector
            and len(e.args) == 1 and isinstance(e.args[0], ast.Number))


def _in_float64(e: ast.Expr) -> ast.Expr:
    """`e` with its number operands as numpy float64, which gives inf or nan where Python floats raise."""
    def wide(operand):
        return dataclasses.replace(operand, value=np.float64(operand.value))

    if isinstance(e, ast.Neg):
        return dataclasses.replace(e, operand=wide(e.operand))
    if isinstance(e, ast.Binary):
        return dataclasses.replace(e, left=wide(e.left), right=wide(e.right))
    assert isinstance(e, ast.Call), e  # `_is_constant` holds
    return dataclasses.replace(e, args=(wide(e.args[0]),))


def _numbers(literal: ast.Literal | ast.PresetCall):
    if isinstance(literal, ast.Number):
        yield literal
    elif isinstance(literal, ast.PresetCall):
        for arg in literal.args:
            yield from _numbers(arg)
    else:
        for row in literal.rows:
            yield from _numbers(row)


def constant_value(e: ast.Expr, dims: Mapping[str, int]) -> float | None:
    """The value of `e` when it folds to one number (literals, dims and arithmetic on them), else None. Errors in
    it are left to `fold_constants`, which reports them."""
    folded = _Folder(dims).fold(e)
    return folded.value if isinstance(folded, ast.Number) else None


def fold_constants(rule: ast.Rule, symbols: Symbols) -> tuple[dict[str, ast.Expr], list[Diagnostic]]:
    """The folded initialiser of every genome entry and synapse that has one, and the errors in any constant:
    each must be finite and fit float32 (`lr = 1 / 0`, `lr = 1e400`, `lr = 1e39` are refused)."""
    folder = _Folder(symbols.dims)
    initialisers = {entry.name: folder.fold(entry.init) for entry in rule.genome}
    initialisers.update({s.name: folder.fold(s.init) for s in rule.synapses if s.init is not None})
    for statement in (s for phase in rule.phases for s in phase.body):
        folder.fold(statement.value)
    for arg in (a for proof in rule.proofs for a in proof.args):
        folder.fold(arg.value)
    for number in (n for preset in rule.presets for entry in preset.entries for n in _numbers(entry.value)):
        folder.fold(number)
    for bias in rule.biases:
        folder.check(bias.value, bias.span, literal=True)
    for bound in (n for entry in rule.genome for n in entry.bounds or ()):
        folder.check(bound.value, bound.span, literal=True)
    return initialisers, folder.errors

