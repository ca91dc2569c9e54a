"""Meta-training checkpoints: everything a run needs to continue exactly where it stopped.

A checkpoint directory holds `state-STEP.npz` (the method's carry: genomes, optimiser or search state, flattened
to its leaves, and the RNG key) and `checkpoint.json` (the rule's identity, the run's configuration, the step and
the history). Both are written atomically, the arrays first; renaming the JSON commits the checkpoint, so a run
killed at any instant leaves the previous checkpoint or the new one, never a mixture. Checkpoints are untrusted
input: arrays are read with `allow_pickle=False` and must match, leaf by leaf, the shapes and dtypes a fresh run
would have (no member is unpacked before its name and size are checked); the arrays must lie in the checkpoint's
folder (a symbolic link out of it is refused); every value must be finite and below 1e18 in magnitude, and
spreads, second moments and counts not negative; the step must be a whole number consistent with the history.
"""

from __future__ import annotations

from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from rulec.files import atomic_write, file_error, read_json, read_npz, write_json
from rulec.runtime.genome_file import refuse_other_rule
from rulec.runtime.outputs import normal

FORMAT = 1
INDEX = "checkpoint.json"
# Settings that may change when a run is resumed; any other difference refuses the checkpoint.
RESUMABLE = ("steps", "checkpoint_every", "eval_every")
# Settings added after checkpoints were first written, with the value a checkpoint without them was run under.
ADDED_SETTINGS = {"search_scale": "declared", "validate_on": "test"}


def _error(path: Path, message: str, hint: str | None = None):
    return file_error(path, message, hint, "checkpoint")


def _setting(config: dict, name: str):
    return config.get(name, ADDED_SETTINGS.get(name))


def exists(directory: Path) -> bool:
    return (directory / INDEX).exists()


def save(directory: Path, rule, config: dict, step: int, carry, rng, history: list) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    arrays = {f"leaf{i:05d}": np.asarray(leaf) for i, leaf in enumerate(jax.tree.leaves(carry))}
    arrays["rng"] = np.asarray(jax.random.key_data(rng))
    name = f"state-{step:07d}.npz"
    atomic_write(directory / name, lambda handle: np.savez(handle, **arrays))
    info = {"format": FORMAT, "rule": rule.name, "source_hash": rule.source_hash, "dims": rule.dims,
            "config": config, "step": step, "arrays": name, "history": history}
    write_json(directory / INDEX, info, indent=1)
    for old in directory.glob("state-*.npz"):
        if old.name != name:
            old.unlink()


def load(directory: Path, rule, config: dict, template) -> tuple[int, object, object, list]:
    """(step, carry, rng, history) of the checkpoint in `directory`, refused unless it belongs to this rule and
    this configuration; `template` is a fresh run's carry, whose structure and shapes the arrays must have."""
    index = directory / INDEX
    info = read_json(index, "checkpoint", "checkpoint")
    if not isinstance(info, dict) or info.get("format") != FORMAT:
        raise _error(index, "this is not a rulec meta-training checkpoint (or it is from another rulec version)")
    refuse_other_rule(index, info, rule, "checkpoint")
    saved = info.get("config", {})
    saved = saved if isinstance(saved, dict) else {}
    changed = sorted(k for k in set(saved) | set(config)
                     if k not in RESUMABLE and _setting(saved, k) != _setting(config, k))
    if changed:
        detail = "; ".join(f"{k}: {_setting(saved, k)!r} in the checkpoint, {_setting(config, k)!r} now"
                           for k in changed)
        raise _error(index, f"the checkpoint was written with other settings ({detail})",
                     "resume with the settings of the original run, or start afresh without --resume")
    step, history = _step_and_history(index, info)
    arrays_path = _arrays_path(directory, index, info.get("arrays"))
    paths, structure = jax.tree_util.tree_flatten_with_path(template)
    names = {f"leaf{i:05d}": (path, np.asarray(leaf)) for i, (path, leaf) in enumerate(paths)}
    limits = {name: leaf.nbytes for name, (_, leaf) in names.items()}
    rng_template = np.asarray(jax.random.key_data(jax.random.key(0)))
    arrays = read_npz(arrays_path, "checkpoint's arrays", {**limits, "rng": rng_template.nbytes}, "checkpoint")
    restored = []
    for i, (name, (path, leaf)) in enumerate(names.items()):
        value = arrays.get(name)
        if value is None or value.shape != leaf.shape or value.dtype != leaf.dtype:
            raise _error(arrays_path, f"the checkpoint's arrays do not fit this run (array {i})",
                         "it was written by another version of rulec or for another network")
        problem = _value_problem(path, value)
        if problem:
            raise _error(arrays_path, f"the checkpoint's array {i} ({jax.tree_util.keystr(path)}) {problem}",
                         "the checkpoint is corrupt or was edited; start afresh without --resume")
        restored.append(jnp.asarray(value))
    rng = arrays.get("rng")
    if rng is None or rng.shape != rng_template.shape or rng.dtype != rng_template.dtype:
        raise _error(arrays_path, "the checkpoint has no valid RNG state", "start afresh without --resume")
    return step, jax.tree.unflatten(structure, restored), jax.random.wrap_key_data(jnp.asarray(rng)), history


# No value of a run's state comes near this: a genome entry, a search mean or an optimiser moment this large has
# diverged long before (the rule's synapses overflow float32), and resuming from it trains on garbage.
MAX_MAGNITUDE = 1e18
# Fields that hold a spread, a second moment or a count, by their name in the carry's pytree (optax's Adam `nu`
# and `count`, evosax's step size `std` and the roots `D` of CMA-ES's eigenvalues, the counters of both): a
# negative value has no meaning, and Adam divides by the root of a negative `nu`, a genome of NaNs.
NON_NEGATIVE = frozenset({"nu", "count", "std", "D", "generation_counter", "notfinite_count", "total_notfinite"})


# Fields where +inf is a value runs write: a gradient run's last meta-loss once it diverged, and the best fitness of
# an evolution strategy (evosax) before it is told any.
INFINITE_ALLOWED = frozenset({"loss", "best_fitness"})


def _value_problem(path, value: np.ndarray) -> str | None:
    """What is wrong with the values of one leaf of a restored carry, or None."""
    if value.dtype.kind not in "fciu" or value.size == 0:
        return None
    last = path[-1] if path else None
    name = getattr(last, "name", getattr(last, "key", None))
    if name in INFINITE_ALLOWED and value.dtype.kind == "f":
        value = value[value != np.inf]
        if value.size == 0:
            return None
    if value.dtype.kind in "fc" and not np.isfinite(value).all():
        return "holds NaN or infinite values"
    if np.abs(value.astype(np.float64)).max() > MAX_MAGNITUDE:
        return f"holds values beyond {MAX_MAGNITUDE:.0e} in magnitude, which no run reaches"
    fields = [key.name for key in path if isinstance(key, jax.tree_util.GetAttrKey)]
    if fields and fields[-1] in NON_NEGATIVE and (np.real(value) < 0).any():
        return f"holds negative values, which its field `{fields[-1]}` never has"
    return None


def _step_and_history(index: Path, info: dict) -> tuple[int, list]:
    """The step, a whole number from 0 to the configured steps, with one history record per step done."""
    step, history = info.get("step"), info.get("history", [])
    steps = info.get("config", {}).get("steps")
    if not isinstance(history, list) or not all(_is_record(record) for record in history):
        raise _error(index, "the checkpoint's history is not a list of records with a step, a best and a mean "
                     "fitness", "start afresh without --resume")
    if type(step) is not int or step < 0 or step != len(history) or (type(steps) is int and step > steps):
        raise _error(index, f"the checkpoint's step {step!r} is not a whole number matching its history of "
                     f"{len(history)} steps", "the checkpoint was edited or is corrupt; start afresh without --resume")
    return step, history


# The figures a history record holds (the progress line, the summary and the plot read them): the first three
# always, the others when the method records them.
RECORD_NUMBERS = ("step", "best", "mean", "validation", "loss", "unroll", "seconds", "diverged", "skipped")


def _is_record(record) -> bool:
    return isinstance(record, dict) and all(type(record.get(key)) in (int, float) for key in RECORD_NUMBERS
                                            if key in RECORD_NUMBERS[:3] or key in record)


def _arrays_path(directory: Path, index: Path, name) -> Path:
    """The arrays file named in the index, which must be a plain file name inside the checkpoint's folder."""
    if not isinstance(name, str) or not name or Path(name).name != name or name in (".", ".."):
        raise _error(index, f"the checkpoint's arrays {name!r} are not a file in its folder",
                     "a checkpoint names its arrays as state-STEP.npz beside checkpoint.json")
    path = directory / name
    if normal(path).parent != normal(directory):
        raise _error(index, f"the checkpoint's arrays {name!r} are a link to a file outside its folder",
                     "a checkpoint names its arrays as state-STEP.npz beside checkpoint.json")
    return path
