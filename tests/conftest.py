"""Shared fixtures: the stdlib rules are the test battery for every stage."""

from __future__ import annotations

import os
from pathlib import Path

# Verify the IR between stages in every test (rulec/ir/verify.py), as JAX's enable_checks does.
os.environ["RULEC_CHECKS"] = "1"
# Compiling is most of what the tests do: their networks are tiny and run a few steps. XLA's backend
# optimisations (LLVM's passes; the HLO passes, fusion and layout still run) make code faster without changing what
# it computes, and here cost more than they save: without them tests/ir/test_specialize.py takes 41 s of CPU instead
# of 55 s, and test_lateral.py, test_sanger.py and test_long_run.py, which train longest, 40 s instead of 63 s. Set
# before JAX is imported, so that the `rulec` processes tests start inherit it too; the benchmarks run with XLA's
# defaults.
os.environ.setdefault("JAX_DISABLE_MOST_OPTIMIZATIONS", "1")

import pytest

ROOT = Path(__file__).resolve().parent.parent
STDLIB = sorted((ROOT / "stdlib_rules").glob("*.rule"))
INVALID = sorted((ROOT / "tests" / "fixtures" / "invalid").glob("*.rule"))


# Dims that keep the stdlib battery fast: a relaxation loop's count is a dim, and three iterations test it as
# well as the file's twenty.
TEST_DIMS = {"equilibrium_propagation": {"n_relax": 3}}


# The fuzz tests run their default number of cases times RULEC_FUZZ_SCALE: 1 in the default run, 20 in the nightly
# one (README, "Tests"), which also sets RULEC_FUZZ_SEED=random to draw new cases rather than the fixed ones.
FUZZ_SCALE = float(os.environ.get("RULEC_FUZZ_SCALE", "1"))
FUZZ_RANDOM = os.environ.get("RULEC_FUZZ_SEED") == "random"


def fuzz_examples(default: int) -> int:
    """How many cases a fuzz test runs."""
    return max(1, round(default * FUZZ_SCALE))


def load_stdlib(path: Path):
    """A stdlib rule with the dims of TEST_DIMS."""
    import rulec

    return rulec.load(path, **TEST_DIMS.get(Path(path).stem, {}))


@pytest.fixture(params=STDLIB, ids=lambda p: p.stem)
def stdlib_rule(request) -> Path:
    return request.param


@pytest.fixture(scope="module")
def compilation_cache(tmp_path_factory):
    """One persistent compilation cache for the `rulec` processes a test module starts: their runs compile many of
    the same programs (the genome's initialiser, the step, the validation), and compiling is most of what tiny
    runs do. The processes read the variables when they start; this process has compiled its own already."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("JAX_COMPILATION_CACHE_DIR", str(tmp_path_factory.mktemp("jax-cache")))
        patch.setenv("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0")
        yield


def run_cli(*args: str, monkeypatch, capsys) -> tuple[int, str, str]:
    """Runs `rulec ARGS` in this process: (exit code, stdout, stderr), on a terminal wide enough that no message is
    wrapped inside a path (a parallel test run's temporary paths are long)."""
    import sys

    from rulec import cli

    monkeypatch.setenv("COLUMNS", "300")
    monkeypatch.setattr(sys, "argv", ["rulec", *args])
    with pytest.raises(SystemExit) as done:
        cli.main()
    out, err = capsys.readouterr()
    return done.value.code or 0, out, err


def usage_error(*args: str, monkeypatch, capsys) -> str:
    """Runs `rulec ARGS`, which must end in a usage error (exit code 2) without a traceback; its message, each run of
    whitespace made one space."""
    code, _, err = run_cli(*args, monkeypatch=monkeypatch, capsys=capsys)
    assert code == 2 and "Traceback" not in err, err
    return " ".join(err.split())


def state_arrays(state) -> list:
    """Every number a network state holds, in a fixed order: synapses, persistent neurons, the key's data, the
    step counter (a key itself does not compare as an array)."""
    import jax

    return jax.tree.leaves((state.synapses, state.neurons, jax.random.key_data(state.key), state.step))


def reference_run(reference, genome, state, xs, ys):
    """Steps the reference interpreter from a network state over batches: (the state after them, in the
    reference's layout and float64; the neurons of the last step). It splits the key and counts the steps as the
    lowering does, so a rule that draws draws the same numbers."""
    import jax
    import numpy as np

    from rulec.api import source_major
    from rulec.ir.draws import split_step_key
    from rulec.lower.network_state import NetworkState

    genome = jax.tree.map(lambda a: np.asarray(a, np.float64), genome)
    synapses = {k: [np.asarray(source_major(a), np.float64) for a in v] for k, v in state.synapses.items()}
    # A persistent neuron is a list of arrays, one per layer; a persistent scalar one array of shape ().
    persistent = {k: [np.asarray(a, np.float64) for a in v] if isinstance(v, list) else np.asarray(v, np.float64)
                  for k, v in state.neurons.items()}
    key, step, neurons = state.key, int(state.step), None
    for x, y in zip(xs, ys):
        synapses, neurons = reference.step(genome, synapses, np.asarray(x, np.float64), np.asarray(y, np.float64),
                                           key=key, step=step, persistent=persistent)
        persistent = {k: neurons[k] for k in persistent}
        key, step = split_step_key(key)[0], step + 1
    return NetworkState(synapses, persistent, key, step), neurons


def with_bias(a):
    """A layer's activity with the bias unit's 1 appended to each example, as a `pre+bias` synapse reads it (its
    row last), for NumPy references of a rule's equations."""
    import numpy as np

    return np.c_[a, np.ones(len(a))]
