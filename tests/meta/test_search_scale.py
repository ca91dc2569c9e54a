"""`--search-scale start`: an evolution strategy steps a genome file's constants in units of their size there, not
of their declaration (blur_scaled's eta_w of -1.5 is declared -0.001)."""

from __future__ import annotations

import jax
import numpy as np
import pytest

import rulec
from rulec.meta import objectives
from rulec.meta.coordinates import search_scale
from rulec.meta.evolution import Evolution
from rulec.meta.networks import Network
from rulec.meta.persistent import Persistent
from rulec.meta.tasks import load_tasks
from tests.conftest import ROOT, usage_error

BLUR = ROOT / "stdlib_rules" / "blur.rule"
SIGMA = 0.1


@pytest.fixture(scope="module")
def tiny():
    net = rulec.load(BLUR, k=2).network((2, 4, 2))
    protocol = objectives.Protocol(unroll=2, eval_batches=1, batch=8, outputs=2)
    return net, load_tasks(["xor"]), protocol


def moved_start(net) -> dict:
    """A genome whose constants have moved: eta_w 1500 times its declared size, f down to a fifth, nu far out."""
    genome = net.init_genome(jax.random.key(0))
    return genome | {"eta_w": np.float32(-1.5), "f": np.float32(0.2), "nu": genome["nu"] * 10}


def test_a_constant_is_scaled_by_the_larger_of_its_declared_and_its_start_size(tiny):
    net, _, _ = tiny
    declared, started = search_scale(net), search_scale(net, moved_start(net))
    assert float(declared["eta_w"]) == pytest.approx(0.001) and float(started["eta_w"]) == pytest.approx(1.5)
    assert float(started["f"]) == pytest.approx(1.0)  # smaller than declared: the declared unit stays
    # an entry drawn from an initialiser keeps the initialiser's spread, wherever the start put it
    np.testing.assert_allclose(started["nu"], declared["nu"])


@pytest.mark.parametrize("scale_from_start, spread", [(False, 0.001), (True, 1.5)])
def test_evolution_members_spread_by_sigma_in_the_chosen_unit(tiny, scale_from_start, spread):
    net, tasks, protocol = tiny
    start = moved_start(net)
    method = Evolution([Network(net, protocol)], tasks, "CMA_ES", 16, SIGMA, start,
                       scale_from_start=scale_from_start)
    carry = method.init(jax.random.key(1), lambda key: start)
    members, _ = method.strategy.ask(jax.random.key(2), carry["search"], method.params)
    eta_w = np.asarray(members["eta_w"]) * carry["scale"]["eta_w"] + carry["start"]["eta_w"]
    assert 0.5 * SIGMA * spread < eta_w.std() < 2 * SIGMA * spread
    np.testing.assert_allclose(method.genome(carry)["eta_w"], -1.5)  # centred on the start either way


def test_persistent_es_takes_the_start_unit_too(tiny):
    net, tasks, protocol = tiny
    protocol = objectives.Protocol(unroll=2, eval_batches=1, batch=8, outputs=2, truncation=1)
    start = moved_start(net)
    method = Persistent(Network(net, protocol), tasks, population=4, sigma=SIGMA, learning_rate=0.01, clip=10.0,
                        loss="xent", template=start, scale_from_start=True)
    carry = method.init(jax.random.key(0), lambda key: start)
    assert float(carry["scale"]["eta_w"]) == pytest.approx(1.5)


def test_the_flag_is_checked(monkeypatch, capsys):
    common = ("meta-train", str(BLUR), "--set", "k=2", "--data", "xor", "--layers", "4", "--steps", "1")
    message = usage_error(*common, "--search-scale", "huge", monkeypatch=monkeypatch, capsys=capsys)
    assert "'huge' is not a search scale; choose from declared, start" in message
    message = usage_error(*common, "--method", "grad", "--search-scale", "start", monkeypatch=monkeypatch,
                          capsys=capsys)
    assert "grad already steps each entry in units of the larger of its declared scale" in message
