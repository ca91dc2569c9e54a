"""What this process may still allocate: the smallest of the machine's available memory, the address-space limit
and the cgroup's limit, each read from the kernel; and the readers and the guard that go by it."""

from __future__ import annotations

import resource
from pathlib import Path

import numpy as np
import pytest

from rulec import memory
from rulec.data import idx
from rulec.data.errors import DataError
from rulec.runtime import resources
from tests.runtime.test_untrusted_files import write_idx


def test_an_address_space_limit_counts_what_the_process_already_maps(monkeypatch):
    mapped = memory._kernel_figure(Path("/proc/self/status"), "VmSize")
    assert mapped > 0
    monkeypatch.setattr(resource, "getrlimit", lambda which: (mapped + 2**20, resource.RLIM_INFINITY))
    assert 0 < memory.address_space_left() <= 2**20
    assert memory.usable_bytes() <= 2**20


@pytest.mark.parametrize("files, expected", [
    ({"memory.max": "max", "memory.current": "5"}, None),
    ({"memory.max": "1000", "memory.current": "400"}, 600),
    ({"memory/memory.limit_in_bytes": "3000", "memory/memory.usage_in_bytes": "1000"}, 2000),
    ({"memory/memory.limit_in_bytes": str(2**63 - 4096), "memory/memory.usage_in_bytes": "1"}, None),
    ({}, None),
])
def test_a_cgroup_limit_counts_what_the_group_already_uses(tmp_path, files, expected):
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text(text + "\n")
    assert memory.cgroup_left(tmp_path) == expected


def test_the_guard_goes_by_the_smallest_limit(monkeypatch):
    monkeypatch.setattr(memory, "available", lambda: 10 * 2**30)
    monkeypatch.setattr(memory, "address_space_left", lambda: None)
    monkeypatch.setattr(memory, "cgroup_left", lambda: 2**30)
    assert memory.usable_bytes() == 2**30
    with pytest.raises(DataError, match="needs about 2.15 GB of memory, and this process may use 1.07 GB here"):
        resources.check_plan(resources.Estimate(2 * 2**30, 1.0), "this plan", False, print)


def test_images_are_refused_before_reading_when_their_float32_copy_would_not_fit(tmp_path, monkeypatch):
    """A quarter of the room the images take as bytes is too little once they are float32, four times as large."""
    path = tmp_path / "images"
    write_idx(path, np.zeros((64, 4, 4), np.uint8), code=0x08)
    monkeypatch.setattr(idx, "usable_bytes", lambda: 2 * 64 * 16)
    assert idx.read_idx(path).shape == (64, 4, 4)
    with pytest.raises(DataError, match=r"its data \(64, 4, 4\) takes 5120 bytes once read and converted to float32, "
                                        r"more than the 2048 this process may use"):
        idx.read_idx(path, np.float32)
