"""The whole command line under random use: hypothesis draws a subcommand, flag values from valid, boundary and
garbage sets, rule files from the stdlib and their mutations, and genome files valid and damaged. No run may end
in an internal error (exit 3) or print a traceback, and none may take longer than CASE_SECONDS.

Each subcommand is its own test, with its share of CASES (train twice the others': its runs get furthest). Sizes
are tiny (xor, a few steps, layers of 4), and the default run's cases are few and fixed, about a minute on 2 cores;
the nightly run draws twenty times as many, new ones each night (tests/conftest.py, `fuzz_examples`).
"""

from __future__ import annotations

import collections
import itertools
import time

import jax
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import rulec
from rulec.runtime.genome_file import save_genome
from tests.conftest import FUZZ_RANDOM, ROOT, STDLIB, fuzz_examples
from tests.conftest import run_cli as run
from tests.syntax.test_fuzz import mutated_rule

CASES = fuzz_examples(42)  # in all, shared out by SHARES
SHARES = {"train": 2, "meta-train": 1, "compile": 1, "analyze": 1, "check": 1, "show": 1}
CASE_SECONDS = 120  # a meta-train case compiles an evolution strategy: 5-20 s alone, up to 55 s on 2 busy cores
BACKPROP = ROOT / "stdlib_rules" / "backprop.rule"
NUMBERS = ["0", "-1", "1e400", "nan", "inf", "x", "", "99999999999999999999", "2.5"]


def values(valid: list[str], others: list[str]):
    """A valid value eleven times in twelve, else a boundary or garbage one, so that some runs get to work."""
    return st.integers(0, 11).flatmap(lambda roll: st.sampled_from(others + NUMBERS if roll == 11 else valid))


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """Genome files for backprop.rule: one valid, the others damaged in each way a file can be."""
    folder = tmp_path_factory.mktemp("genomes")
    rule = rulec.load(BACKPROP)
    valid = save_genome(folder / "valid", rule, rule.init_genome(jax.random.key(0)))
    data = valid.read_bytes()
    damaged = {"empty": b"", "text": b"root:x:0:0\n", "truncated": data[: len(data) // 2],
               "flipped": data[:120] + bytes([data[120] ^ 0x55]) + data[121:]}
    for name, content in damaged.items():
        (folder / f"{name}.npz").write_bytes(content)
    np.savez(folder / "object.npz", lr=np.array([object()], dtype=object))
    np.savez(folder / "nan.npz", lr=np.array(np.nan, np.float32))
    np.savez(folder / "strings.npz", lr=np.array("fast"))
    np.savez(folder / "extra.npz", lr=np.array(0.1, np.float32), bomb=np.zeros(3))
    (folder / "nan.json").write_text(valid.with_suffix(".json").read_text())
    return [str(p) for p in sorted(folder.glob("*.npz"))] + ["/etc/passwd", str(folder / "missing.npz")]


@st.composite
def command(draw, kind: str, genomes: list[str], folder: str):
    rule = draw(st.sampled_from([str(BACKPROP)] * 4 + [str(p) for p in STDLIB] + ["mutant"]))
    sets = draw(st.lists(st.sampled_from(["k=2", "k=0", "k=-1", "k=x", "lr=0.1", "nope=3", "k=100000"]), max_size=1))
    common = list(itertools.chain.from_iterable(("--set", s) for s in sets))
    out = draw(st.sampled_from([f"{folder}/out", "/nonexistent/out", folder]))
    flags: dict[str, str | None] = {}
    if kind == "check":
        flags["--no-prove"] = draw(st.sampled_from(["", None]))
    elif kind == "show":
        flags["--latex"] = draw(st.sampled_from(["", None]))
    elif kind == "analyze":
        flags["--genome"] = draw(st.sampled_from([None, *genomes]))
        flags["--seed"] = draw(values(["0", "3"], [str(2**31)]))
    elif kind == "compile":
        flags["--emit"] = draw(st.sampled_from(["python", "ir", "latex", "stablehlo", "pdf"]))
        flags["--layers"] = draw(values(["4,3,2"], ["4", "0,3", "a,b", "100000,100000,10"]))
        flags["--batch"] = draw(values(["4"], [str(10**7)]))
        flags["-o"] = draw(st.sampled_from([None, out + ".py"]))
    elif kind == "train":
        flags["--data"] = draw(st.sampled_from(["xor", "xor", "and", "nope", "idx"]))
        flags["--layers"] = draw(values(["4", "3,3"], ["100000,100000", "4,,4"]))
        flags["--steps"] = draw(values(["1", "2", "3"], [str(10**9)]))
        flags["--batch"] = draw(values(["8"], [str(10**7), "2000"]))
        flags["--genome"] = draw(st.sampled_from([None, None, *genomes]))
        flags["--json"] = draw(st.sampled_from([None, out + ".json"]))
        flags["--seed"] = draw(values(["0"], [str(2**31), "-5"]))
        flags["--baseline"] = draw(st.sampled_from(["none", "none", "sgd", "bogus"]))
    else:
        flags["--method"] = draw(st.sampled_from(["cmaes", "snes", "grad", "bogus"]))
        flags["--data"] = draw(st.sampled_from(["xor", "xor", "and,xor", "xor:0-7", ""]))
        flags["--layers"] = draw(values(["4"], ["0"]))
        flags["--population"] = draw(values(["2", "3"], [str(10**6)]))
        flags["--unroll"] = draw(values(["2"], [str(10**9)]))
        flags["--steps"] = draw(values(["1", "2"], []))
        flags["--sigma"] = draw(values(["0.3"], ["-0.1"]))
        flags["--lr"] = draw(values(["0.001"], []))
        flags["--checkpoint-every"] = draw(values(["1"], []))
        flags["--genome"] = draw(st.sampled_from([None, None, *genomes]))
        flags["-o"] = out + ".npz"
        flags.update({"--eval-batches": "1", "--batch": "8"})
    if kind in ("train", "meta-train"):
        flags["--layers"] = flags["--layers"] or "4"
    text = draw(mutated_rule()) if rule == "mutant" else None
    args = [kind, rule, *common]
    for flag, value in flags.items():
        if value is not None:
            args += [flag] if value == "" and flag in ("--no-prove", "--latex") else [flag, value]
    return args, text


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return tmp_path_factory.mktemp("fuzz")


@pytest.mark.parametrize("kind", SHARES)
def test_no_command_ends_in_an_internal_error_or_a_traceback(kind, files, folder, monkeypatch, capsys):
    longest = []

    @settings(max_examples=max(1, round(CASES * SHARES[kind] / sum(SHARES.values()))), deadline=None, database=None,
              derandomize=not FUZZ_RANDOM,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                     HealthCheck.data_too_large])
    @given(command(kind, files, str(folder)))
    def case(drawn):
        args, text = drawn
        if text is not None:
            mutant = folder / "mutant.rule"
            mutant.write_text(text)
            args[1] = str(mutant)
        monkeypatch.chdir(folder)
        started = time.perf_counter()
        code, out, err = run(*args, monkeypatch=monkeypatch, capsys=capsys)
        seconds = time.perf_counter() - started
        longest.append((seconds, args, code))
        assert code in (0, 1, 2), (args, err[-2000:])
        assert "Traceback" not in out + err and "internal error" not in err, (args, err[-2000:])
        assert seconds < CASE_SECONDS, args

    case()
    jax.clear_caches()
    slowest = max(longest)
    tally = collections.Counter((args[0], code) for _, args, code in longest)
    print(f"\n{len(longest)} cases ({dict(sorted(tally.items()))}); the longest took {slowest[0]:.1f} s: rulec "
          f"{' '.join(slowest[1])}")
