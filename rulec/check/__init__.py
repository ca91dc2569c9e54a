"""Stage 2: check a parsed rule and resolve its symbols.

Checks are small pure functions, listed in CHECKS and run in order. The runner reports every diagnostic they
find at once, sorted by location, in one RuleError.
"""

from __future__ import annotations

import collections
import dataclasses
from collections.abc import Mapping

from rulec.check import bounds, constants, declarations, equations, loops, phases
from rulec.check.overrides import check_overrides
from rulec.check.symbols import Symbols, build_symbols
from rulec.diagnostics import Diagnostic, RuleError
from rulec.syntax import ast

# Bad dims make every shape that uses them wrong; their errors are reported alone rather than with that cascade.
FOUNDATION = (declarations.check_dims,)

CHECKS = (
    declarations.check_names,
    declarations.check_genome,
    declarations.check_presets,
    bounds.check_bounds,
    declarations.check_neurons,
    declarations.check_synapses,
    declarations.check_activations,
    declarations.check_bias,
    declarations.check_losses,
    phases.check_phase_headers,
    loops.check_loops,
    declarations.check_proofs,
)


# An undeclared name is one mistake however often it is used: it is reported at its first use, with a count.
REPORTED_ONCE = frozenset({"undeclared"})


def collapse_repeats(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    """Diagnostics in source order, each REPORTED_ONCE mistake kept at its first place with a count of the rest."""
    firsts: dict[tuple[str, str], int] = {}
    repeats: collections.Counter = collections.Counter()
    kept: list[Diagnostic] = []
    for diagnostic in diagnostics:
        key = (diagnostic.code, diagnostic.message)
        if diagnostic.code in REPORTED_ONCE and key in firsts:
            repeats[key] += 1
            continue
        firsts[key] = len(kept)
        kept.append(diagnostic)
    for key, count in repeats.items():
        first = kept[firsts[key]]
        note = f"used {count} more time{'s' if count != 1 else ''} after this, not reported again"
        kept[firsts[key]] = dataclasses.replace(first, hint=f"{first.hint} ({note})" if first.hint else note)
    return kept


@dataclasses.dataclass(frozen=True, slots=True)
class CheckedRule:
    """A rule that passed every check, with its dims resolved, its initialisers folded (by name) and the types the
    checker gave each phase's lets (one PhaseTypes per phase, in the rule's order)."""

    rule: ast.Rule
    symbols: Symbols
    initialisers: Mapping[str, ast.Expr]
    phase_types: tuple[equations.PhaseTypes, ...]

    @property
    def dims(self) -> Mapping[str, int]:
        return self.symbols.dims


def check(rule: ast.Rule, overrides: Mapping[str, int] | None = None) -> CheckedRule:
    """Checks a rule, with dims optionally overridden (`k=8`).

    Raises:
        RuleError: holding every problem found, in source order.
    """
    overrides = overrides or {}
    errors = check_overrides(rule, overrides)
    if errors:
        raise RuleError(errors)
    symbols = build_symbols(rule, overrides)
    errors = [error for run in FOUNDATION for error in run(rule, symbols)]
    if not errors:
        # Folding finds the constants' errors and gives the folded initialisers: one pass for both.
        initialisers, errors = constants.fold_constants(rule, symbols)
        # Typing the equations likewise finds their errors and gives the types that resolve reads.
        phase_types, typing_errors = equations.type_phases(rule, symbols)
        errors += typing_errors + [error for run in CHECKS for error in run(rule, symbols)]
    if errors:
        unique = dict.fromkeys(errors)
        raise RuleError(collapse_repeats(sorted(unique, key=lambda d: (d.span.line, d.span.column))))
    return CheckedRule(rule, symbols, initialisers, phase_types)
