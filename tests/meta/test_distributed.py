"""Meta-training over several processes on JAX's distributed runtime, on localhost: two processes with two CPU
devices each (gloo collectives) learn the genome that one process with four devices learns, bit for bit.

Bit for bit is what the arithmetic allows here: both runs split the population into the same four slices, and
each device runs the same compiled program on its slice; only the gathering of the results crosses processes,
and gathering copies numbers without adding any. Everything else (the search state, the validation) is computed
by every process alike from those gathered results.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time

import numpy as np
import pytest

from rulec.meta import distributed
from rulec.runtime.lock import holding
from tests.conftest import ROOT
from tests.conftest import run_cli
from tests.meta.test_meta_train import genome_arrays

# The cheapest rule with a genome: what is tested is how the processes share the search, not what the rule learns.
HEBBIAN = str(ROOT / "stdlib_rules" / "hebbian.rule")
TINY = ["meta-train", HEBBIAN, "--data", "xor", "--layers", "8", "--population", "4", "--batch", "16",
        "--unroll", "3", "--eval-batches", "1", "--eval-every", "1"]
LIMIT = 300  # seconds; a guard against a hang, far above the few seconds each run takes on an idle machine


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("localhost", 0))
        return probe.getsockname()[1]


pytestmark = pytest.mark.usefixtures("compilation_cache")  # tests/conftest.py: the runs share their compiling


def launch(args: list[str], devices: int, cwd) -> subprocess.Popen:
    environment = dict(os.environ, JAX_PLATFORMS="cpu", XLA_FLAGS=f"--xla_force_host_platform_device_count={devices}",
                       PYTHONPATH=str(ROOT))
    return subprocess.Popen([sys.executable, "-m", "rulec", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=environment, cwd=cwd)


def finish(process: subprocess.Popen) -> str:
    try:
        _, err = process.communicate(timeout=LIMIT)
    except subprocess.TimeoutExpired:
        process.kill()
        pytest.fail(f"a meta-training process did not finish within {LIMIT} s")
    assert process.returncode == 0, err
    return err


def one_and_two_processes(method: str, steps: int, tmp_path) -> tuple[str, list[str]]:
    """Starts one process x 4 devices (one.npz) and two processes x 2 devices (two.npz) side by side; returns
    the first one's stderr and the stderr of the two."""
    port = free_port()
    one = launch([*TINY, "--method", method, "--steps", str(steps), "-o", "one.npz"], 4, tmp_path)
    two = [launch([*TINY, "--method", method, "--steps", "2", "-o", "two.npz", "--coordinator", f"localhost:{port}",
                   "--num-processes", "2", "--process-id", str(i)], 2, tmp_path) for i in range(2)]
    return finish(one), [finish(process) for process in two]


def assert_same_genome(got, expected) -> None:
    got, expected = genome_arrays(got), genome_arrays(expected)
    assert got.keys() == expected.keys()
    for name in expected:
        np.testing.assert_array_equal(got[name], expected[name], err_msg=name)


def history(path) -> list[dict]:
    return [{k: v for k, v in record.items() if k != "seconds"}
            for record in json.loads(path.read_text())["history"]]


def test_two_processes_evolve_the_genome_of_one_process(tmp_path):
    _, (leader, other) = one_and_two_processes("cmaes", 2, tmp_path)
    assert_same_genome(tmp_path / "two.npz", tmp_path / "one.npz")
    assert history(tmp_path / "two.log.json") == history(tmp_path / "one.log.json")
    assert "4 device(s) in 2 processes" in leader and "wrote two.npz" in leader
    assert "meta-training" not in other and "wrote" not in other  # process 1 computes, quietly


def test_two_processes_meta_learn_by_gradient_like_one_and_their_checkpoint_resumes_in_one(tmp_path):
    one_and_two_processes("grad", 3, tmp_path)
    assert history(tmp_path / "two.log.json") == history(tmp_path / "one.log.json")[:2]
    # The checkpoint holds the whole search state, so one process takes over where two stopped.
    resumed = finish(launch([*TINY, "--method", "grad", "--steps", "3", "-o", "two.npz", "--resume"], 4, tmp_path))
    assert "resuming from step 2" in resumed
    assert_same_genome(tmp_path / "two.npz", tmp_path / "one.npz")
    assert history(tmp_path / "two.log.json") == history(tmp_path / "one.log.json")


def test_an_unreachable_coordinator_ends_with_a_message_not_a_hang(tmp_path):
    started = time.monotonic()
    process = launch([*TINY, "--steps", "1", "--coordinator", f"localhost:{free_port()}", "--num-processes", "2",
                      "--process-id", "1", "--distributed-timeout", "2"], 2, tmp_path)
    _, err = process.communicate(timeout=LIMIT)
    assert process.returncode == 1, err
    assert ("error: could not join the multi-process run within 2 s (process 1 of 2, coordinator localhost:"
            in err) and "hint: start process 0 too" in err
    assert time.monotonic() - started < 60
    assert not (tmp_path / "hebbian.cmaes.npz").exists()


def test_processes_started_with_other_counts_are_refused(tmp_path):
    port = free_port()
    processes = [launch([*TINY, "--steps", "1", "--coordinator", f"localhost:{port}", "--num-processes", str(count),
                         "--process-id", str(i), "--distributed-timeout", "20"], 1, tmp_path)
                 for i, count in enumerate((2, 3))]
    for process in processes:
        _, err = process.communicate(timeout=LIMIT)
        assert process.returncode == 1, err
        assert "the processes disagree on how many they are: process 0 hosts a run of 2, and process 1 " \
               "--num-processes 3" in " ".join(err.split()), err
    assert not (tmp_path / "hebbian.cmaes.npz").exists()


def test_the_flags_are_documented_and_checked(monkeypatch, capsys):
    code, out, _ = run_cli("meta-train", "--help", monkeypatch=monkeypatch, capsys=capsys)
    help_text = " ".join(out.split())
    assert code == 0 and all(flag in help_text for flag in ("--coordinator", "--num-processes", "--process-id",
                                                            "--distributed-timeout", "HOST:PORT of process 0"))
    cases = [(["--coordinator", "localhost:1234"], "--coordinator", "give --coordinator, --num-processes and "
                                                                    "--process-id together"),
             (["--coordinator", "localhost", "--num-processes", "2", "--process-id", "0"], "--coordinator",
              "expected HOST:PORT with a port from 1 to 65535, such as node01:1234, got 'localhost'"),
             *((["--coordinator", f"localhost:{port}", "--num-processes", "2", "--process-id", "0"], "--coordinator",
                f"got 'localhost:{port}'") for port in ("0", "65536", "²", "")),
             (["--coordinator", ":1234", "--num-processes", "2", "--process-id", "0"], "--coordinator",
              "got ':1234'"),
             (["--coordinator", "localhost:1234", "--num-processes", "2", "--process-id", "2"], "--process-id",
              "process ids run from 0 to 1 for --num-processes 2, got 2")]
    for flags, hint, message in cases:
        code, _, err = run_cli(*TINY, *flags, monkeypatch=monkeypatch, capsys=capsys)
        err = " ".join(err.replace("│", " ").split())
        assert code == 2 and hint in err and message in err, err


def test_a_cluster_manager_is_recognised_only_when_it_started_several_tasks():
    assert distributed.detected_manager({"SLURM_STEP_NUM_TASKS": "2", "SLURM_JOB_ID": "7"}) == "SLURM"
    assert distributed.detected_manager({"OMPI_COMM_WORLD_SIZE": "4"}) == "Open MPI"
    assert distributed.detected_manager({"SLURM_STEP_NUM_TASKS": "1", "SLURM_JOB_ID": "7"}) is None  # one task
    assert not distributed.wanted(distributed.Cluster(), {})
    assert distributed.wanted(distributed.Cluster("node01:1234", 2, 0), {})


def test_what_jax_would_abort_on_or_wait_out_is_refused_at_once(tmp_path):
    """A process id already running on this machine, a port that process 0 cannot listen on, and a coordinator
    host that does not resolve each end with a message and exit status 1 before JAX is asked to connect (which
    would abort, or wait out the timeout and blame a missing process 0)."""
    taken = distributed.Cluster(f"localhost:{free_port()}", 2, 1)
    with holding([distributed.process_id_lock(taken)]), socket.create_server(("localhost", 0)) as listening:
        busy = listening.getsockname()[1]
        cases = {f"another process on this machine already runs as process 1 of the run at {taken.coordinator}":
                 [taken.coordinator, "1"],
                 f"process 0 cannot host the coordinator on port {busy}": [f"localhost:{busy}", "0"],
                 "cannot find the coordinator's host 'nosuchhost.invalid'": ["nosuchhost.invalid:1234", "1"]}
        processes = {message: launch([*TINY, "--steps", "1", "--coordinator", coordinator, "--num-processes", "2",
                                      "--process-id", process_id, "--distributed-timeout", "30"], 1, tmp_path)
                     for message, (coordinator, process_id) in cases.items()}
        for message, process in processes.items():
            _, err = process.communicate(timeout=LIMIT)
            assert process.returncode == 1 and f"error: {message}" in " ".join(err.split()), err


def test_a_peer_that_dies_mid_run_ends_the_others_with_a_message(tmp_path):
    """Process 1 killed (SIGTERM, which ends it as it ends a run of one process) after the first step: process
    0's next collective breaks, and it ends with a message and exit status 1 (not an internal error, then JAX's
    abort at shutdown), its checkpoint whole."""
    port = free_port()
    # No validation (--eval-every past the run): one program less to compile.
    processes = [launch([*TINY, "--steps", "1000", "--checkpoint-every", "1", "--eval-every", "1000", "-o", "run.npz",
                         "--coordinator", f"localhost:{port}", "--num-processes", "2", "--process-id", str(i),
                         "--distributed-timeout", "30"], 1, tmp_path) for i in range(2)]
    deadline = time.monotonic() + LIMIT
    while not (tmp_path / "run.log.json").exists() and processes[0].poll() is None and time.monotonic() < deadline:
        time.sleep(0.1)
    processes[1].terminate()
    assert processes[1].wait(timeout=60) == -signal.SIGTERM
    _, err = processes[0].communicate(timeout=LIMIT)
    assert processes[0].returncode == 1, err
    assert "error: another process of the run died or lost its connection" in err, err
    assert "hint: the last checkpoint is whole: start every process again with --resume" in err
    assert (tmp_path / "run.checkpoint").is_dir()
