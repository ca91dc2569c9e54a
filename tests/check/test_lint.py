"""Warnings: unused declarations, results never read, neuron states read before the step writes them."""

from __future__ import annotations

import warnings

import pytest

import rulec
from rulec.diagnostics import RuleWarning, Severity
from rulec.frontend import check_file, check_text
from rulec.ir.lint import lint, reads_before_writes
from rulec.ir.resolve import resolve
from tests.conftest import ROOT
from tests.conftest import run_cli as run

EVERY = ROOT / "tests" / "fixtures" / "warnings" / "every_warning.rule"
STDLIB = sorted((ROOT / "stdlib_rules").glob("*.rule")) + sorted((ROOT / "examples").glob("*.rule"))


def warnings_of(path) -> list[tuple[int, int, str, str]]:
    found = lint(resolve(check_file(path)))
    assert all(d.severity is Severity.WARNING for d in found)
    return [(d.span.line, d.span.column, d.code, d.message) for d in found]


def test_each_kind_of_warning_is_found_at_its_place():
    assert warnings_of(EVERY) == [
        (4, 1, "unused-declaration", "dim `k` is declared but never read"),
        (5, 1, "unused-declaration", "dim `spare` is declared but never read"),
        (9, 3, "unused-declaration", "genome entry `unused_gain` is declared but never read"),
        (13, 1, "unused-declaration", "neuron `scratch` is declared but never read"),
        (15, 1, "unused-declaration", "synapse `ghost` is declared but never read"),
        (16, 1, "unused-declaration", "activation `act` is declared but never read"),
        (23, 38, "read-before-write", "`theta` is read here before this step writes it, so it reads zero"),
        (24, 3, "unread-result", "`forgotten` is computed but never read"),
        (28, 3, "unread-result", "`scratch` is written here but no phase reads what this writes"),
        (31, 15, "read-before-write", "`theta` is read here before this step writes it, so it reads zero"),
    ]


def test_a_state_that_persists_is_not_read_before_it_is_written(tmp_path):
    assert len(reads_before_writes(resolve(check_file(EVERY)))) == 2
    persistent = tmp_path / "persistent.rule"
    persistent.write_text(EVERY.read_text().replace("neuron theta", "neuron theta persistent = 1", 1)
                          .replace("0.1 * a[i]", "0.1 * mean(batch) a[i]"))
    assert reads_before_writes(resolve(check_file(persistent))) == []


PREDICTED = """rule p
neuron a
neuron b
synapse w : pre+bias -> post ~ uniform(-1, 1)
bias 1
input (i in input)
  a[i] := x[i]
forward (i in pre+bias, j in post)
  a[j] := tanh(sum(i) w[i, j] * a[i])  for j in hidden
  a[j] := sum(i) w[i, j] * a[i]        for j in output
  b[j] := 1                            for j in output
  b[j] := 2                            for j in hidden
update (i in pre+bias, j in post)
  w[i, j] := w[i, j] + 0.1 * sum(batch) a[i] * b[j]  for j in hidden
"""


def test_the_output_state_predict_returns_counts_as_read():
    # `a` on the output layer is read by predict alone (the first neuron's state 0); `b` there by nothing
    found = [(d.span.line, d.message) for d in lint(resolve(check_text(PREDICTED, "p.rule")))]
    assert found == [(11, "`b` is written here but no phase reads what this writes")]


@pytest.mark.parametrize("path", STDLIB, ids=lambda p: p.stem)
def test_the_stdlib_and_examples_have_no_warnings(path):
    assert warnings_of(path) == []


def test_a_comment_on_the_line_allows_a_warning():
    text = EVERY.read_text().replace("dim spare = 3", "dim spare = 3  # allow unused-declaration: kept for --set")
    found = [d.message for d in lint(resolve(check_text(text, "r.rule")))]
    assert "dim `spare` is declared but never read" not in found
    assert "dim `k` is declared but never read" in found


def test_load_issues_the_warnings_and_keeps_them_on_the_rule():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        rule = rulec.load(EVERY)
    assert len(rule.warnings) == 10
    issued = [w for w in caught if issubclass(w.category, RuleWarning)]
    assert len(issued) == 10
    assert str(issued[0].message).startswith(f"{EVERY}:4:1: warning: dim `k` is declared but never read")


def test_check_prints_warnings_and_exits_zero_unless_werror(monkeypatch, capsys):
    code, out, err = run("check", str(EVERY), monkeypatch=monkeypatch, capsys=capsys)
    assert code == 0
    lines = err.splitlines()
    assert lines[:4] == [f"{EVERY}:4:1: warning: dim `k` is declared but never read", "  dim k = 2", "  ^^^^^^^^^",
                         "  hint: remove it, or use it"]
    assert lines[-1] == "10 warnings"
    code, out, err = run("check", str(EVERY), "--werror", monkeypatch=monkeypatch, capsys=capsys)
    assert code == 1
    assert err.splitlines()[0] == f"{EVERY}:4:1: error: dim `k` is declared but never read"
    assert err.splitlines()[-1] == "10 errors"


@pytest.mark.parametrize("command", [["compile", "--emit", "ir", "--layers", "2,2"], ["analyze"]])
def test_every_command_that_checks_a_rule_takes_werror(command, monkeypatch, capsys):
    code, out, err = run(command[0], str(EVERY), *command[1:], "--werror", monkeypatch=monkeypatch, capsys=capsys)
    assert code == 1
    assert err.startswith(f"{EVERY}:4:1: error: dim `k` is declared but never read")


def test_an_allow_comment_names_a_code_exactly_and_an_unknown_one_is_reported():
    line = "dim spare = 3  # allow unused-declarations: kept for --set"
    text = EVERY.read_text().replace("dim spare = 3", line)
    found = [(d.span.line, d.span.column, d.code) for d in lint(resolve(check_text(text, "r.rule")))]
    assert (5, 1, "unused-declaration") in found
    assert (5, line.index("unused-declarations") + 1, "unknown-allow") in found


def test_finding_unread_lets_walks_each_statement_once(monkeypatch):
    # 10,000 lets took over a minute when every let searched every later statement for its reads
    from rulec.ir import lint as lint_module
    from rulec.ir import nodes

    lets = "".join(f"  let z{n}[j] = a[j] + {n}\n" for n in range(300))
    text = PREDICTED.replace("  a[j] := sum(i) w[i, j] * a[i]        for j in output\n",
                             "  a[j] := sum(i) w[i, j] * a[i]        for j in output\n" + lets)
    program = resolve(check_text(text, "p.rule"))
    walks, walk = [], nodes.walk
    monkeypatch.setattr(lint_module.ir, "walk", lambda e: walks.append(e) or walk(e))
    assert len(lint_module.unread_lets(program)) == 300
    assert len(walks) < 5 * 300  # linear: a walk visits each sub-expression; it was 135,150
