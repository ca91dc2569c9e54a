"""A run's outputs planned before any work: none overwrites another, one file has one lock whatever its spelling,
lock files are never followed through links, and devices, pipes and link loops are refused as outputs."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from rulec.diagnostics import RuleError
from rulec.files import writable_problem
from rulec.runtime import lock, outputs
from tests.cli.test_hostile_runs import BACKPROP, META, TRAIN
from tests.conftest import run_cli as run


def meta_plan(folder: Path, output: str, **flags) -> tuple[outputs.Output, ...]:
    """meta-train's outputs, with its defaults for the log and the checkpoint folder."""
    path = folder / output
    log = folder / flags["log"] if "log" in flags else path.with_suffix(".log.json")
    checkpoints = folder / flags["checkpoints"] if "checkpoints" in flags else path.with_suffix(".checkpoint")
    return outputs.plan({"-o": path, "--log": log, "--plot": None}, {"--checkpoint-dir": checkpoints}, genome="-o")


@pytest.mark.parametrize("flags, culprit, expected", [
    ({"log": "G.npz"}, "--log", "G.npz is also the genome (-o"),
    ({"log": "G.json"}, "--log", "G.json is also the genome's metadata (-o"),
    ({"log": "ckpt/log.json", "checkpoints": "ckpt"}, "--checkpoint-dir", "log.json lies inside the folder of "
                                                                           "--checkpoint-dir"),
    ({"checkpoints": "."}, "--checkpoint-dir", "G.npz lies inside the folder of --checkpoint-dir"),
])
def test_outputs_that_overwrite_one_another_are_found(tmp_path, flags, culprit, expected):
    output, problem = outputs.clash(meta_plan(tmp_path, "G.npz", **flags))
    assert output.flag == culprit and expected in problem


def test_a_genome_spelt_with_or_without_its_suffix_is_one_file_with_one_lock(tmp_path):
    assert outputs.clash(meta_plan(tmp_path, "G")) is None
    bare, suffixed = meta_plan(tmp_path, "out"), meta_plan(tmp_path, "out.npz")
    assert [o.normal() for o in bare] == [o.normal() for o in suffixed]
    with lock.holding(o.path for o in bare):
        with pytest.raises(RuleError, match="another rulec run"):
            with lock.holding(o.path for o in suffixed):
                pass


def test_a_log_over_the_genome_is_refused_before_any_work(tmp_path, monkeypatch, capsys):
    code, _, err = run(*META, "-o", str(tmp_path / "G.npz"), "--log", str(tmp_path / "G.json"),
                       monkeypatch=monkeypatch, capsys=capsys)
    text = " ".join(err.split())
    assert code == 2 and "Invalid value for --log" in text and "is also the genome's metadata" in text, err
    assert list(tmp_path.iterdir()) == []


def test_a_link_planted_at_a_lock_path_is_not_followed(tmp_path):
    victim = tmp_path / "victim"
    victim.write_text("precious")
    lock.lock_path(tmp_path / "r.json").symlink_to(victim)
    with pytest.raises(RuleError, match="the lock file is a symbolic link, which rulec does not follow"):
        with lock.holding([tmp_path / "r.json"]):
            pass
    assert victim.read_text() == "precious"


def test_a_folder_at_a_lock_path_is_a_clear_error(tmp_path):
    lock.lock_path(tmp_path / "r.json").mkdir()
    with pytest.raises(RuleError, match="the lock file is a folder"):
        with lock.holding([tmp_path / "r.json"]):
            pass


def character_device(path: Path) -> Path | None:
    """A copy of /dev/null at `path`; None where this user may not make device nodes."""
    try:
        os.mknod(path, 0o666 | stat.S_IFCHR, os.stat("/dev/null").st_rdev)
    except OSError:
        return None
    return path


def test_devices_pipes_and_link_loops_are_refused_as_outputs(tmp_path):
    os.mkfifo(tmp_path / "pipe")
    assert "is not a regular file (a device, a pipe or a socket)" in writable_problem(tmp_path / "pipe")
    (tmp_path / "loop").symlink_to(tmp_path / "loop")
    assert "cannot be reached (Too many levels of symbolic links)" in writable_problem(tmp_path / "loop")
    (tmp_path / "dangling").symlink_to(tmp_path / "nothing")
    assert writable_problem(tmp_path / "dangling") is None  # the write puts a file in the link's place
    device = character_device(tmp_path / "null")
    if device is None:
        pytest.skip("this user cannot make device nodes")
    assert "is not a regular file" in writable_problem(device)


@pytest.mark.parametrize("make", ["pipe", "loop"])
def test_a_run_onto_a_pipe_or_a_link_loop_is_a_usage_error(tmp_path, monkeypatch, capsys, make):
    target = tmp_path / "out"
    os.mkfifo(target) if make == "pipe" else target.symlink_to(target)
    for args, flag in ([*TRAIN, "--json"], "--json"), (["compile", BACKPROP, "-o"], "-o"):
        code, _, err = run(*args, str(target), monkeypatch=monkeypatch, capsys=capsys)
        assert code == 2 and f"Invalid value for {flag}: cannot write {target}" in " ".join(err.split()), err
    assert stat.S_ISFIFO(os.lstat(target).st_mode) if make == "pipe" else target.is_symlink()
