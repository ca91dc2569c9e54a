"""`rulec.meta_train`: learn a genome by meta-gradients or an evolution strategy (rulec/meta/methods.py), with
meta-validation, checkpoints and resumption.

    result = rulec.meta_train("stdlib_rules/blur.rule", dims={"k": 2}, method="cmaes", data="xor", hidden=(8,),
                              population=8, unroll=10, batch=32, steps=3)
    result.genome, result.history[-1]["validation"]

(docs/python.md runs it, and trains with the genome it learns.)

`settings(...)` builds the `Settings` of a run with the command line's defaults; `prepare` loads the tasks and
builds the method, `MetaRun.resume` reads a checkpoint, and `MetaRun.run` steps it; `meta_train` does all of them.
Checkpoints are written only into a `checkpoint_dir` the caller gives; nothing else is written.
"""

from __future__ import annotations

import dataclasses
import time
import typing
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path

import jax
import numpy as np

from rulec import api
from rulec.data.errors import DataError
from rulec.data.inputs import DEFAULT_INPUTS
from rulec.experiment.choices import SettingError, hidden_layers, input_scaling
from rulec.geometry import Conv, Geometry, slips
from rulec.meta import checkpoint, methods, networks, objectives
from rulec.meta.gradient import Curriculum
from rulec.meta.methods import METHODS, Settings
from rulec.meta.networks import Network
from rulec.meta.tasks import image as tasks_image
from rulec.meta.tasks import load_tasks, parse_specs, shape
from rulec.runtime import resources
from rulec.runtime.genome_file import learned_inputs, load_genome
from rulec.runtime.genome_set import apply_settings, describe
from rulec.runtime.resources import FLOAT_BYTES


def _warn(text: str) -> None:
    warnings.warn(text, stacklevel=3)


class Interrupted(KeyboardInterrupt):
    """Ctrl-C during `MetaRun.run`: the checkpoint of the last whole step is written (when there is a checkpoint
    folder); `step` is that step."""

    def __init__(self, step: int):
        super().__init__(step)
        self.step = step


def settings(method: str = "cmaes", *, data: str = "digits", validate: str | None = None, validate_on: str = "test",
             transform: str = "none", inputs: str = DEFAULT_INPUTS,
             hidden: str | Sequence[Sequence[int | Conv]] | Sequence[int | Conv] = (20,),
             batch: Sequence[int] | int = 128, steps: int = 100, population: int | None = None,
             unroll: int | None = None, eval_batches: int = 20, score_at: tuple[int, ...] = (), horizons: tuple = (),
             stability: float = 0.0, stability_from: int = 0, truncation: int = 0, inits: int = 1,
             unroll_step: int = 0, unroll_every: int = 10_000, max_unroll: int = 50, loss: str = "xent",
             learning_rate: float = 5e-4, clip: float = 10.0, sigma: float = 0.3, search_scale: str = "declared",
             remat: bool = True, start: str = "random", seed: int = 0, checkpoint_every: int = 10,
             eval_every: int = 10, data_dir: str | None = None) -> Settings:
    """The settings of a meta-training run, with `rulec meta-train`'s defaults: `hidden` is one network's hidden
    layers (20,) or (Conv(8, 3, stride=2), 64), or a grid of them ((128,), (256,)), `batch` one batch size or
    several (a grid); the population and the unroll default to the method's (rulec/meta/methods.py), and
    `--horizons` set the unroll to their longest."""
    if method not in METHODS:
        raise SettingError("method", f"choose from {', '.join(METHODS)}")
    if loss not in objectives.LOSSES:
        raise SettingError("loss", f"choose from {', '.join(objectives.LOSSES)}")
    grid = _grid(hidden)
    batches = (batch,) if isinstance(batch, int) else tuple(batch)
    unroll = max((h.step for h in horizons), default=unroll or METHODS[method].unroll)
    protocol = objectives.Protocol(unroll, eval_batches, batches[0], inits, remat=remat, score_at=tuple(score_at),
                                   horizons=tuple(horizons), stability=stability, stability_from=stability_from,
                                   truncation=truncation)
    chosen = Settings(method=method, data=data, validate=validate or data, transform=transform, inputs=inputs,
                      hidden=grid, batches=batches, steps=steps, population=population or METHODS[method].population,
                      protocol=protocol, curriculum=Curriculum(unroll, unroll_step, unroll_every,
                                                               max(max_unroll, unroll)),
                      loss=loss, learning_rate=learning_rate, clip=clip, sigma=sigma, start=start, seed=seed,
                      checkpoint_every=checkpoint_every, eval_every=eval_every, data_dir=data_dir,
                      search_scale=search_scale, validate_on=validate_on)
    refusals = methods.refused(chosen)  # the method's own rules (rulec/meta/methods.py, `Method.refused`)
    if refusals:
        raise SettingError(*refusals[0])
    return chosen


def _grid(hidden: str | Sequence[Sequence[int | Conv]] | Sequence[int | Conv]) -> tuple[tuple[int | Conv, ...], ...]:
    """One network's hidden layers, (20,), or a grid of them, ((128,), (256,)), as a grid; or a spec as `--layers`
    takes it, "128/256" or "conv8k3s2,64"."""
    if isinstance(hidden, str):
        return tuple(hidden_layers(network) for network in hidden.split("/"))
    if all(isinstance(layer, (int, Conv)) for layer in hidden):
        return (tuple(typing.cast(Sequence[int | Conv], hidden)),)
    return tuple(tuple(layers) for layers in typing.cast(Sequence[Sequence[int | Conv]], hidden))


def initial_genome(rule, net, genome_path, preset, genome_settings, warn):
    """The starting genome as a function of a key (random genomes differ per key, the others do not), with the
    `genome_settings` entries set on top."""
    if genome_path is not None:
        fixed = load_genome(genome_path, rule, net.geometry, warn)
    elif preset is not None:
        fixed = rule.preset(preset, sizes=net.geometry)
    else:
        apply_settings(rule.program, net.init_genome(jax.random.key(0)), genome_settings)  # its errors, now
        return lambda key: apply_settings(rule.program, net.init_genome(key), genome_settings)
    fixed = jax.tree.map(lambda a: jax.numpy.asarray(a, jax.numpy.float32),
                         apply_settings(rule.program, fixed, genome_settings))
    return lambda key: fixed


def _validator(grid: list[Network], tasks):
    """Held-out accuracy of one genome on the validation tasks, at the unroll length of a given step, averaged over
    the networks of the grid."""
    compiled = {}

    def validate(genome, key, unroll: int) -> float:
        if unroll not in compiled:
            # Accuracy alone: the stability term steers the search, it is not part of what validation reports.
            protocols = [dataclasses.replace(n.protocol, unroll=unroll, stability=0.0) for n in grid]
            compiled[unroll] = jax.jit(lambda g, k: sum(
                objectives.evaluate(n.net, g, k, tasks, protocol)[0] for n, protocol in zip(grid, protocols)
            ) / len(grid))
        return float(compiled[unroll](genome, key))

    return validate


def plan(settings: Settings, program, sizes, batch: int, tasks: int) -> resources.Estimate:
    """One meta-step: every member and initialisation runs the method's inner work on each task, with its batches."""
    protocol = dataclasses.replace(settings.protocol, batch=batch)
    step = resources.step_estimate(program, sizes, protocol.batch)
    batches = (FLOAT_BYTES * (protocol.unroll + protocol.scored_batches()) * protocol.batch
               * (sizes.sizes[0] + sizes.sizes[-1]))
    member = methods.member_cost(settings.method, step, protocol)
    members = settings.population * protocol.inits
    return resources.Estimate((member.bytes + batches) * members, member.flops * members * tasks)


@dataclasses.dataclass(frozen=True)
class MetaResult:
    """A finished (or interrupted and resumed) run: the learned genome (NumPy arrays), the history of records
    (one per meta-step: `step`, `best`, `mean`, `seconds`, and `validation` every `eval_every` steps; see
    rulec/meta/methods.py), and the networks the genome was learned on: `sizes`, the first network's layer sizes,
    and `networks`, every network of the grid, in its order (each once, whatever its batch sizes)."""
    rule: api.Rule
    settings: Settings
    genome: dict
    history: list[dict]
    sizes: tuple[int, ...]
    seconds: float
    networks: tuple[Geometry, ...]


@dataclasses.dataclass
class MetaRun:
    """A meta-training run ready to step: the method, its carry, the networks and the validation."""
    rule: api.Rule
    settings: Settings
    grid: list[Network]
    method: methods.Method
    carry: typing.Any  # the method's carry, a pytree (rulec/meta/methods.py)
    rng: typing.Any  # a JAX key
    validate: Callable
    history: list[dict] = dataclasses.field(default_factory=list)
    unsaved: list[int] = dataclasses.field(default_factory=list)  # steps whose checkpoint could not be written

    @property
    def start(self) -> int:
        return len(self.history)

    def describe(self) -> str:
        settings, rule = self.settings, self.rule
        dims = ", ".join(f"{k}={v}" for k, v in rule.dims.items()) or "no dims"
        return (f"meta-training `{rule.name}` ({dims}) by {settings.method}, population {settings.population}, on "
                f"{settings.data}; {networks.describe(self.grid)}, {jax.device_count()} device(s)"
                + (f" in {jax.process_count()} processes" if jax.process_count() > 1 else ""))

    def resume(self, checkpoint_dir: Path) -> int:
        """Continues from the checkpoint in `checkpoint_dir` (a SettingError when there is none); returns its step."""
        if not checkpoint.exists(checkpoint_dir):
            raise SettingError("resume", f"there is no checkpoint in {checkpoint_dir} to resume")
        step, self.carry, self.rng, self.history = checkpoint.load(checkpoint_dir, self.rule, self.settings.config(),
                                                                   self.carry)
        if step > self.settings.steps:
            raise SettingError("steps", f"the checkpoint in {checkpoint_dir} is at step {step}, past the "
                                        f"{self.settings.steps} asked for; ask for more to continue")
        return step

    def save(self, checkpoint_dir: Path) -> None:
        checkpoint.save(checkpoint_dir, self.rule, self.settings.config(), self.start, self.carry, self.rng,
                        self.history)

    def run(self, *, progress: Callable[[dict], None] | None = None, checkpoint_dir: Path | None = None,
            on_checkpoint: Callable[[list[dict]], None] | None = None,
            warn: Callable[[str], None] = _warn) -> MetaResult:
        """Steps the method to `settings.steps`, meta-validating every `eval_every` steps and at the last;
        `progress(record)` after each step. With `checkpoint_dir`, checkpoints every `checkpoint_every` steps, at
        the last and on Ctrl-C (then raises Interrupted); `on_checkpoint(history)` after each. A checkpoint that
        cannot be written (a folder turned read-only, a full disk) is a warning, and its step goes to `unsaved`:
        the run goes on, and its genome is still returned."""
        settings, method = self.settings, self.method
        loop_key, validation_key = jax.random.split(jax.random.fold_in(self.rng, 1))

        def save_checkpoint() -> None:
            if checkpoint_dir is None:
                return
            try:
                self.save(checkpoint_dir)
                if on_checkpoint is not None:
                    on_checkpoint(self.history)
            except OSError as error:
                self.unsaved.append(self.start)
                warn(f"could not write the checkpoint of step {self.start} in {checkpoint_dir} "
                     f"({error.strerror or error}); the run goes on")

        started = time.perf_counter()
        try:
            for step in range(self.start, settings.steps):
                stepped, record = method.step(self.carry, jax.random.fold_in(loop_key, step), step)
                record = {"step": step + 1, **record, "seconds": round(time.perf_counter() - started, 3)}
                last = step + 1 == settings.steps
                if (step + 1) % settings.eval_every == 0 or last:
                    record["validation"] = self.validate(method.genome(stepped),
                                                         jax.random.fold_in(validation_key, step),
                                                         method.unroll_at(step))
                # Carry and history advance together, so that Ctrl-C at any point checkpoints a consistent pair.
                self.history.append(record)
                self.carry = stepped
                if progress is not None:
                    progress(record)
                if (step + 1) % settings.checkpoint_every == 0 or last:
                    save_checkpoint()
        except KeyboardInterrupt:
            save_checkpoint()
            raise Interrupted(self.start) from None
        genome = jax.tree.map(np.asarray, method.genome(self.carry))
        return MetaResult(self.rule, settings, genome, self.history, self.grid[0].net.sizes,
                          time.perf_counter() - started, tuple(dict.fromkeys(n.net.geometry for n in self.grid)))


def prepare(rule: api.Rule | str | Path, settings: Settings, *, genome: Path | None = None, preset: str | None = None,
            genome_settings: tuple = (), data_dir: Path | None = None, resume: bool = False, force: bool = False,
            warn: Callable[[str], None] = _warn) -> MetaRun:
    """Loads the tasks, checks the plan fits in memory, builds the networks of the grid and the method, and
    draws the first carry (a resumed run replaces it: `MetaRun.resume`)."""
    if not isinstance(rule, api.Rule):
        rule = api.load(rule)
    tasks = load_tasks(parse_specs(settings.data), settings.transform, data_dir, inputs=settings.inputs)
    # held-out: the pools meta-training scores on (the training split cut in two), never the test split.
    validation = load_tasks(parse_specs(settings.validate), settings.transform, data_dir,
                            validation=settings.validate_on == "test", inputs=settings.inputs)
    inputs, outputs = shape(tasks + validation)
    if shape(validation)[0] != inputs:
        raise SettingError("validate", "the validation tasks have another input size than the training tasks")
    settings = dataclasses.replace(settings, protocol=dataclasses.replace(settings.protocol, outputs=outputs))
    # A grid runs one network a step: the plan is that of its costliest network, checked before any is built.
    image = tasks_image(tasks + validation)
    try:
        shapes = [(networks.layers_on(layers, inputs, image, outputs), batch)
                  for layers, batch in networks.grid(settings.hidden, settings.batches)]
    except DataError as error:  # a convolution on tasks without images: the hidden layers are wrong, as in train
        raise SettingError("hidden", error.message) from None
    for slip in dict.fromkeys(slip for sizes, _ in shapes for slip in slips(sizes)):
        warn(slip)
    plans = {shape: plan(settings, rule.program, *shape, len(tasks)) for shape in shapes}
    (sizes, batch), costliest = max(plans.items(), key=lambda item: (item[1].bytes, item[1].flops))
    unroll_flag = "--horizons" if settings.protocol.horizons else "--unroll"  # the flag that set the unroll
    resources.check_plan(costliest, f"meta-training on layers {networks.describe_sizes(sizes)}, batch {batch}, "
                         f"population {settings.population}, unroll {settings.protocol.unroll}", force, warn,
                         smaller=f"--layers, --batch, --population, {unroll_flag} or dims (--set)")
    grid = networks.build(rule, inputs, outputs, settings.hidden, settings.batches, settings.protocol, image)
    initial = initial_genome(rule, grid[0].net, genome, preset, genome_settings, warn)
    rng = jax.random.key(settings.seed)
    init_key = jax.random.fold_in(rng, 0)
    method = methods.build(settings, grid, tasks, initial(init_key))
    # A resumed run needs only the carry's structure, so it need not search for a good random start.
    carry = method.init(init_key, initial, random_start=genome is None and preset is None and not resume)
    return MetaRun(rule, settings, grid, method, carry, rng, _validator(grid, validation))


def meta_train(rule: api.Rule | str | Path, run_settings: Settings | None = None, *, dims: dict | None = None,
               genome: Path | None = None, preset: str | None = None, genome_settings: tuple = (),
               data_dir: Path | None = None, checkpoint_dir: Path | None = None, resume: bool = False,
               force: bool = False, progress: Callable[[dict], None] | None = None,
               warn: Callable[[str], None] = _warn, **setting_values) -> MetaResult:
    """Learns a genome for `rule` (a rulec.Rule, or a rule file loaded with `dims`). Give the run's `Settings`, or
    the keywords of `settings(...)`; with `checkpoint_dir` the run is checkpointed there, and `resume` continues
    from its checkpoint."""
    if not isinstance(rule, api.Rule):
        rule = api.load(rule, **(dims or {}))
    if run_settings is None:
        start = f"genome {genome}" if genome else f"preset {preset}" if preset else "random"
        learned_on = learned_inputs(genome) if genome else None
        setting_values.setdefault("inputs", input_scaling(None, learned_on, start, warn))
        run_settings = settings(start=start + describe(genome_settings), **setting_values)
    ready = prepare(rule, run_settings, genome=genome, preset=preset, genome_settings=genome_settings,
                    data_dir=data_dir, resume=resume, force=force, warn=warn)
    if resume:
        if checkpoint_dir is None:
            raise SettingError("resume", "give the checkpoint_dir to resume from")
        ready.resume(checkpoint_dir)
    return ready.run(progress=progress, checkpoint_dir=checkpoint_dir)
