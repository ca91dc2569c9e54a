"""The `rulec` command line: summary lines, located errors on stderr, exit codes, and never a traceback."""

from __future__ import annotations

import functools
import re
import subprocess
import sys

from pygments.console import ansiformat
from pygments.formatters.terminal import TERMINAL_COLORS
from pygments.token import Comment, Keyword, Name, Number, String

from rulec import cli
from tests.conftest import INVALID, ROOT, STDLIB
from tests.conftest import run_cli as run


def test_check_prints_one_summary_line_per_file(monkeypatch, capsys):
    code, out, err = run("check", *map(str, STDLIB), monkeypatch=monkeypatch, capsys=capsys)
    assert code == 0, err
    lines = [line for line in out.splitlines() if ": ok: " in line]
    assert len(lines) == len(STDLIB)
    assert lines[0].startswith(f"{STDLIB[0]}: ok: rule {STDLIB[0].stem}")


def test_check_reports_located_errors_and_exits_1(monkeypatch, capsys):
    bad = ROOT / "tests" / "fixtures" / "invalid" / "undeclared_name.rule"
    code, out, err = run("check", str(bad), monkeypatch=monkeypatch, capsys=capsys)
    assert code == 1
    assert err.splitlines()[0] == f"{bad}:23:24: error: undeclared name `lrr`"
    assert err.splitlines()[2].strip() == "^^^"
    assert "hint: did you mean `lr`?" in err
    assert "Traceback" not in err


def test_check_goes_on_after_a_bad_file(monkeypatch, capsys):
    bad = INVALID[0]
    good = ROOT / "stdlib_rules" / "backprop.rule"
    code, out, err = run("check", str(bad), str(good), monkeypatch=monkeypatch, capsys=capsys)
    assert code == 1
    assert out.startswith(f"{good}: ok")


def test_missing_file_is_a_clear_error(monkeypatch, capsys, tmp_path):
    code, out, err = run("check", str(tmp_path / "none.rule"), monkeypatch=monkeypatch, capsys=capsys)
    assert code == 1
    assert err.startswith(f"{tmp_path / 'none.rule'}: error: cannot read the rule file")


def test_binary_file_is_a_clear_error(monkeypatch, capsys, tmp_path):
    path = tmp_path / "binary.rule"
    path.write_bytes(b"\xff\xfe\x00rule")
    code, out, err = run("check", str(path), monkeypatch=monkeypatch, capsys=capsys)
    assert code == 1
    assert "cannot read the rule file" in err


def test_set_overrides_dims(monkeypatch, capsys):
    code, out, err = run("check", str(ROOT / "stdlib_rules" / "blur.rule"), "--set", "k=8",
                         monkeypatch=monkeypatch, capsys=capsys)
    assert code == 0, err
    assert "k=8" in out


def test_malformed_set_flag_is_a_located_error(monkeypatch, capsys):
    code, out, err = run("check", str(ROOT / "stdlib_rules" / "blur.rule"), "--set", "k8",
                         monkeypatch=monkeypatch, capsys=capsys)
    assert code == 2
    assert err.startswith("<command line>:1:7: error: malformed `--set k8`")


def test_show_prints_the_canonical_rule(monkeypatch, capsys):
    code, out, err = run("show", str(ROOT / "stdlib_rules" / "backprop.rule"), "--no-color",
                         monkeypatch=monkeypatch, capsys=capsys)
    assert code == 0
    assert out.startswith("rule backprop\n")
    assert "  a[j, 1] := tanh'(z[j])" in out
    assert "# checked: rule backprop" in out


def test_show_highlights_with_the_rule_lexer(monkeypatch, capsys):
    """Each token gets its kind's colour in Pygments' terminal scheme (light background), and colour is all that
    changes: without the escape codes the text is that of `--no-color`."""
    backprop = str(ROOT / "stdlib_rules" / "backprop.rule")
    code, out, err = run("show", backprop, "--color", monkeypatch=monkeypatch, capsys=capsys)
    assert code == 0, err
    plain = run("show", backprop, "--no-color", monkeypatch=monkeypatch, capsys=capsys)[1]
    assert re.sub(r"\x1b\[[0-9;]*m", "", out) == plain
    keyword, builtin, number, string, comment = (
        functools.partial(ansiformat, TERMINAL_COLORS[kind][0]) for kind in (Keyword, Name.Builtin, Number, String,
                                                                              Comment))
    assert f"\n{keyword('forward')} (i {keyword('in')} {builtin('pre')}+{keyword('bias')}, j " in out
    derivative = builtin("tanh'")
    assert f"  a[j, {number('1')}] := {derivative}(z[j])\n" in out  # the rule's own names stay plain
    assert f"  lr = {number('0.001')}\n" in out
    assert string('"Backpropagation on the summed squared error, as a two-state rule."') in out
    summary = next(line for line in plain.splitlines() if line.startswith("# checked: "))
    assert f"\n{comment(summary)}\n" in out


def test_unknown_command_is_a_usage_error_not_a_traceback(monkeypatch, capsys):
    code, out, err = run("frobnicate", monkeypatch=monkeypatch, capsys=capsys)
    assert code == 2
    assert "Traceback" not in err and "No such command" in err


def test_internal_errors_are_reported_without_a_traceback(monkeypatch, capsys):
    def broken(*args, **kwargs):
        raise ZeroDivisionError("boom")

    monkeypatch.setattr(cli, "check_rule", broken)
    code, out, err = run("check", str(STDLIB[0]), monkeypatch=monkeypatch, capsys=capsys)
    assert code == 3
    assert "internal error: ZeroDivisionError: boom" in err and "please report it" in err and "Traceback" not in err


def test_console_script_runs():
    result = subprocess.run([sys.executable, "-m", "rulec", "check", str(STDLIB[0])], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(str(STDLIB[0]))


def test_compile_says_what_dead_state_elimination_skips(monkeypatch, capsys, tmp_path):
    out = tmp_path / "blur.jaxpr"
    common = ("compile", "stdlib_rules/blur.rule", "--set", "k=2", "--emit", "ir", "--layers", "4,3,2", "--batch", "2",
              "-o", str(out))
    code, _, err = run(*common, monkeypatch=monkeypatch, capsys=capsys)
    assert code == 0, err
    assert "unroll step: line 45, update (pre=0, post=1): `wb[j, i, c] := f_w * wb[j, i, c]" in err
    assert "is skipped (never read afterwards)" in err
    assert "predict: line 34, forward (pre=1, post=2): `a[j, c] := tanh(z[j, c]) for j in output` runs only for " \
           "c in 0..0" in err
    code, _, err = run(*common, "--no-prune", monkeypatch=monkeypatch, capsys=capsys)
    assert code == 0 and "dead-state" not in err
