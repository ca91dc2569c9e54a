"""Bounded genome entries, `f_w = 1.0 in [0.9, 1]`: read from the rule, kept by both searches, checked on
`--genome-set`."""

from __future__ import annotations

import jax
import numpy as np
import pytest

import rulec
from rulec.meta import objectives
from rulec.meta.evolution import Evolution
from rulec.meta.gradient import Curriculum, Gradient
from rulec.meta.networks import Network
from rulec.meta.tasks import load_tasks
from rulec.syntax.parse import parse
from rulec.syntax.printer import print_rule
from tests.conftest import ROOT
from tests.conftest import run_cli as run

BLUR_TEXT = (ROOT / "stdlib_rules" / "blur.rule").read_text()
BOUNDED_TEXT = BLUR_TEXT.replace("f_w = 1.0 in [0, 1];", "f_w = 1.0 in [0.9, 1];")  # narrower than blur.rule's
assert BOUNDED_TEXT != BLUR_TEXT
BOUNDS = (0.9, 1.0)
LOW, HIGH = np.float32(BOUNDS[0]), np.float32(BOUNDS[1])  # as the float32 genome holds them


@pytest.fixture(scope="module")
def tiny():
    net = rulec.loads(BOUNDED_TEXT, k=2).network((2, 4, 2))
    protocol = objectives.Protocol(unroll=2, eval_batches=1, batch=8, outputs=2)
    return net, load_tasks(["xor"]), protocol


def test_bounds_are_read_printed_and_reach_the_program():
    entry = next(e for e in parse(BOUNDED_TEXT).genome if e.name == "f_w")
    assert tuple(n.value for n in entry.bounds) == BOUNDS
    assert (entry.bounds[0].span.line, entry.bounds[0].span.column) == (21, 17)
    printed = print_rule(parse(BOUNDED_TEXT))
    reread = next(e for e in parse(printed).genome if e.name == "f_w")
    assert "f_w = 1 in [0.9, 1]" in printed and tuple(n.value for n in reread.bounds) == BOUNDS
    genome = {g.name: g for g in rulec.loads(BOUNDED_TEXT).program.genome}
    assert genome["f_w"].bounds == BOUNDS and genome["eta_w"].bounds is None


def test_evolution_never_leaves_the_bounds(tiny):
    net, tasks, protocol = tiny
    # A wide search: f_w's members spread far beyond [0.9, 1] (its unit is 1), and its mean drifts outside.
    method = Evolution([Network(net, protocol)], tasks, "CMA_ES", 8, 2.0, net.init_genome(jax.random.key(0)))
    carry = method.init(jax.random.key(1), net.init_genome)
    seen = []
    evaluated = method.engines[0].run

    def spy(members, shared):
        seen.append(np.asarray(members["f_w"]))
        return evaluated(members, shared)

    method.engines[0].run = spy
    for step in range(1):
        carry, _ = method.step(carry, jax.random.key(step), step)
        assert LOW <= method.genome(carry)["f_w"] <= HIGH
    raw = np.concatenate(seen) * carry["scale"]["f_w"] + carry["start"]["f_w"]
    assert raw.min() < LOW and raw.max() > HIGH  # the search tried both sides; members were evaluated clipped


def test_gradient_steps_are_projected_onto_the_bounds(tiny):
    net, tasks, protocol = tiny
    method = Gradient([Network(net, protocol)], tasks, Curriculum(unroll=2), "xent", 0.5, 10.0, population=1)
    carry = method.init(jax.random.key(0), net.init_genome)
    for step in range(1):
        carry, _ = method.step(carry, jax.random.key(step), step)
        f_w = np.asarray(carry["genomes"]["f_w"])
        assert np.all((f_w >= LOW) & (f_w <= HIGH))


def test_a_genome_set_outside_the_bounds_is_a_usage_error(tmp_path, monkeypatch, capsys):
    rule = tmp_path / "bounded.rule"
    rule.write_text(BOUNDED_TEXT)
    code, _, err = run("train", str(rule), "--set", "k=2", "--data", "xor", "--layers", "4", "--steps", "1",
                       "--genome-set", "f_w=1.5", monkeypatch=monkeypatch, capsys=capsys)
    assert code == 2 and "`f_w=1.5` is outside the bounds of `f_w`, [0.9, 1]" in err and "Traceback" not in err
