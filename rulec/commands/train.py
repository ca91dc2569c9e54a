"""`rulec train`: load the rule and the data, train with progress bars, compare with the baselines, report."""

from __future__ import annotations

import time
from pathlib import Path

import jax
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from rulec import api
from rulec.commands.console import warner
from rulec.commands.flags import baseline_scalings, input_scaling, refuse_unwritable
from rulec.data import datasets
from rulec.data.errors import DataError
from rulec.geometry import describe as describe_layers
from rulec.geometry import geometry, on_data
from rulec.data.inputs import standardise
from rulec.meta import tasks
from rulec.runtime import report, resources
from rulec.files import save_or_rescue, write_json
from rulec.runtime.genome_file import find_shipped, learned_inputs, load_genome
from rulec.runtime.genome_set import apply_settings, describe
from rulec.runtime.lock import holding
from rulec.runtime.train import MODELS, OPTIMISERS, SWEEPS, Curve, batch_indices, evaluation_steps, mlp_init, \
    train_baseline, train_rule

TABLE_STEPS = (1, 5, 10, 20, 50, 100, 200, 500, 1000)


def choose_genome(rule, rule_file, net, genome_path, preset, seed, console):
    """The genome to train with: the one given, else the preset given, else a genome shipped with the rule
    (stdlib_rules/genomes/), else the default preset, else the declared constants, else a random draw. Returns the
    genome, where it came from, and the input scaling it was learned on (None: not a genome file, or one without
    metadata)."""
    warn = warner(console)
    path = genome_path if genome_path is not None else find_shipped(rule_file, rule) if preset is None else None
    if path is not None:
        origin = f"genome {path}" if genome_path is not None else f"the shipped genome {path}"
        return load_genome(path, rule, net.geometry, warn), origin, learned_inputs(path)
    if preset is not None or rule.program.default_preset:
        name = preset or rule.program.default_preset
        return rule.preset(name, sizes=net.geometry), f"preset {name}", None
    if not any(entry.sampled for entry in rule.program.genome):
        return net.init_genome(jax.random.key(seed)), "its declared genome", None
    console.print(f"[yellow]note:[/] rule `{rule.name}` has no default preset and no genome was given: using a "
                  f"random genome (seed {seed}); pass --genome or --preset for a learned one")
    return net.init_genome(jax.random.key(seed)), f"a random genome (seed {seed})", None


def table(rule_name: str, curve: Curve, marks: list[int], baselines: dict, rule_scaling: str) -> Table:
    """Test accuracy at the evaluation steps worth a row, the rule beside each baseline's best rate; a baseline
    figure reached on inputs scaled otherwise than the rule's is marked, and the caption says on which."""
    shown = [s for s in marks if s in TABLE_STEPS or s == marks[-1]]
    others = sorted({scaling for b in baselines.values() for *_, scaling in b["best"]} - {rule_scaling})
    marker = {rule_scaling: "", **{scaling: "*" * (n + 1) for n, scaling in enumerate(others)}}
    result = Table(title="test accuracy after each number of steps (baselines: best learning rate at that step)",
                   caption="; ".join(f"{marker[scaling]}: the baseline on {scaling} inputs, the rule on "
                                     f"{rule_scaling}" for scaling in others) or None)
    result.add_column("step", justify="right")
    result.add_column(rule_name, justify="right")
    for kind in baselines:
        result.add_column(kind, justify="right")
    for step in shown:
        i = marks.index(step)
        rule_cell = f"{curve.accuracy[i]:.3f}" if i < len(curve.accuracy) else "diverged"
        cells = [f"{acc:.3f} (lr {rate:.0e}){marker[scaling]}"
                 for acc, rate, scaling in (b["best"][i] for b in baselines.values())]
        result.add_row(str(step), rule_cell, *cells)
    return result


def plan(program, sizes, data, steps: int, batch: int) -> resources.Estimate:
    """One training step, the evaluation on the whole test split, and the [steps, batch] index table."""
    step = resources.step_estimate(program, sizes, batch)
    test = resources.step_estimate(program, sizes, len(data.x_test))
    return resources.Estimate(max(step.bytes, test.bytes) + 8 * steps * batch, step.flops)


def run_training(*, file, checked, genome_path, preset, genome_settings=(), data_name, data_dir, transform_name,
                 inputs=None, baseline_inputs=None, hidden, steps, batch, baselines, baseline_model, seed, plot_path,
                 json_path, force=False) -> None:
    console = Console(stderr=True)
    warn = warner(console)
    kinds = [] if baselines.strip() == "none" else [k.strip() for k in baselines.split(",") if k.strip()]
    unknown = [k for k in kinds if k not in OPTIMISERS]
    if unknown:
        raise typer.BadParameter(f"unknown baseline {unknown[0]!r}; choose from {', '.join(OPTIMISERS)} or none",
                                 param_hint="--baseline")
    if baseline_model not in MODELS:
        raise typer.BadParameter(f"choose from {', '.join(MODELS)}", param_hint="--baseline-model")
    if transform_name not in datasets.TRANSFORMS:
        raise DataError(f"unknown transform `{transform_name}`", "transforms: " + ", ".join(datasets.TRANSFORMS))
    refuse_unwritable({"--json": json_path, "--plot": plot_path})

    rule = api.Rule(checked)
    whole = datasets.transform(datasets.load(tasks.dataset_name(data_name), data_dir), transform_name)
    loaded = tasks.restricted(whole, data_name)
    if batch > len(loaded.x_train):
        raise typer.BadParameter(f"{batch} is larger than the {len(loaded.x_train)} training examples of "
                                 f"{loaded.name}", param_hint="--batch")
    try:
        sizes = geometry(on_data(hidden, loaded.inputs, loaded.image, loaded.classes))
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="--layers") from None
    resources.check_plan(plan(rule.program, sizes, loaded, steps, batch), f"training on layers "
                         f"{describe_layers(sizes)} with batch {batch}", force, warn)
    net = rule.network(sizes)
    genome, origin, learned_on = choose_genome(rule, file, net, genome_path, preset, seed, console)
    scaling = input_scaling(inputs, learned_on, origin, warn)

    def scaled(how: str) -> datasets.Dataset:  # on the whole training split's statistics, as meta-training's tasks
        return tasks.restricted(standardise(whole, how), data_name)

    data = scaled(scaling)
    scaling_text = f"{scaling} inputs" + (", the genome's" if inputs is None and learned_on is not None else "")
    scalings = baseline_scalings(baseline_inputs, scaling) if kinds else ()
    baseline_data = {s: data if s == scaling else scaled(s) for s in scalings}
    if scalings and scalings != (scaling,):
        scaling_text += f"; baselines on {' and '.join(scalings)} inputs, each at its best"
    genome, origin = apply_settings(rule.program, genome, genome_settings), origin + describe(genome_settings)
    with holding([json_path, plot_path]):
        state = net.init(jax.random.key(seed + 1))
        indices = batch_indices(len(data.x_train), steps, batch, seed)
        marks = evaluation_steps(steps)
        console.print(f"training `{rule.name}` with {origin} on {data.name} ({len(data.x_train)} train, "
                      f"{len(data.x_test)} test, {scaling_text}), layers {describe_layers(sizes)}, batch {batch}, "
                      f"{steps} steps")

        started = time.perf_counter()
        columns = (TextColumn("{task.description:<22}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
        with Progress(*columns, console=console, transient=False) as progress:
            task = progress.add_task(rule.name, total=steps)
            curve, _ = train_rule(net, genome, state, data, indices, lambda t: progress.update(task, completed=t))
            results = {}
            scaled_on = f" x {len(scalings)} scalings" if len(scalings) > 1 else ""
            for kind in kinds:
                task = progress.add_task(f"{kind} ({len(SWEEPS[kind])} rates{scaled_on})", total=len(scalings))
                initial = mlp_init(jax.random.key(seed + 1), sizes)
                sweeps = {}
                for name, scaled in baseline_data.items():
                    sweeps[name] = train_baseline(kind, initial, scaled, indices, SWEEPS[kind], baseline_model,
                                                   sizes)
                    progress.advance(task)
                results[kind] = {"learning_rates": SWEEPS[kind].tolist(),
                                 "accuracy": {name: sweep.tolist() for name, sweep in sweeps.items()},
                                 "best": report.best_per_step(sweeps, SWEEPS[kind])}
        seconds = time.perf_counter() - started
        if curve.diverged_at is not None:
            console.print(f"[red]the rule diverged:[/] a synapse became NaN or infinite by step {curve.diverged_at}; "
                          f"the accuracies measured before it are kept below")

        Console().print(table(rule.name, curve, marks, results, scaling))
        record = {"rule": rule.name, "file": str(file), "dims": rule.dims, "genome": origin, "data": data.name,
                  "transform": transform_name, "inputs": scaling, "layers": list(sizes.sizes),
                  "network": describe_layers(sizes),
                  "steps": steps, "batch": batch,
                  "seed": seed, "baseline_inputs": list(scalings), "baseline_model": baseline_model,
                  "evaluation_steps": marks,
                  "rule_accuracy": dict(zip(map(str, curve.steps), curve.accuracy)), "diverged_at": curve.diverged_at,
                  "baselines": results, "seconds": round(seconds, 2), "command": report.command_line()}
        written = []
        if json_path is not None:
            written.append(save_or_rescue(Path(json_path), lambda path: write_json(path, record), warn))
        if plot_path is not None:
            title = f"{rule.name} on {data.name}, {describe_layers(sizes)}, batch {batch}"
            written.append(save_or_rescue(Path(plot_path), lambda path: report.plot(
                path, title, rule.name, curve, marks, results), warn))
        for path in written:
            console.print(f"wrote {path}")
        if curve.diverged_at is not None or written != [Path(p) for p in (json_path, plot_path) if p is not None]:
            raise typer.Exit(1)
