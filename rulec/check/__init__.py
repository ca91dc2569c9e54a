"""Stage 2: check a parsed rule and resolve its symbols.

Checks are small pure functions, listed in CHECKS and run in order. The runner reports every diagnostic they
find at once, sorted by location, in one RuleError.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from rulec.check import declarations, equations, phases
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
    declarations.check_neurons,
    declarations.check_synapses,
    declarations.check_activations,
    declarations.check_bias,
    declarations.check_losses,
    phases.check_phase_headers,
    equations.check_equations,
    declarations.check_proofs,
)


@dataclasses.dataclass(frozen=True, slots=True)
class CheckedRule:
    """A rule that passed every check, with its dims resolved."""

    rule: ast.Rule
    symbols: Symbols

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
    for stage in (FOUNDATION, CHECKS):
        for run in stage:
            errors += run(rule, symbols)
        if errors:
            break
    if errors:
        unique = dict.fromkeys(errors)
        raise RuleError(sorted(unique, key=lambda d: (d.span.line, d.span.column)))
    return CheckedRule(rule, symbols)
