"""Checks of relaxation loops: `repeat n` ... `end` repeats a contiguous run of phases, in step order, n times.

A step still runs each phase kind once, in the phase table's order (rulec/phases.py); a loop only says that a run
of them, one after the other in that order, repeats. So a loop holds at least one phase, holds no loop, holds only
phases the table calls repeatable (not `input`, not `update`), lists them in step order, and leaves out no phase
that would run between two of them. Its count is a dim, so `--set n=50` changes it, or a whole number.
"""

from __future__ import annotations

import dataclasses

from rulec.check.declarations import MAX_DIM, suggest
from rulec.check.symbols import Symbols
from rulec.diagnostics import Diagnostic, Span
from rulec.phases import PHASES, SPEC
from rulec.syntax import ast

PHASE_POSITION = {spec.kind: position for position, spec in enumerate(PHASES)}


def keyword_span(span: Span, keyword: str) -> Span:
    """The first word of a block, `repeat` or a phase's keyword, where an error about the whole block points."""
    return dataclasses.replace(span, end_line=span.line, end_column=span.column + len(keyword))


def loop_count(loop: ast.Loop, dims) -> int:
    """The number of times a checked loop runs."""
    return loop.count.value if isinstance(loop.count, ast.Int) else dims[loop.count.id]


def check_loops(rule: ast.Rule, symbols: Symbols) -> list[Diagnostic]:
    """Each loop has a valid count and a body of repeatable phases in step order, with no gap: with `feedback`
    outside it, `repeat n / forward ... / backward ... / end` is refused, since feedback runs between the two."""
    errors = []
    for loop in rule.loops:
        errors += _count_errors(loop.count, symbols)
        errors += _body_errors(loop, rule)
    return errors


def _count_errors(count: ast.Name | ast.Int, symbols: Symbols) -> list[Diagnostic]:
    hint = "a loop runs a dim's number of times (`dim n_relax = 20`, then `repeat n_relax`) or a whole number"
    if isinstance(count, ast.Int):
        if 1 <= count.value <= MAX_DIM:
            return []
        return [Diagnostic(count.span, f"a loop runs between 1 and {MAX_DIM} times, not {count.value}", hint,
                           "loop-count")]
    if count.id in symbols.dims:
        return []
    symbol = symbols.get(count.id)
    if symbol is not None:
        return [Diagnostic(count.span, f"the count of a loop must be a dim, but `{count.id}` is a {symbol.kind}",
                           hint, "loop-count")]
    return [Diagnostic(count.span, f"unknown dim `{count.id}`", suggest(count.id, symbols.dims) or hint,
                       "loop-count")]


def _body_errors(loop: ast.Loop, rule: ast.Rule) -> list[Diagnostic]:
    header = keyword_span(loop.span, "repeat")
    if not loop.body:
        return [Diagnostic(header, "this loop holds no phase", "put the phases to repeat between `repeat` and "
                           "`end`, or delete the loop", "empty-loop")]
    errors = [Diagnostic(keyword_span(inner.span, "repeat"), "loops cannot be nested",
                         "merge the inner loop into the outer one", "nested-loop")
              for inner in loop.body if isinstance(inner, ast.Loop)]
    phases = [p for p in loop.body if isinstance(p, ast.Phase)]
    for phase in phases:
        if not SPEC[phase.kind].repeatable:
            movable = "before `repeat`" if PHASE_POSITION[phase.kind] == 0 else "after `end`"
            errors.append(Diagnostic(keyword_span(phase.span, phase.kind.value), f"the {phase.kind.value} phase "
                                     "cannot run inside a loop", f"a loop settles the neurons: it may hold "
                                     f"{_repeatable()}; move the {phase.kind.value} phase {movable}",
                                     "looped-phase"))
    for before, after in zip(phases, phases[1:]):
        if PHASE_POSITION[after.kind] < PHASE_POSITION[before.kind]:
            errors.append(Diagnostic(keyword_span(after.span, after.kind.value), f"the {after.kind.value} phase "
                                     f"runs before {before.kind.value} in a step, but follows it in this loop",
                                     "inside a loop, write the phases in the order a step runs them: "
                                     + ", ".join(spec.kind.value for spec in PHASES), "loop-order"))
    inside = {p.kind for p in phases}
    if phases:
        first, last = min(PHASE_POSITION[k] for k in inside), max(PHASE_POSITION[k] for k in inside)
        for outside in rule.phases:
            if outside.kind not in inside and first < PHASE_POSITION[outside.kind] < last:
                errors.append(Diagnostic(keyword_span(outside.span, outside.kind.value), f"the "
                                         f"{outside.kind.value} phase runs between phases that the loop on line "
                                         f"{loop.span.line} repeats", "a loop repeats phases that run one after "
                                         "the other: move this phase into the loop", "loop-order"))
    return errors


def _repeatable() -> str:
    return ", ".join(spec.kind.value for spec in PHASES if spec.repeatable)
