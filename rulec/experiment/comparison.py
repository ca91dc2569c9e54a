"""`rulec.compare`: several rules and baselines under one protocol: the same network, batches, seeds and evaluation
points, each rule with the genome `rulec.train` would choose for it.

    board = rulec.compare(["stdlib_rules/backprop.rule", "stdlib_rules/kolen_pollack.rule"], data="digits",
                          steps=500, seeds=(0, 1, 2), baselines=("sgd", "adam"))
    [(row.name, row.mean[-1], row.std[-1], row.alignment) for row in board.rows]

(tests/runtime/test_compare.py runs one.)

A rule that cannot run (a check error, a genome that does not fit) or that diverges gets its row marked, and the
others go on. Baselines run on every input scaling the rules use, each at its best learning rate and scaling per
evaluation point, as in `rulec train`.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import jax
import numpy as np

from rulec import api
from rulec.data.errors import DataError
from rulec.diagnostics import RuleError
from rulec.experiment import training
from rulec.experiment.choices import SettingError, hidden_layers
from rulec.geometry import Conv
from rulec.runtime.train import evaluation_steps, mlp_init, time_baseline


@dataclasses.dataclass(frozen=True)
class Row:
    """One rule or baseline. `accuracy[seed][point]`, None after a divergence; `mean`, `std` over the seeds that
    reached the point; `alignment`: the final cos(ΔW, -∇W L) per synapse, averaged over instances and seeds;
    `error`: why the rule did not run."""
    name: str
    kind: str  # "rule" or "baseline"
    file: str | None = None
    genome: str | None = None
    inputs: str | None = None
    dims: dict[str, int] = dataclasses.field(default_factory=dict)
    accuracy: list[list[float | None]] = dataclasses.field(default_factory=list)
    alignment: dict[str, float | None] = dataclasses.field(default_factory=dict)
    monitor: list[dict] = dataclasses.field(default_factory=list)  # the monitors of each seed
    seconds_per_step: float | None = None
    diverged: tuple[int, ...] = ()  # the seeds on which the rule diverged
    error: str | None = None

    @property
    def mean(self) -> list[float | None]:
        return [_finite(np.mean(v)) if v else None for v in self._reached()]

    @property
    def std(self) -> list[float | None]:
        return [_finite(np.std(v)) if v else None for v in self._reached()]

    def _reached(self) -> list[list[float]]:
        points = max((len(a) for a in self.accuracy), default=0)
        return [[v for a in self.accuracy if i < len(a) and (v := a[i]) is not None] for i in range(points)]

    def record(self) -> dict:
        return {**dataclasses.asdict(self), "diverged": list(self.diverged), "mean": self.mean, "std": self.std}


@dataclasses.dataclass(frozen=True)
class Comparison:
    """The leaderboard: one row per rule, then one per baseline, on the protocol's settings."""
    settings: dict
    evaluation_steps: list[int]
    rows: list[Row]

    def record(self) -> dict:
        return {**self.settings, "evaluation_steps": self.evaluation_steps, "rows": [r.record() for r in self.rows]}


def _finite(value) -> float | None:
    value = float(value)
    return value if math.isfinite(value) else None


def _final_alignment(monitors: list[dict]) -> dict[str, float | None]:
    """Per synapse, the last point's cosines averaged over instances and seeds (None without a gradient)."""
    found: dict[str, list[float]] = {}
    for monitor in monitors:
        for synapse, points in monitor.get("alignment", {}).items():
            found.setdefault(synapse, []).extend(v for v in (points[-1] if points else []) if v is not None)
    return {synapse: float(np.mean(values)) if values else None for synapse, values in found.items()}


def compare(rules: Sequence[api.Rule | str | Path], *, data: str = "digits", data_dir: Path | None = None,
            transform: str = "none", inputs: str | None = None, dims: Mapping[str, int] | None = None,
            preset: str | None = None,
            hidden: str | Sequence[int | Conv] = (256,), steps: int = 500, batch: int = 128,
            seeds: Sequence[int] = (0, 1, 2), baselines: Sequence[str] = ("sgd", "adam"),
            baseline_model: str = "relu-xent", monitor: bool = True, force: bool = False,
            progress: training.Progress | None = None, warn=training._warn) -> Comparison:
    """Trains every rule (a rulec.Rule or a rule file) with each seed, then the baselines, under one protocol.
    `inputs` scales every rule's inputs one way (default: as `rulec.train` chooses, per rule). `dims` (k=8) sets
    each rule file's dims of those names, in the files that declare them, and `preset` the genome of the rules that
    declare a preset of that name (the others keep theirs); a name no rule declares is refused. With `monitor`,
    each rule's alignment with the gradient is recorded too (rulec/runtime/monitors.py)."""
    progress = progress or (lambda task, done, total: None)
    training.check_choices(baselines, baseline_model, transform)
    if not seeds:
        raise SettingError("seeds", "give at least one seed")
    loaded = [_load(rule, dims or {}) for rule in rules]
    rules_loaded = [r for r in loaded if isinstance(r, api.Rule)]
    undeclared = [name for name in dims or {} if not any(name in r.dims for r in rules_loaded)]
    if undeclared:
        raise SettingError("dims", f"no rule compared declares a dim `{undeclared[0]}`")
    if preset is not None and not any(preset in r.program.presets for r in rules_loaded):
        raise SettingError("preset", f"no rule compared declares a preset `{preset}`")
    hidden = hidden_layers(hidden)
    refuse_unfit_layers(hidden, data, data_dir, transform)
    settings = dict(data=data, data_dir=data_dir, transform=transform, inputs=inputs, hidden=hidden,
                    steps=steps, batch=batch, baselines=(), baseline_model=baseline_model, force=force,
                    warn=_once(warn))
    rows: list[Row] = []
    scalings: list[str] = []
    reference: dict[str, tuple] = {}
    for rule, ready in zip(rules, loaded):
        name = rule.name if isinstance(rule, api.Rule) else Path(rule).stem
        row = Row(name, "rule", file=None if isinstance(rule, api.Rule) else str(rule))
        try:
            if not isinstance(ready, api.Rule):
                raise ready
            own_preset = preset if preset in ready.program.presets else None
            prepared = [training.prepare(ready, file=Path(row.file) if row.file else None, seed=seed,
                                         preset=own_preset, **settings) for seed in seeds]
        except (RuleError, DataError, SettingError) as error:
            rows.append(dataclasses.replace(row, error=_reason(error)))
            continue
        first = prepared[0]
        row = dataclasses.replace(row, name=first.rule.name, genome=first.origin, inputs=first.scaling,
                                  dims=first.rule.dims)
        scalings.append(first.scaling)
        reference.setdefault("rule", (ready, first.file))
        results = [training.run(one, monitor=("alignment",) if monitor else (),
                                progress=_for_seed(progress, f"{row.name} (seed {seed})"))
                   for seed, one in zip(seeds, prepared)]
        rows.append(dataclasses.replace(
            row, accuracy=[_padded(r.curve.accuracy, steps) for r in results],
            monitor=[r.monitor for r in results], alignment=_final_alignment([r.monitor for r in results]),
            seconds_per_step=_median([r.curve.seconds_per_step for r in results]),
            diverged=tuple(seed for seed, r in zip(seeds, results) if r.curve.diverged_at is not None)))
    if baselines and reference:
        rows += _baselines(reference["rule"], settings, seeds, baselines, tuple(dict.fromkeys(scalings)), progress)
    layers = [layer if isinstance(layer, int) else str(layer) for layer in hidden]  # a convolution as its spec
    return Comparison({"data": data, "layers": layers, "steps": steps, "batch": batch, "seeds": list(seeds),
                       "transform": transform, "inputs": inputs, "dims": dict(dims or {}),
                       "preset": preset,
                       "baseline_model": baseline_model}, evaluation_steps(steps), rows)


def _once(warn: Callable[[str], None]) -> Callable[[str], None]:
    """`warn`, saying each text once: every rule and seed is prepared alike, so their warnings repeat."""
    said: set[str] = set()

    def once(text: str) -> None:
        if text not in said:
            said.add(text)
            warn(text)
    return once


def refuse_unfit_layers(hidden: Sequence[int | Conv], data: str, data_dir: Path | None, transform: str) -> None:
    """Hidden layers that cannot run on the data (a convolution on data without images) run no rule: a
    SettingError on `hidden`, as rulec.train gives, before any rule runs."""
    training.layers_on(hidden, training.load_data(data, data_dir, transform)[1])


def _load(rule: api.Rule | str | Path, dims: Mapping[str, int]) -> api.Rule | RuleError:
    """The rule, a file loaded with those of `dims` it declares; or why it cannot be loaded."""
    try:
        if isinstance(rule, api.Rule):
            return rule
        loaded = api.load(rule)
        own = {name: value for name, value in dims.items() if name in loaded.dims}
        return api.load(rule, **own) if own else loaded
    except RuleError as error:
        return error


def _for_seed(progress: training.Progress, task: str) -> training.Progress:
    """A progress callback that reports every task of one run as `task`."""
    return lambda _, done, total: progress(task, done, total)


def _padded(accuracy: list[float], steps: int) -> list[float | None]:
    return list(accuracy) + [None] * (len(evaluation_steps(steps)) - len(accuracy))


def _reason(error: Exception) -> str:
    if isinstance(error, RuleError):
        first = error.diagnostics[0]
        return f"{first.span.source.name}:{first.span.line}:{first.span.column}: {first.message}"
    return str(getattr(error, "message", error))


def _baselines(rule_and_file, settings: dict, seeds, kinds, scalings, progress) -> list[Row]:
    """Each baseline's row: its best learning rate (and input scaling) at each point, for each seed."""
    accuracy: dict[str, list] = {kind: [] for kind in kinds}
    timed: dict[str, list] = {kind: [] for kind in kinds}
    for seed in seeds:
        rule, file = rule_and_file
        prepared = training.prepare(rule, file=file, seed=seed, **{**settings, "baselines": tuple(kinds)},
                                    baseline_inputs=scalings)
        found = training.run_baselines(prepared, kinds, prepared.baseline_data,
                                       lambda task, done, total: progress(f"{task} (seed {seed})", done, total))
        for kind in kinds:
            accuracy[kind].append([best[0] for best in found[kind]["best"]])
            # Timed at its best final rate on its scaling; a step costs the same at any rate.
            _, rate, scaling = found[kind]["best"][-1]
            timed[kind].append(time_baseline(kind, mlp_init(jax.random.key(seed + 1), prepared.sizes),
                                             prepared.baseline_data[scaling], training.indices(prepared), rate,
                                             prepared.settings["baseline_model"], prepared.sizes))
    return [Row(kind, "baseline", inputs=",".join(scalings), accuracy=accuracy[kind],
                seconds_per_step=_median(timed[kind])) for kind in kinds]


def _median(seconds: list[float | None]) -> float | None:
    """The median over the seeds of the seconds per step (None where a run was too short to time)."""
    timed = [s for s in seconds if s is not None]
    return float(np.median(timed)) if timed else None
