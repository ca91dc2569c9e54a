"""Genome specialisation: with the genome fixed, simplify the equations before they are lowered.

* Every statement is unrolled over its free state indices (up to UNROLL_LIMIT combinations), so `a[j, c] := ...`
  becomes one equation per state, and a let `z[j, c]` one let per state.
* Sums over state indices are expanded, and genome entries become constants: terms multiplied by zero are
  dropped and ones are folded. A sum over neurons of such an expansion is distributed over its terms, so that
  each is one contraction.
* Channels that come out identical compute the same expression; XLA's common-subexpression elimination then
  computes it once for all of them.

Under the backprop preset, the two-state template's forward pass `phi[c](eta * sum(i, d) w[i, j] * nu[d, c] *
a[i, d])` becomes sigmoid and sigmoid' of a single `sum(i) w[i, j] * a[i, 0]`: the same work as SGD.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Sequence
from typing import TypeGuard, assert_never

import numpy as np

from rulec.ir import nodes as ir
from rulec.syntax.ast import BinOp, Reducer

UNROLL_LIMIT = 64


def specialize(program: ir.Program, genome: dict) -> ir.Program:
    """The program with the genome's shared entries folded in (per-synapse entries stay inputs)."""
    constants = {g.name: np.asarray(genome[g.name], dtype=np.float64) for g in program.genome
                 if not g.per_synapse and g.name in genome}
    phases = tuple(dataclasses.replace(p, statements=_Phase(constants).run(p.statements)) for p in program.phases)
    return dataclasses.replace(program, phases=phases)


class _Phase:
    def __init__(self, constants):
        self.constants = constants
        self.unrolled: dict[str, tuple[int, ...]] = {}  # let name -> positions of its unrolled state indices

    def run(self, statements) -> tuple[ir.Statement, ...]:
        out: list[ir.Statement] = []
        for statement in statements:
            out += self.statement(statement)
        return tuple(out)

    def statement(self, statement: ir.Statement) -> list[ir.Statement]:
        states = [(i, p) for i, p in enumerate(statement.positions) if isinstance(p, ir.State)]
        ranges = {r.index: (r.low, r.high) for r in getattr(statement, "ranges", ())}
        values = [range(*ranges.get(p.index, (0, p.extent))) for _, p in states]
        combinations = list(itertools.product(*values))
        if len(combinations) > UNROLL_LIMIT or not states:
            return [self.fold_statement(statement, {})]
        if isinstance(statement, ir.Let):
            self.unrolled[statement.name] = tuple(i for i, _ in states)
        result = []
        for combination in combinations:
            mapping = {p.index: v for (_, p), v in zip(states, combination)}
            result.append(self.fold_statement(statement, mapping))
        return result

    def fold_statement(self, statement: ir.Statement, mapping: dict) -> ir.Statement:
        positions = tuple(_position(p, mapping) for p in statement.positions)
        value = self.fold(statement.value, mapping)
        if isinstance(statement, ir.Let):
            if mapping:
                suffix = "@" + "@".join(str(mapping[p.index]) for p in statement.positions
                                        if isinstance(p, ir.State))
                name = statement.name + suffix
                positions = tuple(p for p in positions if not isinstance(p, ir.StateAt))
                return ir.Let(name, positions, value, statement.span)
            return dataclasses.replace(statement, value=value)
        ranges = tuple(r for r in statement.ranges if r.index not in mapping)
        return dataclasses.replace(statement, positions=positions, ranges=ranges, value=value)

    # ---- expressions -----------------------------------------------------------------------------------------

    def fold(self, e: ir.Expr, mapping: dict) -> ir.Expr:
        match e:
            case ir.Const():
                return e
            case ir.Load():
                return self.load(e, mapping)
            case ir.Neg():
                return _negate(self.fold(e.arg, mapping), e.span)
            case ir.Arith():
                return _arith(e.op, self.fold(e.left, mapping), self.fold(e.right, mapping), e.span)
            case ir.Func():
                return ir.Func(e.name, e.primes, self.fold(e.arg, mapping), e.span)
            case ir.Loss():
                return ir.Loss(e.name, e.primes, self.fold(e.prediction, mapping), self.fold(e.target, mapping), e.span)
            case ir.Pairwise():
                return ir.Pairwise(e.name, self.fold(e.left, mapping), self.fold(e.right, mapping), e.span)
            case ir.IndexCompare() | ir.Size():
                return e
            case ir.PerState():
                selector = _position(e.selector, mapping)
                arg = self.fold(e.arg, mapping)
                if isinstance(selector, ir.StateAt):
                    name, primes = e.functions[selector.value]
                    return ir.Func(name, primes, arg, e.span)
                return ir.PerState(e.functions, selector, arg, e.span)
            case ir.Draw():  # its indices are neuron indices: only its arguments fold
                return dataclasses.replace(e, args=tuple(self.fold(a, mapping) for a in e.args))
            case ir.Reduce():
                return self.reduce(e, mapping)
            case _:
                assert_never(e)

    def load(self, e: ir.Load, mapping: dict) -> ir.Expr:
        positions = tuple(_position(p, mapping) for p in e.positions)
        if e.kind is ir.Source.GENOME and e.name in self.constants and _all_fixed(positions):
            return ir.Const(float(self.constants[e.name][tuple(p.value for p in positions)]), e.span)
        if e.kind is ir.Source.LET and e.name in self.unrolled:
            picked = [positions[i] for i in self.unrolled[e.name]]
            if _all_fixed(picked):
                name = e.name + "@" + "@".join(str(p.value) for p in picked)
                kept = tuple(p for i, p in enumerate(positions) if i not in self.unrolled[e.name])
                return ir.Load(ir.Source.LET, name, kept, e.batch, e.span)
        return dataclasses.replace(e, positions=positions)

    def reduce(self, e: ir.Reduce, mapping: dict) -> ir.Expr:
        if e.kind not in (Reducer.SUM, Reducer.MEAN):  # only sums split into a sum of terms per state
            return dataclasses.replace(e, body=self.fold(e.body, mapping))
        extents = ir.state_extents(e.body)
        states = [a for a in e.axes if a in extents and not any(a == f.index for f in e.fresh)]
        rest = tuple(a for a in e.axes if a not in states)
        terms = []
        count = 1
        for combination in itertools.product(*(range(extents[a]) for a in states)):
            term = self.fold(e.body, {**mapping, **dict(zip(states, combination))})
            if not _is_zero(term):
                terms.append(term)
        for a in states:
            count *= extents[a]
        if not terms:
            return ir.Const(0.0, e.span)
        if rest:  # distribute the remaining sum over the terms: each stays one contraction
            terms = [ir.Reduce(e.kind, rest, e.fresh, term, e.span) for term in terms]
        total = terms[0]
        for term in terms[1:]:
            total = _arith(BinOp.ADD, total, term, e.span)
        if e.kind is Reducer.MEAN and states:
            total = _arith(BinOp.DIV, total, ir.Const(float(count), e.span), e.span)
        return total


def _position(p: ir.Position, mapping: dict) -> ir.Position:
    return ir.StateAt(mapping[p.index]) if isinstance(p, ir.State) and p.index in mapping else p


def _all_fixed(positions: Sequence[ir.Position]) -> TypeGuard[Sequence[ir.StateAt]]:
    return all(isinstance(p, ir.StateAt) for p in positions)


def _is_zero(e: ir.Expr) -> bool:
    return isinstance(e, ir.Const) and e.value == 0.0


def _negate(e: ir.Expr, span) -> ir.Expr:
    if isinstance(e, ir.Const):
        return ir.Const(-e.value, span)
    if isinstance(e, ir.Neg):
        return e.arg
    return ir.Neg(e, span)


def _arith(op: BinOp, left: ir.Expr, right: ir.Expr, span) -> ir.Expr:
    """Builds left op right, dropping zeros and folding ones and constants."""
    lc = left.value if isinstance(left, ir.Const) else None
    rc = right.value if isinstance(right, ir.Const) else None
    if lc is not None and rc is not None and not (op is BinOp.DIV and rc == 0):
        return ir.Const(float(op.apply(lc, rc)), span)
    if op is BinOp.ADD:
        if lc == 0:
            return right
        if rc == 0:
            return left
    elif op is BinOp.SUB:
        if rc == 0:
            return left
        if lc == 0:
            return _negate(right, span)
    elif op is BinOp.MUL:
        if lc == 0 or rc == 0:
            return ir.Const(0.0, span)
        if lc == 1:
            return right
        if rc == 1:
            return left
        if lc == -1:
            return _negate(right, span)
        if rc == -1:
            return _negate(left, span)
    elif op is BinOp.DIV and rc == 1:
        return left
    elif op is BinOp.POW and rc == 1:
        return left
    return ir.Arith(op, left, right, span)
