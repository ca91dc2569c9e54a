"""`--set` errors point at the flag, say what is allowed, and come alone."""

from __future__ import annotations

import pytest

import rulec
from rulec.check.declarations import MAX_DIM
from rulec.diagnostics import RuleError
from tests.conftest import ROOT
from tests.conftest import run_cli as run

BLUR = str(ROOT / "stdlib_rules" / "blur.rule")
BACKPROP = str(ROOT / "stdlib_rules" / "backprop.rule")


def check_with(flag: str, path: str, monkeypatch, capsys) -> list[str]:
    code, out, err = run("check", path, "--set", flag, monkeypatch=monkeypatch, capsys=capsys)
    assert code == 2  # a usage error
    assert "Traceback" not in err and "internal error" not in err
    return err.splitlines()


@pytest.mark.parametrize("value", ["0", "-1", "100000"])
def test_a_dim_out_of_range_is_blamed_on_the_flag_alone(value, monkeypatch, capsys):
    lines = check_with(f"k={value}", BLUR, monkeypatch, capsys)
    assert lines == [f"<command line>:1:7: error: dim `k` must be between 1 and {MAX_DIM}, not {value}",
                     f"  --set k={value}",
                     "        " + "^" * len(f"k={value}"),
                     "  hint: the file declares `dim k = 4`",
                     "1 error"]


def test_a_fractional_dim_is_not_called_malformed(monkeypatch, capsys):
    lines = check_with("k=0.5", BLUR, monkeypatch, capsys)
    assert lines[0] == "<command line>:1:7: error: dim `k` must be a whole number, not 0.5"


def test_a_genome_constant_is_not_a_dim(monkeypatch, capsys):
    lines = check_with("lr=0.1", BACKPROP, monkeypatch, capsys)
    assert lines[0] == "<command line>:1:7: error: `lr` is a genome constant of rule `backprop`, not a dim"
    assert lines[3] == "  hint: only dims can be set; rule `backprop` has no dims; set it with `--genome-set lr=...`"


def test_an_unknown_name_lists_the_dims(monkeypatch, capsys):
    lines = check_with("nosuch=3", BLUR, monkeypatch, capsys)
    assert lines[0] == "<command line>:1:7: error: `nosuch` is not a dim of rule `blur`"
    assert lines[3] == "  hint: only dims can be set; rule `blur` has the dims `k`"
    assert check_with("kk=3", BLUR, monkeypatch, capsys)[3] == "  hint: did you mean `k`?"


@pytest.mark.parametrize("flag", ["k8", "k:8", "=8", "k=abc", "8=k"])
def test_malformed_flags_get_a_hint_with_the_correct_form(flag, monkeypatch, capsys):
    lines = check_with(flag, BLUR, monkeypatch, capsys)
    assert lines[0] == f"<command line>:1:7: error: malformed `--set {flag}`"
    assert lines[3] == "  hint: write a dim's name, `=` and a whole number, as in `--set k=8`"


def test_the_api_reports_a_bad_dim_at_the_rule_header():
    with pytest.raises(RuleError) as caught:
        rulec.load(BLUR, k=0)
    assert caught.value.message == f"dim `k` must be between 1 and {MAX_DIM}, not 0"
    assert len(caught.value.diagnostics) == 1
    assert caught.value.span.line == open(BLUR).read().split("\n").index("rule blur") + 1


def test_a_bad_dim_in_the_file_does_not_cascade():
    text = open(BLUR).read().replace("dim k = 4", "dim k = 0")
    with pytest.raises(RuleError) as caught:
        rulec.loads(text)
    assert caught.value.codes == ("bad-dim",)
