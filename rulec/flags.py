"""The ranges of the command line's numeric flags, checked where the flags are parsed.

Integer flags use typer's `min`/`max`, which puts the range in the message and in `--help` (`[x>=1]`). Float
flags also need to be finite: a range check alone lets NaN through (every comparison with NaN is false), and a
NaN meta learning rate writes a NaN genome with exit 0. `positive` is their one validator.
"""

from __future__ import annotations

import math
from pathlib import Path

import typer

from rulec.runtime.files import writable_problem

# Seeds feed numpy's and JAX's generators (seed and seed + 1), which take non-negative 32-bit values.
SEED_MAX = 2**31 - 1
# An evolution strategy's own bookkeeping (sorting, recombination) grows with the population whatever the network:
# a million tiny members fit in memory yet take minutes a generation. The paper's populations are 80 to 1024.
MAX_POPULATION = 100_000


def positive(value: float | None) -> float | None:
    """A typer callback: the value must be a finite number greater than 0."""
    if value is not None and not (math.isfinite(value) and value > 0):
        raise typer.BadParameter(f"{value} is not a finite number > 0")
    return value


def force_option() -> typer.models.OptionInfo:
    return typer.Option("--force", help="Run even when the estimated memory exceeds this machine's.")


def seed_option(help_text: str = "Seed of every random draw.") -> typer.models.OptionInfo:
    return typer.Option(min=0, max=SEED_MAX, help=help_text)


def refuse_unwritable(paths: dict[str, Path | None], folders: dict[str, Path | None] | None = None) -> None:
    """A usage error on the first output flag whose file (or folder, for `folders`) cannot be written."""
    for flag, path, folder in [*((f, p, False) for f, p in paths.items()),
                               *((f, p, True) for f, p in (folders or {}).items())]:
        problem = path is not None and writable_problem(path, folder)
        if problem:
            raise typer.BadParameter(f"cannot write {path}: {problem}", param_hint=flag)


def parse_sizes(text: str, at_least: int, example: str, flag: str = "--layers") -> tuple[int, ...]:
    """Comma-separated positive integers, at least `at_least` of them, or a usage error on `flag`."""
    try:
        sizes = tuple(int(part) for part in text.split(","))
    except ValueError:
        sizes = ()
    if len(sizes) < at_least or min(sizes, default=0) < 1:
        raise typer.BadParameter(f"expected numbers such as {example}, got {text!r}", param_hint=flag)
    return sizes


def parse_layers(text: str) -> tuple[int, ...]:
    return parse_sizes(text, 2, "784,256,10 (at least two)")
