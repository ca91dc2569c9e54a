"""Genome files: arrays in `.npz` (never pickled) with metadata in a JSON file beside it.

`name.npz` holds one array per genome entry (per-synapse entries as `entry/0`, `entry/1`, ...); `name.json`
holds the rule's name, its source hash, its dims and the rulec version, and for a meta-trained genome the
networks it was learned on (`learned_networks`). Files are untrusted input: they are read
with `allow_pickle=False`, and every name and shape is checked against the rule. A genome from another rule,
other dims or another version of the rule (the hash of its canonical text differs) is refused.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np

from rulec.check.bounds import outside
from rulec.data.inputs import INPUTS, UNRECORDED_INPUTS
from rulec.diagnostics import RuleError
from rulec.files import atomic_write, file_error, read_json, read_npz, write_json
from rulec.shapes import genome_shapes

# Without sizes, a per-synapse entry's shape is not known in advance; this bounds what one may unpack.
PER_SYNAPSE_CAP_BYTES = 2**28
REAL_KINDS = "fiu"  # float, signed and unsigned integer: what a genome value may be stored as


def genome_paths(path: str | Path) -> tuple[Path, Path]:
    """The two files of the genome file `path`, with or without its suffix: the arrays and the metadata."""
    path = Path(path)
    return path.with_suffix(".npz"), path.with_suffix(".json")


def save_genome(path: str | Path, rule, genome: dict, **metadata) -> Path:
    """Writes `path` (.npz) and its .json metadata, each atomically."""
    from rulec import __version__

    path, metadata_path = genome_paths(path)
    arrays = {}
    for name, value in genome.items():
        if isinstance(value, list):
            arrays.update({f"{name}/{i}": np.asarray(v) for i, v in enumerate(value)})
        else:
            arrays[name] = np.asarray(value)
    info = {"rule": rule.name, "source_hash": rule.source_hash, "dims": rule.dims, "rulec_version": __version__,
            **metadata}
    atomic_write(path, lambda handle: np.savez(handle, **arrays))
    write_json(metadata_path, info)
    return path


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
            info = read_json(path.with_suffix(".json"), "genome metadata")
        except RuleError:
            continue
        if isinstance(info, dict) and (info.get("rule"), info.get("dims"), info.get("source_hash")) == (
                rule.name, rule.dims, rule.source_hash):
            return path
    return None


def learned_inputs(path: str | Path) -> str | None:
    """The input scaling (`--inputs`) a genome file was learned on, from its metadata; None without metadata. A
    genome whose metadata does not say was written before the scalings existed, on global standardisation."""
    meta_path = Path(path).with_suffix(".json")
    if not (meta_path.exists() or meta_path.is_symlink()):
        return None
    info = read_json(meta_path, "genome metadata")
    inputs = info.get("inputs", UNRECORDED_INPUTS) if isinstance(info, dict) else None
    if inputs not in INPUTS:
        raise file_error(meta_path, f"the genome metadata names the input scaling {inputs!r}",
                         f"`inputs` is one of {', '.join(INPUTS)}")
    return inputs


def learned_networks(info: dict) -> list[str]:
    """The networks a genome was meta-trained on, from its metadata, each as a layer spec that `Rule.network`
    reads (`64,4,4,10`, `8x8x1,conv4k3s2,10`): its `networks`, every network of the grid. Metadata written before
    they were recorded holds `layers`, the first network's sizes, and the grid's hidden layers in
    `settings.hidden`, from which a grid of dense networks is rebuilt; empty when these cannot say (convolutions,
    or no layers recorded)."""
    if isinstance(info.get("networks"), list):
        return [str(spec) for spec in info["networks"]]
    layers, settings = info.get("layers"), info.get("settings")
    if not (isinstance(layers, list) and len(layers) >= 2 and all(isinstance(n, int) for n in layers)):
        return []
    hidden = settings.get("hidden", [layers[1:-1]]) if isinstance(settings, dict) else [layers[1:-1]]
    if isinstance(hidden, list) and all(isinstance(n, int) for n in hidden):
        hidden = [hidden]  # written before grids: one network's hidden sizes
    if not (isinstance(hidden, list) and all(isinstance(net, list) and all(isinstance(n, int) for n in net)
                                             for net in hidden)):
        return []  # convolutions, whose input image `layers` does not record
    return [",".join(map(str, [layers[0], *net, layers[-1]])) for net in hidden]


def _expected_shapes(rule, sizes) -> dict[str, tuple[int, ...] | None]:
    """Every member name a genome file of `rule` may hold, with its shape (None: not known without sizes)."""
    shapes = {}
    for entry in rule.program.genome:
        if not entry.per_synapse:
            shapes[entry.name] = entry.shape
        elif sizes is not None:
            shapes.update({f"{entry.name}/{i}": shape for i, shape in enumerate(genome_shapes(entry, sizes))})
    return shapes


def _limit(expected: dict, rule, sizes):
    """The most bytes each member may hold (float64 at most), None for a name the file may not have."""
    per_synapse = set(rule.per_synapse_genome)

    def limit(member: str) -> int | None:
        if member in expected:
            return int(np.prod(expected[member], dtype=np.int64)) * 8
        stem, _, index = member.partition("/")
        return PER_SYNAPSE_CAP_BYTES if sizes is None and stem in per_synapse and index.isdigit() else None

    return limit


FLOAT32_MAX = float(np.finfo(np.float32).max)


def overflow_problem(values) -> str | None:
    """Why finite genome values cannot be used, the largest of them overflowing float32 (which every network
    computes in), or None: the same words for a value in a file and one given on the command line."""
    largest = float(np.max(np.abs(np.asarray(values, np.float64)), initial=0.0))
    return f"{largest:g} overflows float32 (whose largest value is {FLOAT32_MAX:.4g})" if largest > FLOAT32_MAX \
        else None


def _checked(path: Path, name: str, value: np.ndarray, entry, shape) -> np.ndarray:
    """The member's values as native float32, refused unless they are real, of the entry's shape, finite, within
    float32 and within the entry's bounds. Big-endian and extended-precision floats are read by value."""
    if value.dtype.kind not in REAL_KINDS:
        raise file_error(path, f"`{name}` holds {value.dtype} values; a genome entry holds real numbers",
                         "save the genome as float32 arrays (rulec meta-train writes them so)")
    if shape is not None and value.shape != tuple(shape):
        raise file_error(path, f"`{name}` has shape {list(value.shape)} in the file, but the rule and network "
                         f"expect {list(shape)}")
    with np.errstate(over="ignore"):  # a float128 beyond float64 becomes infinite, and is refused as such
        value = value.astype(np.float64)
    if not np.isfinite(value).all():
        raise file_error(path, f"`{name}` holds NaN or infinite values", "a genome must be finite; this one was "
                         "probably saved from a diverged run")
    problem = overflow_problem(value)
    if problem:
        raise file_error(path, f"`{name}` holds a value too large for float32: {problem}",
                         "a genome value must fit float32, which every network computes in")
    if entry.bounds is not None and outside(value, entry.bounds):
        raise file_error(path, f"`{name}` holds values outside the bounds of `{entry.name}`, "
                         f"[{entry.bounds[0]:g}, {entry.bounds[1]:g}]",
                         "the rule declares these bounds; give a genome inside them, or widen them in the rule")
    return value.astype(np.float32)


def load_genome(path: str | Path, rule, sizes=None, warn: Callable[[str], None] | None = None) -> dict:
    """Reads a genome for `rule` (on a network of `sizes`, which shapes the per-synapse entries), refusing files
    of another rule, other dims or another rule text, entries with wrong names, dtypes or shapes, and values that
    are not finite. A genome without its .json is read, with a warning through `warn`, since its origin cannot
    be checked."""
    path = Path(path)
    expected = _expected_shapes(rule, sizes)
    meta_path = path.with_suffix(".json")
    described = meta_path.exists() or meta_path.is_symlink()
    if described:
        info = read_json(meta_path, "genome metadata")
        if not isinstance(info, dict):
            raise file_error(meta_path, "the genome metadata is not a JSON object")
        refuse_other_rule(path, info, rule, "genome")
    arrays = read_npz(path, "genome file", _limit(expected, rule, sizes))
    if not described:
        (warn or (lambda text: warnings.warn(text, stacklevel=2)))(
            f"{path} has no {meta_path.name} beside it: which rule and dims it was written for cannot be checked, "
            "only its entry names and shapes")
    genome = {}
    for entry in rule.program.genome:
        if entry.per_synapse:
            parts = sorted((k for k in arrays if k.partition("/")[0] == entry.name), key=lambda k: int(k[1 + len(
                entry.name):]))
            wanted = [k for k in expected if k.partition("/")[0] == entry.name] if sizes is not None else \
                [f"{entry.name}/{i}" for i in range(len(parts))]
            if parts != wanted or not parts:
                raise file_error(path, f"the genome file has {len(parts)} `{entry.name}/N` entries "
                                 f"({', '.join(parts) or 'none'}); the network expects {', '.join(wanted) or 'some'}",
                                 "a per-synapse entry has one array per layer of synapses")
            genome[entry.name] = [_checked(path, k, arrays[k], entry, expected.get(k)) for k in parts]
            continue
        if entry.name not in arrays:
            raise file_error(path, f"the genome file has no `{entry.name}`",
                             f"it has: {', '.join(sorted(arrays)) or 'nothing'}")
        genome[entry.name] = _checked(path, entry.name, arrays[entry.name], entry, entry.shape)
    return genome
