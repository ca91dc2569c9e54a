"""`--genome-set NAME=VALUE` sets one genome entry on top of the genome a command uses; its errors point at it."""

from __future__ import annotations

import json

import jax
import numpy as np
import pytest

import rulec
from rulec.experiment.meta_training import initial_genome
from rulec.diagnostics import RuleError
from rulec.runtime.genome_set import apply_settings, parse_setting
from tests.conftest import ROOT
from tests.conftest import run_cli as run

TEMPLATE = str(ROOT / "stdlib_rules" / "blur_two_state.rule")
ABCD = str(ROOT / "stdlib_rules" / "abcd_hebbian.rule")


def settings(*texts: str) -> tuple:
    return tuple(parse_setting(t) for t in texts)


def test_numbers_and_preset_functions_replace_entries_and_leave_the_others():
    rule = rulec.load(TEMPLATE)
    genome = rule.preset()
    changed = apply_settings(rule.program, genome, settings("eta_w=-0.25", "mu=diag(2, -1)", "nu=zeros",
                                                            "nu_h=block([[0.5, -1]])"))
    np.testing.assert_array_equal(changed["mu"], [[2, 0], [0, -1]])
    np.testing.assert_array_equal(changed["nu_h"], [[0.5, -1], [0, 0]])
    np.testing.assert_array_equal(changed["nu"], np.zeros((2, 2)))
    assert float(changed["eta_w"]) == -0.25 and changed["eta_w"].dtype == genome["eta_w"].dtype
    np.testing.assert_array_equal(changed["mu_h"], genome["mu_h"])


def test_a_per_synapse_entry_is_filled_in_every_layer():
    rule = rulec.load(ABCD)
    net = rule.network((3, 4, 2))
    genome = net.init_genome(jax.random.key(0))
    name = rule.per_synapse_genome[0]
    changed = apply_settings(rule.program, genome, settings(f"{name}=fill(0.5)"))
    assert [a.shape for a in changed[name]] == [a.shape for a in genome[name]]
    assert all(np.all(np.asarray(a) == 0.5) for a in changed[name])


@pytest.mark.parametrize("flag, message, hint", [
    ("etaw=1", "`etaw` is not a genome entry of rule `blur_two_state`", "did you mean `eta_w`?"),
    ("eta_w=nan", "`--genome-set eta_w=nan` is not a finite number", "a genome value must be finite"),
    ("eta_w=-inf", "`--genome-set eta_w=-inf` is not a finite number", "a genome value must be finite"),
    ("mu=diag(1, 2, 3)", "`diag` is given 3 values, but the diagonal has 2", "`mu` has shape [2, 2]"),
    ("eta=identity", "`identity` makes a square matrix, but the entry has shape []", "`eta` has shape []"),
    ("mu=[[1, 0], [0, 1]]", "malformed `--genome-set mu=[[1, 0], [0, 1]]`", None),
    ("mu", "malformed `--genome-set mu`", None),
    ("mu=block([[1, 0], [0]])", "the rows of this matrix differ in length", None),
    ("mu=block([[1, NaN]])", "malformed matrix `[[1, NaN]]` in `--genome-set`",
     "write rows of finite numbers, as in `block([[0, -1], [0, 1]])`"),
    ("eta_w=1e39", "`eta_w=1e39`: 1e+39 overflows float32 (whose largest value is 3.403e+38)",
     "give a value that fits float32"),
    ("eta_w=-1e300", "`eta_w=-1e300`: 1e+300 overflows float32 (whose largest value is 3.403e+38)",
     "give a value that fits float32"),
    ("mu=diag(1e39, 1)", "`mu=diag(1e39, 1)`: 1e+39 overflows float32 (whose largest value is 3.403e+38)",
     "give a value that fits float32"),
    ("mu=block([[1, 0, 0]])", "`block` is given a 1 x 3 corner, which does not fit inside the entry's shape [2, 2]",
     "`mu` has shape [2, 2]"),
])
def test_a_bad_setting_is_a_usage_error_located_on_the_flag(flag, message, hint, monkeypatch, capsys):
    code, out, err = run("compile", TEMPLATE, "--emit", "ir", "--layers", "2,2", "--genome-set", flag,
                         monkeypatch=monkeypatch, capsys=capsys)
    lines = err.splitlines()
    assert code == 2 and "Traceback" not in err
    assert lines[:3] == [f"<command line>:1:14: error: {message}", f"  --genome-set {flag}",
                         " " * 15 + "^" * len(flag)]
    if hint is not None:
        assert lines[3] == f"  hint: {hint}"


def test_a_matrix_nested_5000_deep_is_a_usage_error(monkeypatch, capsys):
    code, _, err = run("compile", TEMPLATE, "--emit", "ir", "--layers", "2,2", "--genome-set",
                       "mu=block(" + "[" * 5000 + "1" + "]" * 5000 + ")", monkeypatch=monkeypatch, capsys=capsys)
    assert code == 2 and "Traceback" not in err and "internal error" not in err
    assert "error: malformed matrix `[[[[" in err and "write rows of finite numbers" in err


def test_compile_folds_the_set_value_into_the_preset(monkeypatch, capsys):
    def jaxpr(*flags: str) -> str:
        code, out, err = run("compile", TEMPLATE, "--emit", "ir", "--layers", "2,2", "--batch", "1", *flags,
                             monkeypatch=monkeypatch, capsys=capsys)
        assert code == 0, err
        return out

    assert "0.375" in jaxpr("--genome-set", "eta_w=-0.375")
    assert "0.375" not in jaxpr("--preset", "backprop")


def test_compile_refuses_a_setting_with_no_preset_to_change(monkeypatch, capsys):
    code, out, err = run("compile", str(ROOT / "stdlib_rules" / "hebbian.rule"), "--emit", "ir", "--layers", "2,2",
                         "--genome-set", "eta=0.1", monkeypatch=monkeypatch, capsys=capsys)
    assert code == 2
    assert "this rule has no default preset; give --preset to say which one to change" in err


def test_train_uses_and_reports_the_setting(tmp_path, monkeypatch, capsys):
    out_path = tmp_path / "run.json"
    code, out, err = run("train", TEMPLATE, "--data", "xor", "--layers", "4", "--steps", "3", "--batch", "8",
                         "--baseline", "none", "--preset", "backprop", "--genome-set", "eta_w=0",
                         "--json", str(out_path),
                         monkeypatch=monkeypatch, capsys=capsys)
    assert code == 0, err
    record = json.loads(out_path.read_text())
    assert record["genome"] == "preset backprop with eta_w=0"
    assert len(set(record["rule_accuracy"].values())) == 1  # a zero learning rate never changes the network


def test_meta_training_starts_every_member_from_the_setting():
    rule = rulec.load(TEMPLATE)
    net = rule.network((2, 3, 2))
    initial = initial_genome(rule, net, None, None, settings("mu=identity"), None)
    first, second = initial(jax.random.key(1)), initial(jax.random.key(2))
    np.testing.assert_array_equal(first["mu"], np.eye(2))
    np.testing.assert_array_equal(second["mu"], np.eye(2))
    assert not np.array_equal(first["nu"], second["nu"])  # the other entries are still drawn per key
    with pytest.raises(RuleError, match="`nosuch` is not a genome entry"):
        initial_genome(rule, net, None, None, settings("nosuch=1"), None)
