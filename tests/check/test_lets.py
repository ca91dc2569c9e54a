"""A `let` is typed once, by the checker, and resolve reads that type: what checks also resolves and runs, and
what would not run is a located error."""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import rulec
from rulec.diagnostics import RuleError
from rulec.frontend import check_text
from rulec.ir import nodes as ir
from rulec.ir.resolve import resolve
from tests.conftest import state_arrays

TEMPLATE = """rule lets
dim k = 2
genome
  lr = 0.1
  m[3] ~ normal(0, 1)
neuron a[k]
synapse w[k] : pre+bias -> post ~ uniform(-1, 1) / sqrt(fan_in)
bias 1
input (i in input)
  a[i, 0] := x[i]
forward (i in pre+bias, j in post)
{body}
update (i in pre+bias, j in post)
  w[i, j, c] := w[i, j, c] - lr * sum(batch) a[i, 0] * a[j, c]
"""


def located_error(body: str, culprit: str) -> tuple[str, int, int]:
    """The first error of the rule with this forward phase, checked to be at the last `culprit` in the text."""
    text = TEMPLATE.format(body=body)
    with pytest.raises(RuleError) as caught:
        check_text(text, "lets.rule")
    before = text[:text.rindex(culprit)]
    line, column = before.count("\n") + 1, len(before) - before.rfind("\n")
    first = caught.value.diagnostics[0]
    assert (first.span.line, first.span.column) == (line, column), first
    return first.message


def test_a_let_indexed_by_a_number_is_refused_at_the_number():
    """The issue's rule: it used to pass the checker and crash in resolve."""
    body = "  let z[j, 0] = sum(i) w[i, j, 0] * a[i, 0]\n  a[j, 0] := z[j]"
    message = located_error(body, "0] =")
    assert message == "`z` is a let: its indices name its axes, and cannot be a number"


@pytest.mark.parametrize("body,culprit,message", [
    ("  let z[j, c] = sum(i) w[i, j, c] * a[i, 0]\n  a[j, c] := z[j]", "z[j]",
     "`z` takes 2 indices, got 1"),
    ("  let z[j] = sum(i) w[i, j, 0] * a[i, 0]\n  a[j, c] := z[j, c]", "z[j, c]",
     "`z` takes 1 indices, got 2"),
    ("  let z[j, c] = sum(i) w[i, j, c] * a[i, 0]\n  a[j, 0] := sum(c) z[j, c] * m[c]", "c]\nupdate",
     "index `c` ranges over 2 states elsewhere, but position 1 of `m` has 3"),
    ("  let z[j, c] = sum(i) w[i, j, c] * a[i, 0]\n  a[j, 0] := z[j, 2]", "2]",
     "state 2 is out of range: position 2 of `z` has 2 states"),
], ids=["too few indices", "too many indices", "wrong extent", "fixed state out of range"])
def test_a_let_read_against_its_type_is_a_located_error(body, culprit, message):
    assert located_error(body, culprit) == message


WORKING = {
    "a let read at fixed states": (
        "  let z[j, c] = sum(i) w[i, j, c] * a[i, 0]\n  a[j, 0] := tanh(z[j, 1])\n  a[j, 1] := z[j, 0]",
        "  a[j, 0] := tanh(sum(i) w[i, j, 1] * a[i, 0])\n  a[j, 1] := sum(i) w[i, j, 0] * a[i, 0]"),
    "a let of a fixed state, over pre+bias": (
        "  let s[i] = a[i, 0]\n  a[j, c] := sum(i) w[i, j, c] * s[i]",
        "  a[j, c] := sum(i) w[i, j, c] * a[i, 0]"),
}


def step_once(tmp_path, body: str):
    path = tmp_path / "lets.rule"
    path.write_text(TEMPLATE.format(body=body))
    net = rulec.load(path).network((3, 4, 2))
    genome, state = net.init_genome(jax.random.key(0)), net.init(jax.random.key(1))
    x = jax.random.normal(jax.random.key(2), (5, 3))
    return net.step(genome, state, x, jnp.zeros((5, 2)))


@pytest.mark.parametrize("case", WORKING, ids=str)
def test_a_let_computes_what_its_value_written_out_computes(tmp_path, case):
    with_let, written_out = WORKING[case]
    for a, b in zip(state_arrays(step_once(tmp_path, with_let)), state_arrays(step_once(tmp_path, written_out))):
        np.testing.assert_allclose(a, b, rtol=1e-6)


def test_resolve_takes_a_lets_axes_from_the_checker():
    program = resolve(check_text(TEMPLATE.format(body=WORKING["a let of a fixed state, over pre+bias"][0])))
    let, write = program.phase(rulec.syntax.ast.PhaseKind.FORWARD).statements
    assert let.positions == (ir.Layer("i", "pre", True, True),)
    load = next(e for e in ir.walk(write.value) if isinstance(e, ir.Load) and e.kind is ir.Source.LET)
    assert (load.positions, load.batch) == ((ir.Layer("i", "pre", True, True),), True)


def test_resolve_takes_every_index_type_from_the_checker():
    """Each use of an index is resolved to the type the checker recorded for it, narrowing by `for` included: a
    changed record changes the IR, so nothing is worked out a second time."""
    text = (TEMPLATE.format(body="  a[j, c] := sum(i) w[i, j, c] * a[i, c]")
            .replace("a[j, c]\n", "a[j, c] for i in pre\n"))
    checked = check_text(text)
    update = resolve(checked).phase(rulec.syntax.ast.PhaseKind.UPDATE).statements[0]
    assert update.positions[0] == ir.Layer("i", "pre", False, True)  # `for i in pre` leaves the bias row out
    load = next(e for e in ir.walk(update.value) if isinstance(e, ir.Load) and e.name == "w")
    assert load.positions[0] == ir.Layer("i", "pre", False, True)
    forward = checked.phase_types[1]
    extents = {span: ty for span, ty in forward.indices.items() if isinstance(ty, int)}
    assert list(extents.values()) == [2, 2, 2]  # `c` over the k = 2 states, at each of its three uses
    retyped = dict(forward.indices)
    retyped.update({span: 1 for span in extents})
    changed = dataclasses.replace(checked, phase_types=(checked.phase_types[0],
                                                        dataclasses.replace(forward, indices=retyped),
                                                        checked.phase_types[2]))
    write = resolve(changed).phase(rulec.syntax.ast.PhaseKind.FORWARD).statements[0]
    assert write.positions[1] == ir.State("c", 1)
