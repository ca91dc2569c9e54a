"""`rulec.train`: train a network with a rule on real data, next to tuned SGD, momentum and Adam, under one protocol
(rulec/runtime/train.py), with the instruments of rulec/runtime/monitors.py when asked.

    >>> import rulec
    >>> result = rulec.train("stdlib_rules/backprop.rule", data="xor", hidden=(8,), steps=20, batch=16,
    ...                      baselines=(), monitor=("alignment",))
    >>> result.evaluation_steps[-1], len(result.curve.accuracy)
    (20, 5)
    >>> [round(cos, 4) for cos in result.monitor["alignment"]["w"][-1]]
    [1.0, 1.0]

`prepare` does everything before the first step (data, genome, input scaling, the memory check) and `run` the
steps, so that a caller can report the plan and take its locks in between; `train` does both.
"""

from __future__ import annotations

import dataclasses
import time
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path

import jax

from rulec import api
from rulec.data import datasets
from rulec.data.errors import DataError
from rulec.data.inputs import standardise
from rulec.experiment.choices import SettingError, baseline_scalings, hidden_layers, input_scaling
from rulec.geometry import Conv, Geometry, geometry, on_data, slips
from rulec.geometry import describe as describe_layers
from rulec.meta import tasks
from rulec.runtime import monitors, report, resources
from rulec.runtime.genome_file import find_shipped, learned_inputs, load_genome
from rulec.runtime.genome_set import apply_settings, describe
from rulec.runtime.train import MODELS, OPTIMISERS, SWEEPS, Curve, batch_indices, evaluation_steps, mlp_init, \
    train_baseline, train_rule

# progress(task, done, total): `task` is the rule's name or a baseline's description; called with done = 0 first.
Progress = Callable[[str, int, int], None]


def _warn(text: str) -> None:
    warnings.warn(text, stacklevel=3)


def _silent(text: str) -> None:
    pass


def choose_genome(rule, rule_file, net, genome_path, preset, seed, note: Callable[[str], None] = _silent,
                  warn: Callable[[str], None] = _warn):
    """The genome to train with: the one given (a genome file, or a dict of arrays), else the preset given, else a
    genome shipped with the rule (stdlib_rules/genomes/, when the rule's file is known), else the default preset,
    else the declared constants, else a random draw. Returns the genome, where it came from, and the input scaling
    it was learned on (None: not a genome file, or one without metadata)."""
    if isinstance(genome_path, dict):
        return genome_path, "the genome given", None
    shipped = find_shipped(rule_file, rule) if preset is None and rule_file is not None else None
    path = genome_path if genome_path is not None else shipped
    if path is not None:
        origin = f"genome {path}" if genome_path is not None else f"the shipped genome {path}"
        return load_genome(path, rule, net.geometry, warn), origin, learned_inputs(path)
    if preset is not None or rule.program.default_preset:
        name = preset or rule.program.default_preset
        return rule.preset(name, sizes=net.geometry), f"preset {name}", None
    if not any(entry.sampled for entry in rule.program.genome):
        return net.init_genome(jax.random.key(seed)), "its declared genome", None
    note(f"rule `{rule.name}` has no default preset and no genome was given: using a random genome (seed {seed}); "
         "pass --genome or --preset for a learned one")
    return net.init_genome(jax.random.key(seed)), f"a random genome (seed {seed})", None


def plan(program, sizes, data, steps: int, batch: int) -> resources.Estimate:
    """One training step, the evaluation on the whole test split, and the [steps, batch] index table."""
    step = resources.step_estimate(program, sizes, batch)
    test = resources.step_estimate(program, sizes, len(data.x_test))
    return resources.Estimate(max(step.bytes, test.bytes) + 8 * steps * batch, step.flops)


@dataclasses.dataclass(frozen=True)
class Prepared:
    """A training run ready to start: the network, the genome and the data of every scaling."""
    rule: api.Rule
    file: Path | None
    net: api.Network
    genome: dict
    origin: str  # where the genome came from, as the report says it
    data: datasets.Dataset
    scaling: str
    scaling_text: str
    baselines: tuple[str, ...]  # the optimisers to compare with
    baseline_data: dict[str, datasets.Dataset]  # input scaling -> data, for the baselines
    settings: dict  # the settings as the JSON record gives them

    @property
    def sizes(self) -> Geometry:
        return self.net.geometry

    def describe(self) -> str:
        data, settings = self.data, self.settings
        return (f"training `{self.rule.name}` with {self.origin} on {data.name} ({len(data.x_train)} train, "
                f"{len(data.x_test)} test, {self.scaling_text}), layers {describe_layers(self.sizes)}, batch "
                f"{settings['batch']}, {settings['steps']} steps")


@dataclasses.dataclass(frozen=True)
class TrainResult:
    """What a training run measured. `curve`: the rule's test accuracy at each evaluation point it reached;
    `baselines`: {kind: {"learning_rates", "accuracy": {scaling: [rate][point]}, "best": [(acc, rate, scaling)]}};
    `monitor`: {measure: {synapse: [point][instance]}} (rulec/runtime/monitors.py), empty when none was asked;
    `state`: the network at the last finite evaluation point."""
    prepared: Prepared
    curve: Curve
    baselines: dict
    monitor: dict
    no_gradient: dict[str, str]
    no_backward_pass: dict[str, list[int]]
    seconds: float
    state: object

    @property
    def genome(self) -> dict:
        return self.prepared.genome

    @property
    def evaluation_steps(self) -> list[int]:
        return evaluation_steps(self.prepared.settings["steps"])

    @property
    def accuracy(self) -> dict[int, float]:
        return dict(zip(self.curve.steps, self.curve.accuracy))

    def record(self) -> dict:
        """Every figure, as `rulec train --json` writes it (less the command line)."""
        prepared, curve = self.prepared, self.curve
        rule = prepared.rule
        record = {"rule": rule.name, "file": str(prepared.file), "dims": rule.dims, "genome": prepared.origin,
                  "data": prepared.data.name, **prepared.settings, "evaluation_steps": self.evaluation_steps,
                  "rule_accuracy": {str(s): a for s, a in self.accuracy.items()}, "diverged_at": curve.diverged_at,
                  "baselines": self.baselines}
        if self.monitor:
            record["monitor"] = {**self.monitor, "no_gradient": self.no_gradient,
                                 "no_backward_pass": self.no_backward_pass, "points": "evaluation_steps"}
        return {**record, "seconds": round(self.seconds, 2)}


def check_choices(baselines: Sequence[str], baseline_model: str, transform: str) -> None:
    """Refuses a baseline, baseline model or transform that does not exist, before anything is loaded."""
    unknown = [k for k in baselines if k not in OPTIMISERS]
    if unknown:
        raise SettingError("baselines", f"unknown baseline {unknown[0]!r}; choose from {', '.join(OPTIMISERS)} or "
                                        "none")
    if baseline_model not in MODELS:
        raise SettingError("baseline_model", f"choose from {', '.join(MODELS)}")
    if transform not in datasets.TRANSFORMS:
        raise DataError(f"unknown transform `{transform}`", "transforms: " + ", ".join(datasets.TRANSFORMS))


def load_data(data: str, data_dir: Path | None, transform: str) -> tuple[datasets.Dataset, datasets.Dataset]:
    """The whole dataset of the task spec `data`, transformed, and the task as training sees it."""
    whole = datasets.transform(datasets.load(tasks.dataset_name(data), data_dir), transform)
    return whole, tasks.restricted(whole, data)


def layers_on(hidden: str | Sequence[int | Conv], loaded: datasets.Dataset) -> Geometry:
    """The network of the hidden layers (a sequence, or a spec as `--layers` takes it) on the data (its input, its
    classes); a SettingError on `hidden` saying what to write when they cannot run on it (a malformed spec, a
    convolution on data without images)."""
    layers = hidden_layers(hidden)  # its own SettingError, not wrapped in another
    try:
        return geometry(on_data(layers, loaded.inputs, loaded.image, loaded.classes))
    except ValueError as error:
        raise SettingError("hidden", str(error)) from None


def prepare(rule: api.Rule | str | Path, *, data: str = "mnist5k", data_dir: Path | None = None,
            transform: str = "none", inputs: str | None = None, baseline_inputs: tuple[str, ...] | None = None,
            hidden: str | Sequence[int | Conv] = (256,), steps: int = 100, batch: int = 128,
            baselines: Sequence[str] = ("sgd", "momentum", "adam"), baseline_model: str = "relu-xent", seed: int = 0,
            genome: Path | dict | None = None, preset: str | None = None, genome_settings: tuple = (),
            force: bool = False, file: Path | None = None, warn: Callable[[str], None] = _warn,
            note: Callable[[str], None] = _silent) -> Prepared:
    """Everything before the first step: loads the rule (a path) and the data, checks the plan fits in memory,
    builds the network and chooses the genome (`genome`: a genome file or a dict of arrays, such as
    `rulec.meta_train(...).genome`) and the input scalings. Raises SettingError, DataError, RuleError."""
    if not isinstance(rule, api.Rule):
        file = file or Path(rule)
        rule = api.load(rule)
    kinds = tuple(baselines)
    check_choices(kinds, baseline_model, transform)
    whole, loaded = load_data(data, data_dir, transform)
    if batch > len(loaded.x_train):
        raise SettingError("batch", f"{batch} is larger than the {len(loaded.x_train)} training examples of "
                                    f"{loaded.name}")
    sizes = layers_on(hidden, loaded)
    for slip in slips(sizes):
        warn(slip)
    resources.check_plan(plan(rule.program, sizes, loaded, steps, batch), f"training on layers "
                         f"{describe_layers(sizes)} with batch {batch}", force, warn)
    net = rule.network(sizes)
    chosen, origin, learned_on = choose_genome(rule, file, net, genome, preset, seed, note, warn)
    scaling = input_scaling(inputs, learned_on, origin, warn)

    def scaled(how: str) -> datasets.Dataset:  # on the whole training split's statistics, as meta-training's tasks
        return tasks.restricted(standardise(whole, how), data)

    scaled_data = scaled(scaling)
    scaling_text = f"{scaling} inputs" + (", the genome's" if inputs is None and learned_on is not None else "")
    scalings = baseline_scalings(baseline_inputs, scaling) if kinds else ()
    baseline_data = {s: scaled_data if s == scaling else scaled(s) for s in scalings}
    if scalings and scalings != (scaling,):
        scaling_text += f"; baselines on {' and '.join(scalings)} inputs, each at its best"
    chosen, origin = apply_settings(rule.program, chosen, genome_settings), origin + describe(genome_settings)
    settings = {"transform": transform, "inputs": scaling, "layers": list(sizes.sizes),
                "network": describe_layers(sizes), "steps": steps, "batch": batch,
                "seed": seed, "baseline_inputs": list(scalings), "baseline_model": baseline_model}
    return Prepared(rule, file, net, chosen, origin, scaled_data, scaling, scaling_text, kinds, baseline_data,
                    settings)


def run(prepared: Prepared, *, monitor: Sequence[str] = (), progress: Progress | None = None) -> TrainResult:
    """Trains the rule, then each baseline at each of its learning rates and input scalings, on the same batches.
    `monitor`: kinds of rulec/runtime/monitors.py to record at every evaluation point."""
    progress = progress or (lambda task, done, total: None)
    unknown = [kind for kind in monitor if kind not in monitors.KINDS]
    if unknown:
        raise SettingError("monitor", f"unknown monitor {unknown[0]!r}; choose from {', '.join(monitors.KINDS)}")
    settings = prepared.settings
    net, rule, seed, steps = prepared.net, prepared.rule, settings["seed"], settings["steps"]
    watcher = monitors.build(net, monitor) if monitor else None
    started = time.perf_counter()
    progress(rule.name, 0, steps)
    curve, state = train_rule(net, prepared.genome, net.init(jax.random.key(seed + 1)), prepared.data,
                              indices(prepared), lambda t: progress(rule.name, t, steps), watcher)
    results = run_baselines(prepared, prepared.baselines, prepared.baseline_data, progress)
    return TrainResult(prepared, curve, results, monitors.collect(curve.monitored) if watcher else {},
                       watcher.no_gradient if watcher else {}, watcher.no_backward_pass if watcher else {},
                       time.perf_counter() - started, state)


def indices(prepared: Prepared):
    """The [steps, batch] indices of the run's batches, the same for the rule and every baseline."""
    settings = prepared.settings
    return batch_indices(len(prepared.data.x_train), settings["steps"], settings["batch"], settings["seed"])


def run_baselines(prepared: Prepared, kinds: Sequence[str], scaled: dict[str, datasets.Dataset],
                  progress: Progress) -> dict:
    """Each baseline at each of its learning rates and on each input scaling of `scaled`, on the run's batches:
    {kind: {"learning_rates", "accuracy": {scaling: [rate][point]}, "best": [(accuracy, rate, scaling)]}}."""
    seed, model = prepared.settings["seed"], prepared.settings["baseline_model"]
    scaled_on = f" x {len(scaled)} scalings" if len(scaled) > 1 else ""
    results = {}
    for kind in kinds:
        task = f"{kind} ({len(SWEEPS[kind])} rates{scaled_on})"
        progress(task, 0, len(scaled))
        initial = mlp_init(jax.random.key(seed + 1), prepared.sizes)
        sweeps = {}
        for done, (name, data) in enumerate(scaled.items(), start=1):
            sweeps[name] = train_baseline(kind, initial, data, indices(prepared), SWEEPS[kind], model,
                                          prepared.sizes)
            progress(task, done, len(scaled))
        results[kind] = {"learning_rates": SWEEPS[kind].tolist(),
                         "accuracy": {name: sweep.tolist() for name, sweep in sweeps.items()},
                         "best": report.best_per_step(sweeps, SWEEPS[kind])}
    return results


def train(rule: api.Rule | str | Path, *, monitor: Sequence[str] = (), progress: Progress | None = None,
          **settings) -> TrainResult:
    """Trains a network with `rule` (a rulec.Rule or a rule file) and the baselines; the keyword settings are
    those of `prepare`, named as the flags of `rulec train` (`hidden` for --layers, `baselines` as a sequence)."""
    return run(prepare(rule, **settings), monitor=monitor, progress=progress)
