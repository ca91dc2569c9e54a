"""Checks the IR's invariants between stages: a failure here is a bug in rulec, not in the rule.

The pipeline calls `verify` after resolving and after specialising when RULEC_CHECKS=1 (the test suite sets it),
as JAX does with `enable_checks`.
"""

from __future__ import annotations

import os

from rulec.ir import nodes as ir
from rulec.ir.resolve import walk

ROLES = {"pairs": {"pre", "post"}, "hidden": {"hidden", "output"}, "input": {"input"}, "output": {"output"}}


class IRError(Exception):
    """An internal inconsistency in the IR."""


def enabled() -> bool:
    return os.environ.get("RULEC_CHECKS") == "1"


def verify(program: ir.Program) -> ir.Program:
    """Raises IRError when a load or write is out of shape or refers to what is not defined; returns the program."""
    extents = {n.name: (n.states,) if n.states else () for n in program.neurons}
    extents.update({s.name: s.channels for s in program.synapses})
    extents.update({g.name: g.shape for g in program.genome})
    for phase in program.phases:
        lets: set[str] = set()
        for statement in phase.statements:
            for e in walk(statement.value):
                if isinstance(e, ir.Load):
                    _check_load(e, phase, lets, extents)
            if isinstance(statement, ir.Let):
                lets.add(statement.name)
            elif statement.name not in extents:
                raise IRError(f"line {statement.span.line}: write to undeclared `{statement.name}`")
            else:
                _check_positions(statement.positions, phase, statement.name, extents[statement.name], statement.span)
    return program


def _check_load(e: ir.Load, phase: ir.Phase, lets: set[str], extents: dict) -> None:
    if e.kind == "let":
        if e.name not in lets:
            raise IRError(f"line {e.span.line}: `{e.name}` is read before it is defined")
        return
    if e.kind in ("input", "target"):
        return
    if e.name not in extents:
        raise IRError(f"line {e.span.line}: load of undeclared `{e.name}`")
    _check_positions(e.positions, phase, e.name, extents[e.name], e.span)


def _check_positions(positions, phase: ir.Phase, name: str, states: tuple[int, ...], span) -> None:
    layer_positions = [p for p in positions if isinstance(p, ir.Layer)]
    state_positions = [p for p in positions if not isinstance(p, ir.Layer)]
    for p in layer_positions:
        fresh_roles = {"pre", "post", "input", "output", "hidden"}
        if p.role not in ROLES[phase.scheme] and p.role not in fresh_roles:
            raise IRError(f"line {span.line}: `{name}` is indexed over `{p.role}` in a {phase.scheme} phase")
    if len(state_positions) > len(states):
        raise IRError(f"line {span.line}: `{name}` has {len(states)} state axes, indexed with {len(state_positions)}")
    for p, extent in zip(state_positions, states[-len(state_positions):] if state_positions else ()):
        if isinstance(p, ir.StateAt) and not 0 <= p.value < extent:
            raise IRError(f"line {span.line}: state {p.value} of `{name}` is outside 0..{extent - 1}")
        if isinstance(p, ir.State) and p.extent != extent:
            raise IRError(f"line {span.line}: `{name}` is indexed by `{p.index}` of extent {p.extent}, not {extent}")
