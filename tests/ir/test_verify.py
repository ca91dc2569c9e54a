"""verify refuses IR that breaks an invariant, and passes every stdlib rule.

Each broken program is a resolved stdlib program with one node replaced, as a faulty pass could leave it.
"""

from __future__ import annotations

import dataclasses
import typing

import pytest

from rulec.frontend import check_file
from rulec.ir import nodes as ir
from rulec.ir.resolve import resolve
from rulec.ir.verify import IRError, verify
from rulec.syntax.ast import PhaseKind
from tests.conftest import ROOT, STDLIB

EXPRESSIONS = typing.get_args(ir.Expr)


def blur(**dims) -> ir.Program:
    return resolve(check_file(ROOT / "stdlib_rules" / "blur.rule", dims))


def in_phase(program: ir.Program, phase: PhaseKind, **changes) -> ir.Program:
    phases = tuple(dataclasses.replace(p, **changes) if p.kind is phase else p for p in program.phases)
    return dataclasses.replace(program, phases=phases)


def with_statement(program: ir.Program, phase: PhaseKind, number: int, **changes) -> ir.Program:
    statements = list(program.phase(phase).statements)
    statements[number] = dataclasses.replace(statements[number], **changes)
    return in_phase(program, phase, statements=tuple(statements))


def with_loads(program: ir.Program, phase: PhaseKind, number: int, name: str, change) -> ir.Program:
    """The program with `change(load)` for every load of `name` in one statement's value."""

    def rewrite(e):
        if isinstance(e, ir.Load):
            return change(e) if e.name == name else e
        return dataclasses.replace(e, **{f.name: rewrite(getattr(e, f.name)) for f in dataclasses.fields(e)
                                         if isinstance(getattr(e, f.name), EXPRESSIONS)})

    value = rewrite(program.phase(phase).statements[number].value)
    return with_statement(program, phase, number, value=value)


def positions(*replacements):
    """A load change that replaces positions: pairs of (position number, new position)."""
    def change(load):
        new = list(load.positions)
        for n, p in replacements:
            new[n] = p
        return dataclasses.replace(load, positions=tuple(new))
    return change


F, FB, B, U, IN = PhaseKind.FORWARD, PhaseKind.FEEDBACK, PhaseKind.BACKWARD, PhaseKind.UPDATE, PhaseKind.INPUT
# blur.rule's forward phase: 0 `let z[j, c] = f * a[j, c] + eta * sum(i, d) w[i, j, c] * nu[d, c] * a[i, d]`,
# 1 and 2 `a[j, c] := ...(z[j, c])`; feedback: 0 `a[j, 1] := target[j]`, 1 `a[j, c] := 0 for c in 2..k`.
BROKEN = {
    "undeclared synapse": (
        lambda p: with_loads(p, F, 0, "w", lambda e: dataclasses.replace(e, name="v")),
        "line 32: synapse `v` is undeclared"),
    "let read before it is defined": (
        lambda p: in_phase(p, F, statements=p.phase(F).statements[1:] + p.phase(F).statements[:1]),
        "line 33: let `z` is read before it is defined"),
    "let defined twice": (
        lambda p: in_phase(p, F, statements=p.phase(F).statements[:1] * 2 + p.phase(F).statements[1:]),
        "line 32: let `z` is defined twice"),
    "neuron index bound nowhere": (
        lambda p: in_phase(p, U, bindings=tuple(b for b in p.phase(U).bindings if b.index != "j")),
        "line 44: neuron index `j` of `w` is bound nowhere"),
    "neuron index taken for a state a reduction binds": (
        lambda p: in_phase(p, F, bindings=tuple(b for b in p.phase(F).bindings if b.index != "i")),
        "line 32: neuron index `i` of `w` is a state index"),
    "state index bound nowhere": (
        lambda p: with_statement(p, F, 0, positions=p.phase(F).statements[0].positions[:1]),
        "line 32: state index `c` of `a` is bound neither by the left-hand side nor by a reduction"),
    "neuron index over another role": (
        lambda p: with_loads(p, F, 0, "a", lambda e: dataclasses.replace(
            e, positions=(dataclasses.replace(e.positions[0], role="post"),) + e.positions[1:])
            if e.positions[0].index == "i" else e),
        "line 32: `i` of `a` is read over `post+bias`, but is bound to `pre+bias`"),
    "neuron index on a state axis": (
        lambda p: with_loads(p, F, 0, "nu", positions((0, ir.State("j", 4)))),
        "line 32: `j` indexes a state of `nu`, but is a neuron index"),
    "state index on a neuron axis": (
        lambda p: with_loads(p, F, 0, "w", positions((0, ir.Layer("c", "pre", True, True)))),
        "line 32: neuron index `c` of `w` is a state index"),
    "neuron write the phase may not make": (
        lambda p: in_phase(p, B, kind=PhaseKind.FORWARD),
        "line 41: the forward phase writes `a` on `pre`"),
    "synapse write outside the update": (
        lambda p: in_phase(p, U, kind=PhaseKind.BACKWARD),
        "line 44: the backward phase writes synapse `w`"),
    "fixed synapse written": (
        lambda p: dataclasses.replace(p, synapses=tuple(dataclasses.replace(s, fixed=True) for s in p.synapses)),
        "line 44: fixed synapse `w` is written"),
    "bias unit written": (
        lambda p: with_statement(
            in_phase(p, F, bindings=(ir.Binding("i", "pre", True), ir.Binding("j", "post", True))), F, 1,
            positions=(ir.Layer("j", "post", True, True), ir.State("c", 4))),
        "line 33: the write to `a` covers the bias unit"),
    "genome written": (
        lambda p: with_statement(p, FB, 0, kind=ir.Source.GENOME, name="nu"),
        "line 37: a write to genome `nu`: only neurons, synapses and persistent scalars are written"),
    "persistent scalar written in every instance": (
        lambda p: with_statement(dataclasses.replace(p, scalars=(ir.ScalarDecl("b", 0.0),)), U, 0,
                                 kind=ir.Source.SCALAR, name="b", positions=(), ranges=(), when=()),
        "line 44: persistent scalar `b` is written other than once a step"),
    "too many state axes": (
        lambda p: with_loads(p, F, 0, "nu", lambda e: dataclasses.replace(e, positions=e.positions + (ir.StateAt(0),))),
        "line 32: `nu` has 2 axes, indexed with 3"),
    "state index of the wrong extent": (
        lambda p: with_loads(p, F, 0, "w", positions((2, ir.State("c", 3)))),
        "line 32: `w` is indexed by `c` of extent 3, not 4"),
    "let read at the wrong extent": (
        lambda p: with_loads(p, F, 1, "z", positions((1, ir.State("c", 3)))),
        "line 33: `z` is indexed by `c` of extent 3, not 4"),
    "fixed state out of range": (
        lambda p: with_loads(p, F, 0, "nu", positions((0, ir.StateAt(4)))),
        "line 32: state 4 of `nu` is outside 0..3"),
    "state range outside the states": (
        lambda p: with_statement(p, FB, 1, ranges=(ir.StateRange("c", 2, 5),)),
        "line 38: range c in 2..5 does not fit the states of `a`"),
    "activation selected by a neuron index": (
        lambda p: with_statement(p, F, 1, value=ir.PerState(
            (("tanh", 0), ("relu", 0)), ir.Layer("r", ir.Role.POST, False, False), p.phase(F).statements[1].value,
            p.phase(F).statements[1].span)),
        "line 33: `r` indexes a state of the activation, but is a neuron index"),
    "scheme that the bindings are not": (
        lambda p: in_phase(p, F, scheme=ir.Scheme.HIDDEN),
        "the forward phase is a hidden phase, but binds pre, post"),
    "input read over another layer": (
        lambda p: with_loads(p, IN, 0, "x", positions((0, ir.Layer("i", "output", False, False)))),
        "line 29: `x` is read over `output`, not the input layer"),
}


@pytest.mark.parametrize("case", BROKEN, ids=str)
def test_a_broken_program_is_refused_with_what_is_broken(case):
    program = blur()
    verify(program)  # the program before the change is sound, so the change is what is refused
    breaks, message = BROKEN[case]
    with pytest.raises(IRError) as caught:
        verify(breaks(program))
    assert message in str(caught.value)


# A rule with presets fixes its k; the others are checked at several.
SEVERAL_K = [(path, k) for path in STDLIB
             for k in ((2, 3, 5) if "dim k" in path.read_text() and "preset" not in path.read_text() else (None,))]


@pytest.mark.parametrize("path,k", SEVERAL_K, ids=lambda v: v.stem if hasattr(v, "stem") else f"k={v}")
def test_every_stdlib_rule_verifies_clean(path, k):
    program = resolve(check_file(path, {"k": k} if k else None))
    assert verify(program) is program


@pytest.mark.parametrize("name", ["backprop_skip", "lateral_decorrelation", "abcd_hebbian"])
def test_the_ir_names_layer_roles_by_the_role_enum(name):
    """Synapse ends and per-synapse genome axes are `ir.Role` members, as bindings and indices are, so that a
    layer role is compared with a member rather than a string (`Role.POST`, not "post")."""
    program = resolve(check_file(ROOT / "stdlib_rules" / f"{name}.rule"))
    ends = [end for s in program.synapses for end, _ in (s.source, s.target)]
    ends += [role for g in program.genome for role, _ in g.per_synapse or ()]
    assert ends and all(type(end) is ir.Role for end in ends), ends
