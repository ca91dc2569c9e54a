"""Genome files: arrays in `.npz` (never pickled) with metadata in a JSON file beside it.

`name.npz` holds one array per genome entry (per-synapse entries as `entry/0`, `entry/1`, ...); `name.json`
holds the rule's name, its source hash, its dims and the rulec version. Files are untrusted input: they are read
with `allow_pickle=False`, and every name and shape is checked against the rule. A genome from another rule,
other dims or another version of the rule (the hash of its canonical text differs) is refused.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import numpy as np

from rulec.diagnostics import Diagnostic, RuleError, Source, Span


def file_error(path: Path, message: str, hint: str | None = None, code: str = "genome-file") -> RuleError:
    """An error about a whole file (a genome, a checkpoint), located at its start."""
    return RuleError([Diagnostic(Span(Source(str(path), ""), 1, 1, 1, 1), message, hint, code)])


def save_genome(path: str | Path, rule, genome: dict, **metadata) -> Path:
    """Writes `path` (.npz) and its .json metadata atomically (temporary file, then rename)."""
    from rulec import __version__

    path = Path(path).with_suffix(".npz")
    arrays = {}
    for name, value in genome.items():
        if isinstance(value, list):
            arrays.update({f"{name}/{i}": np.asarray(v) for i, v in enumerate(value)})
        else:
            arrays[name] = np.asarray(value)
    info = {"rule": rule.name, "source_hash": rule.source_hash, "dims": rule.dims, "rulec_version": __version__,
            **metadata}
    atomic_write(path, lambda handle: np.savez(handle, **arrays))
    atomic_write(path.with_suffix(".json"), lambda handle: handle.write(json.dumps(info, indent=2).encode()))
    return path


def atomic_write(path: Path, write) -> None:
    """Writes through `write(handle)` to a temporary file beside `path`, then renames it: never a half file."""
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(descriptor, "wb") as handle:
            write(handle)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


def refuse_other_rule(path: Path, info: dict, rule, what: str) -> None:
    """Raises unless `info` (a file's metadata) was written for this rule, these dims and this rule text."""
    if info.get("rule") != rule.name or info.get("dims") != rule.dims:
        raise file_error(path, f"this {what} is for rule `{info.get('rule')}` with dims {info.get('dims')}, not "
                         f"`{rule.name}` with dims {rule.dims}", f"use a {what} written for this rule and dims")
    if info.get("source_hash") != rule.source_hash:
        raise file_error(path, f"this {what} was written for another version of rule `{rule.name}` (source hash "
                         f"{str(info.get('source_hash'))[:12]}, the rule's is {rule.source_hash[:12]})",
                         "the rule's equations changed since; learn a new one")


def find_shipped(rule_file: str | Path, rule) -> Path | None:
    """A genome shipped beside the rule file, `genomes/STEM.npz` or `genomes/STEM-*.npz`, written for this
    rule, these dims and this text; None when there is none."""
    rule_file = Path(rule_file)
    folder = rule_file.parent / "genomes"
    for path in [folder / f"{rule_file.stem}.npz", *sorted(folder.glob(f"{rule_file.stem}-*.npz"))]:
        try:
            info = json.loads(path.with_suffix(".json").read_text())
        except (OSError, ValueError):
            continue
        if (info.get("rule"), info.get("dims"), info.get("source_hash")) == (rule.name, rule.dims, rule.source_hash):
            return path
    return None


def load_genome(path: str | Path, rule) -> dict:
    """Reads a genome for `rule`, refusing files from another rule, other dims, or with wrong names or shapes."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {name: data[name] for name in data.files}
    except (OSError, ValueError) as error:
        raise file_error(path, f"cannot read the genome file: {error}", "a genome file is an .npz written by rulec")
    meta_path = path.with_suffix(".json")
    if meta_path.exists():
        try:
            info = json.loads(meta_path.read_text())
        except (OSError, ValueError) as error:
            raise file_error(meta_path, f"cannot read the genome metadata: {error}")
        refuse_other_rule(path, info, rule, "genome")
    genome = {}
    for entry in rule.program.genome:
        if entry.per_synapse:
            parts = sorted((k for k in arrays if k.startswith(entry.name + "/")), key=lambda k: int(k.split("/")[1]))
            if not parts:
                raise file_error(path, f"the genome file has no `{entry.name}`")
            genome[entry.name] = [arrays[k] for k in parts]
            continue
        if entry.name not in arrays:
            raise file_error(path, f"the genome file has no `{entry.name}`",
                             f"it has: {', '.join(sorted(arrays)) or 'nothing'}")
        value = arrays[entry.name]
        if value.shape != entry.shape:
            raise file_error(path, f"`{entry.name}` has shape {list(value.shape)} in the file, but the rule "
                             f"declares {list(entry.shape)}")
        genome[entry.name] = value
    return genome
