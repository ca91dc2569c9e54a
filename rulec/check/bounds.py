"""Bounded genome entries, `f_w = 1.0 in [0, 1]`: the interval is not empty, and the entry's start and every
preset's value lie in it. Meta-training keeps the entry there (rulec/meta/coordinates.py, `into_bounds`), so a value
outside would be one the search cannot give back.

Bounds go on constant entries only: a drawn entry (`nu ~ normal(0, 1) in [-1, 1]`) would start outside its bounds
on some draws, and clipping the draws would change the distribution the rule declares.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from rulec.check import constants
from rulec.check.declarations import literal_value
from rulec.check.symbols import StateAxis, Symbols
from rulec.diagnostics import Diagnostic
from rulec.preset_functions import preset_array
from rulec.syntax import ast


def interval(entry: ast.GenomeEntry) -> str:
    assert entry.bounds is not None, entry
    low, high = entry.bounds
    return f"[{low.value:g}, {high.value:g}]"


def outside(values, bounds: tuple[float, float]) -> bool:
    values = np.asarray(values, np.float64)
    return bool(np.any((values < bounds[0]) | (values > bounds[1])))


def _spanning(low: ast.Number, high: ast.Number):
    return dataclasses.replace(low.span, end_line=high.span.end_line, end_column=high.span.end_column)


def check_bounds(rule: ast.Rule, symbols: Symbols) -> list[Diagnostic]:
    """Every bounded entry's interval, start and preset values (see the module's docstring)."""
    errors = []
    initialisers, _ = constants.fold_constants(rule, symbols)
    bounded = {entry.name: entry for entry in rule.genome if entry.bounds is not None}
    for name, entry in bounded.items():
        assert entry.bounds is not None
        low, high = (number.value for number in entry.bounds)
        if low > high:
            errors.append(Diagnostic(_spanning(*entry.bounds), f"the bounds of `{name}` are "
                                     f"empty: {low:g} is above {high:g}", f"write the lower bound first, as in "
                                     f"`in [{high:g}, {low:g}]`", "empty-bounds"))
        elif entry.sampled:
            errors.append(Diagnostic(entry.span, f"`{name}` is drawn at random, and a drawn entry cannot be "
                                     "bounded", f"give `{name}` a constant start (`{name} = ...`), or drop "
                                     f"`in {interval(entry)}`", "bounds-on-draw"))
        elif isinstance(start := initialisers.get(name), ast.Number) and outside(start.value, (low, high)):
            errors.append(Diagnostic(entry.init.span, f"`{name}` starts at {start.value:g}, outside "
                                     f"its bounds {interval(entry)}", "start it inside its bounds, or widen them",
                                     "init-out-of-bounds"))
    for preset in rule.presets:
        for setting in (s for s in preset.entries if s.name in bounded and not bounded[s.name].sampled):
            entry = bounded[setting.name]
            assert entry.bounds is not None
            shape = tuple(a.extent for a in symbols.table[entry.name].axes if isinstance(a, StateAxis))
            if isinstance(setting.value, ast.PresetCall):
                try:
                    values = preset_array(literal_value(setting.value), shape)
                except (KeyError, ValueError, IndexError):  # an unknown or misfitting call, which check_presets reports
                    continue
            else:
                values = np.asarray([number.value for number in constants._numbers(setting.value)], np.float64)
            low, high = (number.value for number in entry.bounds)
            if low <= high and outside(values, (low, high)):
                errors.append(Diagnostic(setting.span, f"preset `{preset.name}` sets `{entry.name}` outside its "
                                         f"bounds {interval(entry)}", "set it inside its bounds, or widen them",
                                         "preset-out-of-bounds"))
    return errors
