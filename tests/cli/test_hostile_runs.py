"""Runs a careless or hostile user starts: exit codes that say whose fault it was, flags refused with their range
before any work, outputs checked before a run and rescued after it, one run per output, and plans too large for
the machine refused before anything is compiled."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

from rulec.diagnostics import RuleError
from rulec.runtime import lock, resources
from rulec.experiment import training
from tests.conftest import INVALID, ROOT, STDLIB
from tests.conftest import run_cli as run

BACKPROP = str(ROOT / "stdlib_rules" / "backprop.rule")
TRAIN = ["train", BACKPROP, "--data", "xor", "--layers", "4", "--steps", "2", "--batch", "8", "--baseline", "none"]
META = ["meta-train", BACKPROP, "--data", "xor", "--layers", "4", "--population", "2", "--unroll", "2",
        "--eval-batches", "1", "--batch", "8", "--steps", "1"]


@pytest.mark.parametrize("args, code, text", [
    (["check", str(STDLIB[0])], 0, ": ok: "),
    (["check", str(INVALID[0])], 1, ": error: "),
    (["train", BACKPROP, "--frobnicate"], 2, "No such option: --frobnicate"),
    (["train", BACKPROP, "--steps", "0"], 2, "Invalid value for '--steps'"),
])
def test_exit_codes_say_whose_problem_it_is(monkeypatch, capsys, args, code, text):
    got, out, err = run(*args, monkeypatch=monkeypatch, capsys=capsys)
    assert got == code and text in out + err and "Traceback" not in err


@pytest.mark.parametrize("args, flag, expected", [
    (["train", BACKPROP, "--seed", "-1"], "--seed", "greater than or equal to 0"),
    (["train", BACKPROP, "--batch", "0"], "--batch", "greater than or equal to 1"),
    (["train", BACKPROP, "--steps", "0"], "--steps", "greater than or equal to 1"),
    (["train", BACKPROP, "--layers", "0"], "--layers", "expected numbers such as 256 or 256,128, got '0'"),
    (["meta-train", BACKPROP, "--population", "0"], "--population", "greater than or equal to 1"),
    (["meta-train", BACKPROP, "--population", str(10**6)], "--population", "less than or equal to 100000"),
    (["meta-train", BACKPROP, "--unroll", "0"], "--unroll", "greater than or equal to 1"),
    (["meta-train", BACKPROP, "--checkpoint-every", "0"], "--checkpoint-every", "greater than or equal to 1"),
    (["meta-train", BACKPROP, "--seed", str(2**31)], "--seed", "less than or equal to 2147483647"),
    (["meta-train", BACKPROP, "--sigma", "nan"], "--sigma", "nan is not a finite number > 0"),
    (["meta-train", BACKPROP, "--lr", "inf"], "--lr", "inf is not a finite number > 0"),
    (["meta-train", BACKPROP, "--clip", "-1"], "--clip", "-1.0 is not a finite number > 0"),
    (["compile", BACKPROP, "--batch", "0"], "--batch", "greater than or equal to 1"),
    ([*TRAIN, "--batch", "5000"], "--batch", "5000 is larger than the 1500 training examples of xor"),
])
def test_numeric_flags_are_refused_with_their_range(monkeypatch, capsys, args, flag, expected):
    code, _, err = run(*args, monkeypatch=monkeypatch, capsys=capsys)
    text = " ".join(err.split())
    assert code == 2 and flag in text and expected in text, err


def test_help_states_the_ranges(monkeypatch, capsys):
    _, out, _ = run("meta-train", "--help", monkeypatch=monkeypatch, capsys=capsys)
    text = " ".join(out.split())
    assert "[x>=1]" in text and "[0<=x<=2147483647]" in text and "a finite number > 0" in text


@pytest.mark.parametrize("args, flag", [
    ([*TRAIN, "--json", "/nonexistent/run.json"], "--json"),
    ([*TRAIN, "--plot", "/nonexistent/run.png"], "--plot"),
    ([*META, "-o", "/nonexistent/g.npz"], "-o"),
    (["compile", BACKPROP, "-o", "/nonexistent/step.py"], "-o"),
])
def test_unwritable_outputs_are_refused_before_any_work(monkeypatch, capsys, args, flag):
    code, _, err = run(*args, monkeypatch=monkeypatch, capsys=capsys)
    assert code == 2 and f"Invalid value for {flag}: cannot write /nonexistent/" in err
    assert "the folder /nonexistent does not exist" in err


def test_a_checkpoint_folder_under_a_file_is_refused_before_any_work(tmp_path, monkeypatch, capsys):
    (tmp_path / "file").write_text("")
    code, _, err = run(*META, "-o", str(tmp_path / "g.npz"), "--checkpoint-dir", str(tmp_path / "file" / "ckpt"),
                       monkeypatch=monkeypatch, capsys=capsys)
    assert code == 2 and f"{tmp_path / 'file'} is not a folder" in " ".join(err.split())


def test_a_result_whose_folder_vanished_during_the_run_is_rescued(tmp_path, monkeypatch, capsys):
    folder = tmp_path / "results"
    folder.mkdir()
    monkeypatch.chdir(tmp_path)
    trained = training.train_rule

    def train_then_lose_the_folder(*args, **kwargs):
        result = trained(*args, **kwargs)
        (folder / ".run.json.lock").unlink()
        folder.rmdir()
        return result

    monkeypatch.setattr(training, "train_rule", train_then_lose_the_folder)
    code, _, err = run(*TRAIN, "--json", str(folder / "run.json"), monkeypatch=monkeypatch, capsys=capsys)
    (rescued,) = tmp_path.glob("run.rescued-*.json")
    assert code == 1 and f"could not write {folder / 'run.json'}" in " ".join(err.split())
    assert json.loads(rescued.read_text())["steps"] == 2


def test_a_second_run_on_the_same_output_is_refused(tmp_path, monkeypatch, capsys):
    output = tmp_path / "run.json"
    holder = subprocess.Popen([sys.executable, "-c", "import sys, time\nfrom rulec.runtime.lock import holding\n"
                               f"with holding([{str(output)!r}]):\n    print('held', flush=True)\n    time.sleep(60)"],
                              cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        code, _, err = run(*TRAIN, "--json", str(output), monkeypatch=monkeypatch, capsys=capsys)
        assert code == 1 and f"another rulec run (process {holder.pid}) is writing this output" in err
        assert not output.exists()
    finally:
        holder.kill()
        holder.wait()
    # The killed run's lock file is left behind; the kernel released its lock, so the next run takes it over.
    assert lock.lock_path(output.resolve()).exists()
    code, _, err = run(*TRAIN, "--json", str(output), monkeypatch=monkeypatch, capsys=capsys)
    assert code == 0, err
    assert output.exists() and not lock.lock_path(output.resolve()).exists()


def test_one_process_cannot_hold_one_output_twice(tmp_path):
    with lock.holding([tmp_path / "out"]):
        with pytest.raises(RuleError, match="another rulec run"):
            with lock.holding([tmp_path / "out"]):
                pass


@pytest.mark.parametrize("args, expected", [
    ([*TRAIN[:-6], "--layers", "100000,100000"], "training on layers 2-100000-100000-2 with batch 128 needs about"),
    ([*TRAIN, "--steps", str(10**9)], "training on layers 2-4-2 with batch 8 needs about"),
    (["train", str(ROOT / "stdlib_rules" / "blur.rule"), "--set", "k=1024", "--layers", "16384", "--data", "xor"],
     "training on layers 2-16384-2 with batch 128 needs about"),
    ([*META, "--unroll", str(10**9)], "unroll 1000000000 needs about"),
    ([*META, "--population", "20000", "--layers", "40000"], "population 20000, unroll 2 needs about"),
    (["analyze", str(ROOT / "stdlib_rules" / "blur.rule"), "--set", "k=1000"], "the numeric check on layers 2-20-2 "
                                                                                "needs about"),
    (["compile", BACKPROP, "--layers", "784,100000,10", "--batch", str(10**7)], "the step on layers 784,100000,10 "
                                                                                  "with batch 10000000 needs about"),
])
def test_plans_too_large_for_the_machine_are_refused_before_compiling(monkeypatch, capsys, args, expected):
    code, _, err = run(*args, monkeypatch=monkeypatch, capsys=capsys)
    text = " ".join(err.split())
    assert code == 1 and expected in text and "pass --force to try anyway" in text, err


@pytest.mark.parametrize("flags, blamed, spared", [(["--unroll", str(10**9)], "--unroll", "--horizons"),
                                                   (["--horizons", str(10**9)], "--horizons", "--unroll")])
def test_a_plan_too_large_names_the_flag_that_set_its_unroll(monkeypatch, capsys, flags, blamed, spared):
    meta = [a for i, a in enumerate(META) if "--unroll" not in META[i - 1: i + 1]]
    code, _, err = run(*meta, *flags, monkeypatch=monkeypatch, capsys=capsys)
    hint = " ".join(err.split()).partition("hint:")[2]
    assert code == 1 and blamed in hint and spared not in hint, err


def test_force_overrides_the_memory_refusal_and_slow_steps_warn(monkeypatch):
    monkeypatch.setattr(resources, "flops_per_second", lambda: 1e9)
    warnings = []
    plan = resources.Estimate(bytes=2 * 2**30, flops=2e10)
    with pytest.raises(Exception, match="needs about 2.15 GB of memory, and this process may use 1.07 GB here"):
        resources.check_plan(plan, "this plan", False, warnings.append, memory=2**30)
    resources.check_plan(plan, "this plan", True, warnings.append, memory=2**30)
    assert warnings == ["this plan does about 20 GFLOP per step, about 20 s per step here"]


@pytest.mark.parametrize("failure", [
    MemoryError(), RuntimeError("RESOURCE_EXHAUSTED: Out of memory while trying to allocate 4294967296 bytes."),
    RuntimeError("INTERNAL: Error dispatching computation: Out of memory allocating 10800360772 bytes."),  # CPU
])
def test_running_out_of_memory_past_the_guard_is_a_message_not_an_internal_error(monkeypatch, capsys, failure):
    def allocate(*args, **kwargs):
        raise failure

    monkeypatch.setattr(training, "train_rule", allocate)
    code, _, err = run(*TRAIN, "--force", monkeypatch=monkeypatch, capsys=capsys)
    assert code == 1 and "error: out of memory: the run needed more memory than this process may take" in err
    assert "internal error" not in err


def test_analyze_refuses_more_weights_than_it_compares_in_minutes(monkeypatch, capsys):
    started = time.monotonic()
    code, _, err = run("analyze", str(ROOT / "stdlib_rules" / "blur.rule"), "--set", "k=64", monkeypatch=monkeypatch,
                       capsys=capsys)
    text = " ".join(err.split())
    assert code == 1 and "this rule has 704 on layers 1-2-1 and 11648 on 2-20-2, more than the 200 and 4096" in text
    assert "pass --force to wait for it" in text and time.monotonic() - started < 60
