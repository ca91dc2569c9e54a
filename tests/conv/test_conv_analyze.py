"""`rulec analyze --layers`: the numerical gradient-field check (paper eq. 10) on a convolutional network, on a fixed
random batch in float64; a malformed network is a usage error that says what to write."""

from __future__ import annotations

import pytest

from tests.conftest import run_cli, usage_error

CONVNET = "4x4x1,conv2k2s1,3"  # 4 x (2 x 2 x 1 + 1) x 2 kernel weights and (32 + 1) x 3 dense ones: 109 weights


@pytest.mark.parametrize("rule, symmetric", [("backprop", True), ("feedback_alignment", False)])
def test_the_numeric_check_runs_on_a_convnet(rule, symmetric, monkeypatch, capsys):
    code, out, err = run_cli("analyze", f"stdlib_rules/{rule}.rule", "--layers", CONVNET, monkeypatch=monkeypatch,
                             capsys=capsys)
    numeric = next(line for line in out.splitlines() if "numeric" in line)
    asymmetry, noise = (float(part.split()[-1]) for part in numeric.split("=")[-1].split(", noise floor"))
    assert code == 0 and "network 4x4x1-conv2k2-3 on 4 random examples, 109 weights" in numeric, err
    if symmetric:  # backprop's update is the gradient of its loss: Q is the Hessian, symmetric to rounding
        assert asymmetry < 1e-12 and "=> consistent with a gradient field" in out
    else:  # feedback alignment sends the error back through a fixed random B
        assert asymmetry > 1e6 * noise and "=> not a gradient field" in out


@pytest.mark.parametrize("layers, message", [
    ("4x4x1,conv2k2", "the output layer is dense: end the network with a size (its classes)"),
    ("4x4,3", "cannot read the layer '4x4': write a size such as 256"),
    ("4x4x1,conv2k2s3,3", "stride (3) may not exceed its kernel (2)"),
    ("3", "expected numbers such as 784,256,10 (at least two)"),
])
def test_a_malformed_network_is_a_usage_error(layers, message, monkeypatch, capsys):
    assert message in usage_error("analyze", "stdlib_rules/backprop.rule", "--layers", layers,
                                  monkeypatch=monkeypatch, capsys=capsys)


def test_a_convnet_with_too_many_weights_is_refused_before_tracing(monkeypatch, capsys):
    # (3 x 3 + 1) x 64 kernel weights and (8 x 8 x 64 + 1) x 3 dense ones
    code, _, err = run_cli("analyze", "stdlib_rules/backprop.rule", "--layers", "8x8x1,conv64k3,3",
                           monkeypatch=monkeypatch, capsys=capsys)
    text = " ".join(err.split())
    assert code == 1 and "and 12931 on 8x8x1-conv64k3-3, more than the 200 and 4096" in text, err
    assert "use smaller dims (--set) or layers (--layers)" in text


def test_a_network_too_large_for_memory_is_refused_before_its_examples_are_drawn(monkeypatch, capsys):
    code, _, err = run_cli("analyze", "stdlib_rules/backprop.rule", "--layers", f"{10**20}x2x1,conv2k2,10",
                           monkeypatch=monkeypatch, capsys=capsys)
    text = " ".join(err.split())
    assert code == 1 and f"the numeric check on layers {10**20}x2x1-conv2k2-10 needs about" in text, err
    assert "internal error" not in text
