"""Ctrl-C at any moment of a run, start-up and compilation included, ends it with exit status 130 and a message:
never an abort, a crash or a traceback. Meta-training writes a checkpoint first."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from tests.cli.test_hostile_runs import META, TRAIN
from tests.conftest import ROOT

LIMIT = 300  # seconds; a guard against a hang


def launch(args: list[str], cwd) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "rulec", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, cwd=cwd, env=dict(os.environ, JAX_PLATFORMS="cpu", PYTHONPATH=str(ROOT)))


def test_ctrl_c_at_any_moment_of_start_up_ends_with_130(tmp_path):
    """Sent while rulec imports, while JAX starts and while the step compiles or runs, to runs side by side (before
    rulec's first line, the interpreter's own start-up is out of its reach)."""
    delays = (2.0, 5.0, 9.0)
    runs = [launch([*TRAIN[:-6], "--steps", "1000000", "--batch", "1", "--baseline", "none"], tmp_path)
            for _ in delays]
    started = time.monotonic()
    for delay, run in zip(delays, runs):
        time.sleep(max(0.0, started + delay - time.monotonic()))
        run.send_signal(signal.SIGINT)
    for delay, run in zip(delays, runs):
        _, err = run.communicate(timeout=LIMIT)
        assert run.returncode == 130 and "interrupted" in err and "Traceback" not in err, (delay, err)


def test_ctrl_c_while_meta_training_writes_a_checkpoint_and_ends_with_130(tmp_path):
    run = launch([*META[:-2], "--steps", "100000", "--checkpoint-every", "1", "-o", "g.npz"], tmp_path)
    started = time.monotonic()
    while not (tmp_path / "g.checkpoint" / "checkpoint.json").exists():  # the loop is under way
        assert run.poll() is None and time.monotonic() < started + LIMIT
        time.sleep(0.1)
    run.send_signal(signal.SIGINT)
    _, err = run.communicate(timeout=LIMIT)
    assert run.returncode == 130 and "interrupted: checkpoint written at step" in " ".join(err.split()), err
    assert (tmp_path / "g.checkpoint" / "checkpoint.json").exists()
