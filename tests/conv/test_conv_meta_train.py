"""BLUR meta-trains on a small convolutional network: `rulec meta-train` on digits with a convolutional layer, and
a run resumed from its checkpoint ends where an uninterrupted run ends."""

from __future__ import annotations

import numpy as np

from tests.conftest import run_cli
from tests.meta.test_meta_train import genome_arrays

CONV_ES = ["meta-train", "stdlib_rules/blur.rule", "--set", "k=2", "--method", "cmaes", "--data", "digits",
           "--layers", "conv2k3s2,6", "--population", "4", "--batch", "8", "--unroll", "3", "--eval-batches", "1"]


def test_blur_meta_trains_on_a_convnet_and_resumes_where_it_stopped(tmp_path, monkeypatch, capsys):
    whole, part = tmp_path / "whole.npz", tmp_path / "part.npz"
    code, _, err = run_cli(*CONV_ES, "--steps", "2", "-o", str(whole), monkeypatch=monkeypatch, capsys=capsys)
    assert code == 0, err
    assert "8x8x1-conv2k3s2-6-10" in " ".join(err.split())
    code, _, err = run_cli(*CONV_ES, "--steps", "1", "-o", str(part), monkeypatch=monkeypatch, capsys=capsys)
    assert code == 0, err
    code, _, err = run_cli(*CONV_ES, "--steps", "2", "-o", str(part), "--resume", monkeypatch=monkeypatch,
                           capsys=capsys)
    assert code == 0, err
    resumed, uninterrupted = genome_arrays(part), genome_arrays(whole)
    assert resumed.keys() == uninterrupted.keys()
    for name in resumed:
        np.testing.assert_array_equal(resumed[name], uninterrupted[name])
