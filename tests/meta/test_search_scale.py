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
from tests.conftest import ROOT, STDLIB, usage_error

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


@pytest.mark.parametrize("path", STDLIB, ids=lambda p: p.stem)
def test_every_constant_of_the_stdlib_is_searched_in_units_of_its_size(path):
    """A constant whose float32 mean over the draws rounds (0.01, 0.57735) once got the rounding as its unit, about
    1e-8: evolution and PES never moved it (abcd_hebbian's eta, blur_two_state's eta_w, the stdlib's lr)."""
    net = rulec.load(path).network((6, 5, 3))
    draws = jax.vmap(net.init_genome)(jax.random.split(jax.random.key(0), 256))
    units = search_scale(net)
    for name in units:
        for drawn, unit in zip(jax.tree.leaves(draws[name]), jax.tree.leaves(units[name])):
            drawn, unit = np.asarray(drawn), np.asarray(unit)
            constant = np.ptp(drawn, axis=0) == 0
            size = np.where(drawn[0] != 0, np.abs(drawn[0]), 1.0)
            np.testing.assert_allclose(unit[constant], size[constant], err_msg=name)
            np.testing.assert_allclose(unit[~constant], drawn.std(axis=0)[~constant], rtol=1e-5, err_msg=name)


def test_evolution_moves_a_constant_whose_mean_rounds(tiny):
    _, tasks, protocol = tiny
    net = rulec.load(ROOT / "stdlib_rules" / "abcd_hebbian.rule").network((2, 4, 2))  # eta = 0.01 declared
    start = net.init_genome(jax.random.key(0))
    method = Evolution([Network(net, protocol)], tasks, "CMA_ES", 16, SIGMA, start)
    carry = method.init(jax.random.key(1), lambda key: start)
    members, _ = method.strategy.ask(jax.random.key(2), carry["search"], method.params)
    eta = np.asarray(members["eta"]) * carry["scale"]["eta"] + carry["start"]["eta"]
    assert 0.5 * SIGMA * 0.01 < eta.std() < 2 * SIGMA * 0.01


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
