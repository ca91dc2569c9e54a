"""The meta-learning methods: one interface, and a registry of the methods with their default settings.

A method searches for a genome. Its whole search state is one carry, a pytree of arrays: `init` makes it, `step`
advances it by one meta-step or generation and says what happened as a record of numbers (`best` and `mean`
fitness always; `loss`, `unroll`, `diverged`, `skipped` when the method has them; `network`, the index of the
network of a grid that the step trained on), and `genome` reads the current
best genome from it. A checkpoint holds the carry leaf by leaf, with the RNG key, the settings and the history of
records (rulec/meta/checkpoint.py), so a method with a new kind of carry needs nothing more to be resumable.

Adding a method: a class implementing `Method` and an entry in `METHODS`. Another evolution strategy of evosax is
only an entry: `"name": _evolution("EvosaxClass")`.

This module imports neither JAX nor the methods themselves, so that the command line can list the methods and
their defaults without paying for them.
"""

from __future__ import annotations

import abc
import dataclasses
import json
import typing
from collections.abc import Callable

if typing.TYPE_CHECKING:
    from rulec.meta.gradient import Curriculum
    from rulec.meta.networks import Network
    from rulec.meta.objectives import Protocol
    from rulec.runtime.resources import Estimate


@dataclasses.dataclass(frozen=True)
class Settings:
    """Everything that determines a run's results; a checkpoint is resumed only under the same settings."""
    method: str
    data: str
    validate: str
    transform: str
    inputs: str  # the input scaling, rulec/data/inputs.py
    hidden: tuple[tuple[int, ...], ...]  # the hidden layers of each network of the grid (rulec/meta/networks.py)
    batches: tuple[int, ...]  # the batch sizes of the grid; the protocol holds the first
    steps: int
    population: int
    protocol: Protocol
    curriculum: Curriculum
    loss: str
    learning_rate: float
    clip: float
    sigma: float
    start: str  # "random", "preset NAME" or "genome PATH", then " with NAME=VALUE, ..." for --genome-set
    seed: int
    checkpoint_every: int
    eval_every: int
    data_dir: str | None = None  # resolved, so that a resume on other IDX files is refused
    search_scale: str = "declared"  # an evolution strategy's unit per entry: "declared" or "start" (coordinates.py)
    validate_on: str = "test"  # meta-validation's split: "test", or "held-out" (the training split's last 20%)

    def config(self) -> dict:
        return json.loads(json.dumps(dataclasses.asdict(self)))  # as a checkpoint gives it back: lists, not tuples


class Method(abc.ABC):
    """A meta-learning method, stepped by the host one meta-step (or generation) at a time. Abstract, so that a
    method missing one of these fails when it is built rather than mid-run."""

    @classmethod
    @abc.abstractmethod
    def build(cls, settings: Settings, networks: list[Network], tasks, template: dict, variant: str | None
              ) -> Method:
        """The method for a run on the networks of `networks` (rulec/meta/networks.py): `template` is a genome of
        the right structure, `variant` the registry's."""

    @staticmethod
    @abc.abstractmethod
    def member_cost(step: Estimate, protocol: Protocol) -> Estimate:
        """Memory and work of one population member on one task for one meta-step, given those of one inner
        step (the batches are counted by the caller). Called before anything is built, to refuse a plan that
        cannot fit."""

    @classmethod
    def refused(cls, settings: Settings) -> list[tuple[str, str]]:
        """The settings this method cannot run with, as (setting, why) pairs, each setting named as its field of
        `Settings` or of its protocol (the command line reports it against the flag of that name). Checked before
        anything is loaded. By default, cutting the unroll into truncations belongs to persistent ES."""
        if settings.protocol.truncation:
            return [("truncation", "only --method pes cuts the unroll into truncations")]
        return []

    @abc.abstractmethod
    def init(self, key, initial: Callable, random_start: bool = False) -> dict:
        """The first carry. `initial(key)` draws a starting genome; `random_start` says those draws are random
        genomes (not a fixed preset or file), which a method may sample several of to start well."""

    @abc.abstractmethod
    def step(self, carry: dict, key, step: int) -> tuple[dict, dict]:
        """Meta-step `step` (from 0): the next carry, and the record of numbers the progress line and log show."""

    @abc.abstractmethod
    def genome(self, carry: dict) -> dict:
        """The method's best genome in `carry`."""

    @abc.abstractmethod
    def unroll_at(self, step: int) -> int:
        """The inner-loop length of meta-step `step`, which validation then uses too."""


@dataclasses.dataclass(frozen=True)
class Entry:
    """A registered method: how to load its class, its variant, and its defaults for the command line."""
    load: Callable[[], type[Method]]  # imported when used, so that listing the methods stays cheap
    population: int
    unroll: int
    variant: str | None = None


def _gradient_class() -> type[Method]:
    from rulec.meta.gradient import Gradient

    return Gradient


def _evolution_class() -> type[Method]:
    from rulec.meta.evolution import Evolution

    return Evolution


def _persistent_class() -> type[Method]:
    from rulec.meta.persistent import Persistent

    return Persistent


def _evolution(evosax_class: str) -> Entry:
    """An evolution strategy of evosax (paper section 4.4 uses CMA-ES): 80 genomes a generation, unroll 15."""
    return Entry(_evolution_class, population=80, unroll=15, variant=evosax_class)


METHODS: dict[str, Entry] = {
    "grad": Entry(_gradient_class, population=1, unroll=10),  # meta-gradients through the unroll (paper 3.2)
    "cmaes": _evolution("CMA_ES"),
    "sep-cmaes": _evolution("Sep_CMA_ES"),  # separable: a diagonal covariance
    "ma-es": _evolution("MA_ES"),  # matrix adaptation
    "lm-ma-es": _evolution("LM_MA_ES"),  # limited-memory matrix adaptation
    "snes": _evolution("SNES"),  # separable natural evolution strategy
    "xnes": _evolution("xNES"),  # exponential natural evolution strategy
    "pgpe": _evolution("PGPE"),  # policy gradients with parameter-based exploration
    "simple-es": _evolution("SimpleES"),
    "ars": _evolution("ARS"),  # augmented random search
    # persistent ES over truncations of a long unroll (rulec/meta/persistent.py)
    "pes": Entry(_persistent_class, population=16, unroll=100),
}


def defaults_text(setting: str) -> str:
    """The registry's defaults of one setting ("population" or "unroll") for a flag's help, such as "1 for grad,
    80 for the others"."""
    by_value: dict[int, list[str]] = {}
    for name, entry in METHODS.items():
        by_value.setdefault(getattr(entry, setting), []).append(name)
    (common, _), *rare = sorted(by_value.items(), key=lambda item: -len(item[1]))
    if not rare:
        return f"{common} for every method"
    return ", ".join([f"{value} for {', '.join(names)}" for value, names in rare] + [f"{common} for the others"])


def build(settings: Settings, networks: list[Network], tasks, template: dict) -> Method:
    """The registered method of `settings.method`, built for one run."""
    entry = METHODS[settings.method]
    return entry.load().build(settings, networks, tasks, template, entry.variant)


def refused(settings: Settings) -> list[tuple[str, str]]:
    """`Method.refused` of the registered method of `settings.method`."""
    return METHODS[settings.method].load().refused(settings)


def member_cost(method: str, step: Estimate, protocol: Protocol) -> Estimate:
    """`Method.member_cost` of a registered method."""
    return METHODS[method].load().member_cost(step, protocol)
