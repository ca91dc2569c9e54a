"""Meta-training checkpoints: everything a run needs to continue exactly where it stopped.

A checkpoint directory holds `state-STEP.npz` (the method's carry: genomes, optimiser or search state, flattened
to its leaves, and the RNG key) and `checkpoint.json` (the rule's identity, the run's configuration, the step and
the history). Both are written atomically, the arrays first; renaming the JSON commits the checkpoint, so a run
killed at any instant leaves the previous checkpoint or the new one, never a mixture. Checkpoints are untrusted
input: arrays are read with `allow_pickle=False` and must match, leaf by leaf, the shapes a fresh run would have.
"""

from __future__ import annotations

import json
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from rulec.runtime.genome_file import atomic_write, file_error, refuse_other_rule

FORMAT = 1
INDEX = "checkpoint.json"
# Settings that may change when a run is resumed; any other difference refuses the checkpoint.
RESUMABLE = ("steps", "checkpoint_every", "eval_every")


def _error(path: Path, message: str, hint: str | None = None):
    return file_error(path, message, hint, "checkpoint")


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
    atomic_write(directory / INDEX, lambda handle: handle.write(json.dumps(info, indent=1).encode()))
    for old in directory.glob("state-*.npz"):
        if old.name != name:
            old.unlink()


def load(directory: Path, rule, config: dict, template) -> tuple[int, object, object, list]:
    """(step, carry, rng, history) of the checkpoint in `directory`, refused unless it belongs to this rule and
    this configuration; `template` is a fresh run's carry, whose structure and shapes the arrays must have."""
    index = directory / INDEX
    try:
        info = json.loads(index.read_text())
    except (OSError, ValueError) as error:
        raise _error(index, f"cannot read the checkpoint: {error}", "start afresh without --resume")
    if not isinstance(info, dict) or info.get("format") != FORMAT:
        raise _error(index, "this is not a rulec meta-training checkpoint (or it is from another rulec version)")
    refuse_other_rule(index, info, rule, "checkpoint")
    saved = info.get("config", {})
    changed = sorted(k for k in set(saved) | set(config) if k not in RESUMABLE and saved.get(k) != config.get(k))
    if changed:
        detail = "; ".join(f"{k}: {saved.get(k)!r} in the checkpoint, {config.get(k)!r} now" for k in changed)
        raise _error(index, f"the checkpoint was written with other settings ({detail})",
                     "resume with the settings of the original run, or start afresh without --resume")
    arrays_path = directory / str(info.get("arrays", ""))
    try:
        with np.load(arrays_path, allow_pickle=False) as data:
            arrays = {name: data[name] for name in data.files}
    except (OSError, ValueError) as error:
        raise _error(arrays_path, f"cannot read the checkpoint's arrays: {error}")
    leaves, structure = jax.tree.flatten(template)
    restored = []
    for i, leaf in enumerate(leaves):
        value = arrays.get(f"leaf{i:05d}")
        if value is None or value.shape != np.shape(leaf) or value.dtype != np.asarray(leaf).dtype:
            raise _error(arrays_path, f"the checkpoint's arrays do not fit this run (array {i})",
                         "it was written by another version of rulec or for another network")
        restored.append(jnp.asarray(value))
    if "rng" not in arrays:
        raise _error(arrays_path, "the checkpoint has no RNG state", "start afresh without --resume")
    rng = jax.random.wrap_key_data(jnp.asarray(arrays["rng"]))
    return int(info["step"]), jax.tree.unflatten(structure, restored), rng, list(info.get("history", []))
