"""The interface of a meta-learning method, and the settings of a run.

A method searches for a genome. Its whole search state is one carry, a pytree of arrays: `init` makes it, `step`
advances it by one meta-step or generation and says what happened as a record of numbers (`best` and `mean`
fitness always; `loss`, `unroll`, `diverged`, `skipped` when the method has them; `network`, the index of the
network of a grid that the step trained on), and `genome` reads the current
best genome from it. A checkpoint holds the carry leaf by leaf, with the RNG key, the settings and the history of
records (rulec/meta/checkpoint.py), so a method with a new kind of carry needs nothing more to be resumable.

The methods (rulec/meta/gradient.py, evolution.py, persistent.py) import this module; the registry that names
them, rulec/meta/methods.py, imports them in turn, so no import runs in a circle.
"""

from __future__ import annotations

import abc
import dataclasses
import json
import typing
from collections.abc import Callable

if typing.TYPE_CHECKING:
    from rulec.geometry import Conv
    from rulec.meta.networks import Network
    from rulec.meta.objectives import Protocol
    from rulec.runtime.resources import Estimate


@dataclasses.dataclass(frozen=True)
class Curriculum:
    """How the unroll of the meta-gradient grows over a run: by `unroll_step` every `unroll_every` meta-steps, from
    `unroll` up to `max_unroll`."""

    unroll: int = 10
    unroll_step: int = 0
    unroll_every: int = 10_000
    max_unroll: int = 50

    def at(self, step: int) -> int:
        """The unroll length of meta-step `step` (counted from 0)."""
        return min(self.max_unroll, self.unroll + self.unroll_step * (step // self.unroll_every))


@dataclasses.dataclass(frozen=True)
class Settings:
    """Everything that determines a run's results; a checkpoint is resumed only under the same settings."""
    method: str
    data: str
    validate: str
    transform: str
    inputs: str  # the input scaling, rulec/data/inputs.py
    hidden: tuple[tuple[int | Conv, ...], ...]  # the hidden layers of each network of the grid (rulec/meta/networks.py)
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
