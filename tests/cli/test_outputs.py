"""A run's outputs planned before any work: none overwrites another, one file has one lock whatever its spelling,
lock files are never followed through links, and devices, pipes and link loops are refused as outputs."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from rulec.diagnostics import RuleError
from rulec.files import save_or_rescue, writable_problem
from rulec.meta import checkpoint
from rulec.runtime import lock, outputs
from tests.cli.test_hostile_runs import BACKPROP, META, TRAIN
from tests.conftest import ROOT
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


def refusing(*folders: Path):
    """A save that fails, as a read-only folder does (root ignores permission bits), in each of `folders`."""
    saved = []

    def save(path: Path) -> None:
        if path.parent in folders:
            raise PermissionError(13, "Permission denied")
        path.write_text("result")
        saved.append(path)
    return save, saved


def test_a_result_is_rescued_in_the_temporary_folder_when_the_working_directory_is_read_only(tmp_path, monkeypatch):
    output, work, temporary = (tmp_path / name for name in ("output", "work", "temporary"))
    for folder in (output, work, temporary):
        folder.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.setattr(tempfile, "tempdir", str(temporary))
    save, saved = refusing(output, work)
    warnings = []
    rescued = save_or_rescue(output / "run.json", save, warnings.append)
    assert rescued.parent == temporary and saved == [rescued] and rescued.name.startswith("run.rescued-")
    assert f"could not write {output / 'run.json'} (Permission denied); nor {work}" in warnings[0]
    save, _ = refusing(output, work, temporary)
    with pytest.raises(RuleError, match="could not write the result here nor rescue it elsewhere") as refused:
        save_or_rescue(output / "run.json", save, warnings.append)
    assert refused.value.diagnostics[0].code == "unwritable-output"


def test_files_capped_by_ulimit_f_end_in_a_message(tmp_path):
    script = f"""
import resource
resource.setrlimit(resource.RLIMIT_FSIZE, (64, 64))
from rulec.diagnostics import RuleError
from rulec.files import save_or_rescue, write_text
try:
    save_or_rescue({str(tmp_path / 'run.json')!r}, lambda path: write_text(path, "x" * 1000), print)
except RuleError as error:
    print(error.diagnostics[0].message)
"""
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=tmp_path,
                            env={**os.environ, "PYTHONPATH": str(ROOT), "TMPDIR": str(tmp_path)}, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "could not write the result here nor rescue it elsewhere" in result.stdout
    assert "File too large" in result.stdout and list(tmp_path.iterdir()) == []


def test_a_checkpoint_that_cannot_be_written_mid_run_is_a_warning_and_exit_1(tmp_path, monkeypatch, capsys):
    def read_only(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(checkpoint, "save", read_only)
    code, _, err = run(*META, "-o", str(tmp_path / "g.npz"), monkeypatch=monkeypatch, capsys=capsys)
    text = " ".join(err.split())
    assert code == 1 and "could not write the checkpoint of step 1 in" in text and "(Permission denied)" in text
    assert (tmp_path / "g.npz").exists()
