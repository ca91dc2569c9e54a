"""`--genome-set NAME=VALUE`: one genome entry set on top of the genome a command starts from.

The value is a number, which fills the entry, or a preset function (`identity`, `fill(0.5)`, `diag(1, -1)`,
`block([[0, -1], [0, 1]])`; rulec/preset_functions.py), which builds it for the entry's shape. The text is parsed by
a regular expression, and a matrix as JSON, never evaluated. Errors are located on the flag, so the command line reports them as usage errors.
"""

from __future__ import annotations

import dataclasses
import json
import math
import re

import jax.numpy as jnp

from rulec.check.bounds import outside
from rulec.check.declarations import check_preset_call, literal_value, suggest
from rulec.diagnostics import COMMAND_LINE, Diagnostic, RuleError, Source, Span
from rulec.preset_functions import preset_array
from rulec.runtime.genome_file import overflow_problem
from rulec.syntax import ast

FLAG = "--genome-set"
_SETTING = re.compile(r"^\s*([A-Za-z_]\w*)\s*=\s*(.*?)\s*$")
_CALL = re.compile(r"^([A-Za-z_]\w*)\s*(?:\(\s*(.*?)\s*\))?$")
_DEEPER_THAN_ROWS = re.compile(r"^\s*\[\s*\[\s*\[")  # a matrix is a list of rows of numbers
_USAGE = "write an entry's name, `=` and a number or a preset function, as in `--genome-set eta=0.5` or " \
         "`--genome-set nu=identity`"


@dataclasses.dataclass(frozen=True)
class GenomeSetting:
    """One `--genome-set` flag: the entry's name and its value as the rule's syntax would hold it."""

    name: str
    value: ast.Number | ast.PresetCall
    text: str  # as given: `nu=identity`
    span: Span


def parse_setting(text: str) -> GenomeSetting:
    """`eta=0.5`, `nu=identity` or `mu=diag(1, -1)`; a RuleError located on the flag when malformed."""
    source = Source(COMMAND_LINE, f"{FLAG} {text}")
    span = Span(source, 1, len(FLAG) + 2, 1, len(FLAG) + 2 + max(1, len(text)))
    setting = _SETTING.match(text)
    call = _CALL.match(setting.group(2)) if setting else None
    number = _number(setting.group(2)) if setting else None
    if setting is None or (number is None and call is None):
        raise RuleError([Diagnostic(span, f"malformed `{FLAG} {text}`", _USAGE, "bad-flag")])
    if number is not None:
        if not math.isfinite(number):
            raise RuleError([Diagnostic(span, f"`{FLAG} {text}` is not a finite number", "a genome value must be "
                                        "finite", "bad-flag")])
        return GenomeSetting(setting.group(1), ast.Number(number, span), text, span)
    if call.group(2) and call.group(2).startswith("["):
        args = [_matrix(call.group(2), span)]
    else:
        numbers = [_number(a) for a in call.group(2).split(",")] if call.group(2) else []
        if any(a is None or not math.isfinite(a) for a in numbers):
            raise RuleError([Diagnostic(span, f"malformed `{FLAG} {text}`", "a preset function takes finite "
                                        "numbers, as in `diag(1, -1)`, or one matrix", "bad-flag")])
        args = [ast.Number(a, span) for a in numbers]
    value = ast.PresetCall(call.group(1), tuple(args), span)
    return GenomeSetting(setting.group(1), value, text, span)


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def apply_settings(program, genome: dict, settings: tuple[GenomeSetting, ...]) -> dict:
    """`genome` with each setting's entry replaced; a RuleError (on the flags) for an unknown entry or a value
    that does not fit its shape. Per-synapse entries are lists of arrays, one per layer of synapses."""
    entries = {entry.name: entry for entry in program.genome}
    errors, result = [], dict(genome)
    for setting in settings:
        entry = entries.get(setting.name)
        if entry is None:
            errors.append(Diagnostic(setting.span, f"`{setting.name}` is not a genome entry of rule "
                                     f"`{program.name}`", suggest(setting.name, entries) or "its genome entries: "
                                     + (", ".join(entries) or "none"), "genome-set-unknown"))
            continue
        if isinstance(setting.value, ast.PresetCall):
            problems = check_preset_call(setting.value, entry.name, tuple(entry.shape), entry.per_synapse)
            if problems:
                errors.extend(problems)
                continue
        value, current = literal_value(setting.value), genome[setting.name]
        problem = overflow_problem(preset_array(value, tuple(entry.shape)))
        if problem:  # as in a genome file: the network computes in float32, where it would become infinite
            errors.append(Diagnostic(setting.span, f"`{setting.text}`: {problem}", "give a value that fits float32",
                                     "float32-overflow"))
            continue
        if entry.bounds is not None and outside(preset_array(value, tuple(entry.shape)), entry.bounds):
            errors.append(Diagnostic(setting.span, f"`{setting.text}` is outside the bounds of `{entry.name}`, "
                                     f"[{entry.bounds[0]:g}, {entry.bounds[1]:g}]", "give a value inside its "
                                     "bounds, or widen them in the rule", "genome-set-out-of-bounds"))
            continue
        build = lambda array: jnp.asarray(preset_array(value, array.shape), array.dtype)  # noqa: E731
        result[setting.name] = [build(a) for a in current] if isinstance(current, list) else build(current)
    if errors:
        raise RuleError(errors)
    return result


def describe(settings: tuple[GenomeSetting, ...]) -> str:
    """` with nu=identity, eta=0.5` for a command's summary line, or nothing."""
    return " with " + ", ".join(s.text for s in settings) if settings else ""


def _matrix(text: str, span: Span) -> ast.Literal:
    """`[[0, -1], [0, 1]]` as the rule's matrix literal; a located error unless it is nested lists of finite
    numbers."""
    def literal(value):
        if isinstance(value, list) and value:
            return ast.Matrix(tuple(literal(row) for row in value), span)
        if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
            return ast.Number(float(value), span)
        raise ValueError(value)

    try:
        if _DEEPER_THAN_ROWS.match(text):  # before json reads it: 5,000 nested lists exhaust its recursion
            raise ValueError(text)
        return literal(json.loads(text))
    except (ValueError, RecursionError):
        raise RuleError([Diagnostic(span, f"malformed matrix `{text}` in `{FLAG}`", "write rows of finite numbers, "
                                    "as in `block([[0, -1], [0, 1]])`", "bad-flag")]) from None
