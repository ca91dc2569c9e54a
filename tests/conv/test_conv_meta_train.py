"""BLUR meta-trains on a small convolutional network on digits, and a run stopped by Ctrl-C after its second
generation and resumed from its checkpoint ends where an uninterrupted run ends. At the level of the library's run
(rulec/experiment/meta_training.py), so that both runs share one compiled method: the command's own resume is
tested in tests/meta/test_meta_train.py, and what a convnet adds is the network built on the tasks' images."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import rulec
from rulec.experiment import meta_training


def test_blur_meta_trains_on_a_convnet_and_resumes_where_it_stopped(tmp_path):
    settings = meta_training.settings("cmaes", data="digits", hidden=(rulec.Conv(2, 3, stride=2),), batch=8,
                                      population=4, unroll=2, eval_batches=1, steps=3)
    run = meta_training.prepare(rulec.load("stdlib_rules/blur.rule", k=2), settings)
    assert "layers 8x8x1-conv2k3s2-10" in run.describe()
    fresh = lambda: dataclasses.replace(run, history=[], unsaved=[])  # noqa: E731 (the carry is immutable)
    whole = fresh().run()

    def interrupt_after_two(record: dict) -> None:
        if record["step"] == 2:
            raise KeyboardInterrupt

    with pytest.raises(meta_training.Interrupted):
        fresh().run(progress=interrupt_after_two, checkpoint_dir=tmp_path)
    resumed = fresh()
    assert resumed.resume(tmp_path) == 2
    again = resumed.run()
    assert [record["step"] for record in again.history] == [1, 2, 3]
    assert whole.genome.keys() == again.genome.keys()
    for name, value in whole.genome.items():
        np.testing.assert_array_equal(again.genome[name], value)
