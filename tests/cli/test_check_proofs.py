"""`rulec check` runs the proofs: a line saying what was proved, or a located refusal with exit code 1."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import ROOT


def rulec(*args):
    return subprocess.run([sys.executable, "-m", "rulec", *args], capture_output=True, text=True, cwd=ROOT)


def test_check_says_what_was_proved():
    result = rulec("check", "stdlib_rules/backprop.rule")
    assert result.returncode == 0, result.stderr
    proved = result.stdout.splitlines()[1]
    assert proved.startswith("stdlib_rules/backprop.rule: proved sgd(loss = mse, lr = lr)")
    assert "networks 2-2-1 and 1-2-2-1" in proved and "summed squared error" in proved


def test_a_broken_variant_exits_1_with_the_residual():
    result = rulec("check", "tests/fixtures/proofs/flipped_sign.rule")
    assert result.returncode == 1
    assert result.stderr.startswith("tests/fixtures/proofs/flipped_sign.rule:36:1: error: cannot prove sgd")
    assert "hint: update + lr * dL/dw simplifies to" in result.stderr
    assert "Traceback" not in result.stderr


def test_no_prove_skips_the_proofs():
    result = rulec("check", "--no-prove", "tests/fixtures/proofs/flipped_sign.rule")
    assert result.returncode == 0
    assert "proved" not in result.stdout
