"""The registry of the meta-learning methods, with their default settings (the interface they implement is
rulec/meta/method.py).

Adding a method: a class implementing `Method` and an entry in `METHODS`. Another evolution strategy of evosax is
only an entry: `"name": _evolution("EvosaxClass")`.

This module imports neither JAX nor the methods themselves, so that the command line can list the methods and
their defaults without paying for them.
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Callable

from rulec.meta.method import Method as Method, Settings as Settings  # what `build` takes and gives
from rulec.registry import registry

if typing.TYPE_CHECKING:
    from rulec.meta.networks import Network
    from rulec.meta.objectives import Protocol
    from rulec.runtime.resources import Estimate


@dataclasses.dataclass(frozen=True)
class Entry:
    """A registered method: how to load its class, its variant, and its defaults for the command line.

    The contract, checked when the entry is registered (`_problems`): its defaults are whole numbers >= 1 and its
    variant, if any, a name. The class `load` gives implements every method of `Method` (abc refuses to build one
    that does not), and an evolution strategy's variant is an evosax class that fits the contract of
    `rulec.meta.evolution.build_strategy`, checked when a run builds it (loading evosax here would make listing
    the methods slow). tests/meta/test_strategies.py runs every registered strategy through a generation and a
    resume."""
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


def _problems(entry: Entry) -> list[str]:
    """The clauses of the contract (see `Entry`) that `entry` breaks."""
    checks = {"its default population and unroll must be whole numbers >= 1": all(
                  type(n) is int and n >= 1 for n in (entry.population, entry.unroll)),
              "its variant must be a class name": entry.variant is None or entry.variant.isidentifier(),
              "it must load its class through a function": callable(entry.load)}
    return [clause for clause, holds in checks.items() if not holds]


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
    "open-es": _evolution("Open_ES"),  # OpenAI-ES: a fixed step size, Adam on the estimated gradient
    "cr-fm-nes": _evolution("CR_FM_NES"),  # cost-reduction fast-moving natural evolution strategy
    "rm-es": _evolution("Rm_ES"),  # Rank-m ES: a low-rank covariance from the evolution paths
    "des": _evolution("DiscoveredES"),  # the meta-learned discovered evolution strategy
    "asebo": _evolution("ASEBO"),  # adaptive ES with active subspaces
    "esmc": _evolution("ESMC"),  # ES with a control variate: antithetic pairs beside the mean
    "hill-climbing": _evolution("HillClimbing"),
    "simulated-annealing": _evolution("SimulatedAnnealing"),
    # persistent ES over truncations of a long unroll (rulec/meta/persistent.py)
    "pes": Entry(_persistent_class, population=16, unroll=100),
}
METHODS = registry("method", METHODS.items(), _problems)


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
