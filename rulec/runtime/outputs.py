"""The files a run will write, planned before any work starts: each named by its flag, normalised, and checked
against the others.

A run's outputs must not overwrite one another: `--log G.npz` beside `-o G.npz` would write the log over the
genome, and `--log G.json` over the genome's metadata (so that a later `train --genome G.npz` would read the wrong
input scaling). And one file must have one name: `-o out` and `-o out.npz` write the same genome, so the plan
holds the paths that are written, symbolic links resolved, which are also the paths the run locks (lock.py).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from pathlib import Path

from rulec.runtime.genome_file import genome_paths


@dataclasses.dataclass(frozen=True)
class Output:
    """One file (or folder) a run writes, and the flag that names it."""
    flag: str
    path: Path  # as written: a genome's `.npz` or its metadata, not the flag's spelling
    what: str  # for messages: "the genome", "the genome's metadata", ...
    folder: bool = False

    def normal(self) -> Path:
        return normal(self.path)


def normal(path: Path) -> Path:
    """The absolute path, symbolic links resolved; never an error (a link loop stays as it is, and is refused
    when its file is checked for writing)."""
    return Path(os.path.realpath(os.path.abspath(path)))


def plan(files: Mapping[str, Path | None], folders: Mapping[str, Path | None] | None = None,
         genome: str | None = None) -> tuple[Output, ...]:
    """The outputs named by flags (None: not given). `genome` names the flag, among `files`, of a genome file,
    which is written as an `.npz` and a `.json` beside it (rulec/runtime/genome_file.py)."""
    outputs = []
    for flag, path in files.items():
        if path is None:
            continue
        if flag == genome:
            arrays, metadata = genome_paths(path)
            outputs += [Output(flag, arrays, "the genome"), Output(flag, metadata, "the genome's metadata")]
        else:
            outputs.append(Output(flag, Path(path), f"the output of {flag}"))
    outputs += [Output(flag, Path(path), f"the folder of {flag}", folder=True)
                for flag, path in (folders or {}).items() if path is not None]
    return tuple(outputs)


def clash(outputs: tuple[Output, ...]) -> tuple[Output, str] | None:
    """The first output that would overwrite another (the same file, or a file inside an output folder), with
    the reason; None when every output has its own place."""
    for i, later in enumerate(outputs):
        for earlier in outputs[:i]:
            first, second = earlier.normal(), later.normal()
            if first == second:
                return later, f"{later.path} is also {earlier.what} ({earlier.flag} {earlier.path})"
            for folder, inside, named in ((earlier, later, second), (later, earlier, first)):
                if folder.folder and folder.normal() in named.parents:
                    return later, (f"{inside.path} lies inside {folder.what} ({folder.flag} {folder.path}), "
                                   "which the run writes on its own")
    return None
