"""Choices the experiments make from their settings, importable without JAX (the command line's flags use them)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from rulec.data.inputs import DEFAULT_INPUTS

if TYPE_CHECKING:
    from rulec.geometry import Conv


class SettingError(ValueError):
    """A setting that cannot be run: `setting` names the keyword argument (the command line's flag of that name)."""

    def __init__(self, setting: str, message: str):
        super().__init__(f"{setting}: {message}")
        self.setting = setting
        self.message = message


def input_scaling(asked: str | None, learned_on: str | None, origin: str, warn) -> str:
    """`--inputs` when given, else the scaling the genome file was learned on (`learned_on`, None when there is no
    genome file or it does not say), else the default. A genome run on inputs scaled otherwise than it was learned
    on is still run, with a warning through `warn`: its figures are not its own."""
    if asked is None:
        return learned_on or DEFAULT_INPUTS
    if learned_on is not None and asked != learned_on:
        warn(f"{origin} was learned on `{learned_on}` inputs; using `{asked}` inputs as --inputs asks")
    return asked


def baseline_scalings(asked: tuple[str, ...] | None, rule_scaling: str) -> tuple[str, ...]:
    """The scalings the baselines run on: those asked for, else the rule's own and `feature`."""
    return asked if asked is not None else tuple(dict.fromkeys([rule_scaling, DEFAULT_INPUTS]))


def hidden_layers(hidden: int | str | Sequence[int | Conv]) -> tuple[int | Conv, ...]:
    """The hidden layers as a tuple: a spec as `--layers` takes it, `conv16k5s2,256`, is read (a SettingError on
    `hidden` saying what to write when malformed); one size is one layer; a sequence of sizes and rulec.Conv is
    taken as it is."""
    if isinstance(hidden, int):
        return (hidden,)
    if not isinstance(hidden, str):
        return tuple(hidden)
    from rulec.geometry import parse_hidden  # NumPy: not for the command line's --help

    try:
        return parse_hidden(hidden)
    except ValueError as error:
        raise SettingError("hidden", f"{error}; got {hidden!r}") from None
