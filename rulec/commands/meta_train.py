"""`rulec meta-train`: learn a genome by meta-gradients or an evolution strategy, with progress, checkpoints,
resumption, a JSON log, a plot and a genome file at the end."""

from __future__ import annotations

import dataclasses
import math
import time
from pathlib import Path

import jax
import numpy as np
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from rulec import __version__, api
from rulec.commands.console import warner
from rulec.commands.flags import refuse_unwritable
from rulec.meta import checkpoint, distributed, methods, networks, objectives, report
from rulec.meta.methods import Settings
from rulec.meta.networks import Network
from rulec.meta.tasks import image as tasks_image
from rulec.meta.tasks import load_tasks, parse_specs, shape
from rulec.runtime import resources
from rulec.files import save_or_rescue, write_json
from rulec.runtime.genome_file import load_genome, save_genome
from rulec.runtime.genome_set import apply_settings
from rulec.runtime.lock import holding
from rulec.runtime.report import command_line
from rulec.runtime.resources import FLOAT_BYTES

def _initial(rule, net, genome_path, preset, genome_settings, warn):
    """The starting genome as a function of a key (random genomes differ per key, the others do not), with the
    `--genome-set` entries set on top."""
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


def _plan(settings: Settings, program, sizes, batch: int, tasks: int) -> resources.Estimate:
    """One meta-step: every member and initialisation runs the method's inner work on each task, with its batches."""
    protocol = dataclasses.replace(settings.protocol, batch=batch)
    step = resources.step_estimate(program, sizes, protocol.batch)
    batches = (FLOAT_BYTES * (protocol.unroll + protocol.scored_batches()) * protocol.batch
               * (sizes.sizes[0] + sizes.sizes[-1]))
    member = methods.member_cost(settings.method, step, protocol)
    members = settings.population * protocol.inits
    return resources.Estimate((member.bytes + batches) * members, member.flops * members * tasks)


def run_meta_training(*, file, checked, settings: Settings, genome_path, preset, genome_settings, data_dir,
                      output: Path,
                      checkpoint_dir: Path | None, resume: bool, log_path: Path | None, plot_path: Path | None,
                      force: bool = False, cluster: distributed.Cluster = distributed.Cluster()) -> None:
    if distributed.wanted(cluster):
        distributed.connect(cluster)
    # Every process computes the same search; process 0 alone reports, holds the output locks and writes files.
    leader = distributed.is_leader()
    console = Console(stderr=True, quiet=not leader)
    warn = warner(console)
    checkpoint_dir = checkpoint_dir or output.with_suffix(".checkpoint")
    log_path = log_path or output.with_suffix(".log.json")
    if leader:
        refuse_unwritable({"-o": output, "--log": log_path, "--plot": plot_path},
                          {"--checkpoint-dir": checkpoint_dir})
    rule = api.Rule(checked)
    tasks = load_tasks(parse_specs(settings.data), settings.transform, data_dir, inputs=settings.inputs)
    # held-out: the pools meta-training scores on (the training split cut in two), never the test split.
    validation = load_tasks(parse_specs(settings.validate), settings.transform, data_dir,
                            validation=settings.validate_on == "test", inputs=settings.inputs)
    inputs, outputs = shape(tasks + validation)
    if shape(validation)[0] != inputs:
        raise typer.BadParameter("the validation tasks have another input size than the training tasks",
                                 param_hint="--validate")
    settings = dataclasses.replace(settings, protocol=dataclasses.replace(settings.protocol, outputs=outputs))
    # A grid runs one network a step: the plan is that of its costliest network, checked before any is built.
    image = tasks_image(tasks + validation)
    shapes = [(networks.layers_on(layers, inputs, image, outputs), batch)
              for layers, batch in networks.grid(settings.hidden, settings.batches)]
    plans = {shape: _plan(settings, rule.program, *shape, len(tasks)) for shape in shapes}
    (sizes, batch), plan = max(plans.items(), key=lambda item: (item[1].bytes, item[1].flops))
    resources.check_plan(plan, f"meta-training on layers {networks.describe_sizes(sizes)}, batch {batch}, population "
                         f"{settings.population}, unroll {settings.protocol.unroll}", force, warn)
    grid = networks.build(rule, inputs, outputs, settings.hidden, settings.batches, settings.protocol, image)
    net = grid[0].net
    initial = _initial(rule, net, genome_path, preset, genome_settings, warn)
    rng = jax.random.key(settings.seed)
    init_key = jax.random.fold_in(rng, 0)
    method = methods.build(settings, grid, tasks, initial(init_key))
    # A resumed run needs only the carry's structure, so it need not search for a good random start.
    carry = method.init(init_key, initial, random_start=genome_path is None and preset is None and not resume)
    with holding([output, checkpoint_dir, log_path, plot_path] if leader else []):
        start, history = 0, []
        if resume:
            if not checkpoint.exists(checkpoint_dir):
                raise typer.BadParameter(f"there is no checkpoint in {checkpoint_dir} to resume",
                                         param_hint="--resume")
            start, carry, rng, history = checkpoint.load(checkpoint_dir, rule, settings.config(), carry)
            console.print(f"resuming from step {start} ({checkpoint_dir})")
        loop_key, validation_key = jax.random.split(jax.random.fold_in(rng, 1))
        validate = _validator(grid, validation)
        dims = ", ".join(f"{k}={v}" for k, v in rule.dims.items()) or "no dims"
        console.print(f"meta-training `{rule.name}` ({dims}) by {settings.method}, population "
                      f"{settings.population}, on {settings.data}; {networks.describe(grid)}, "
                      f"{jax.device_count()} device(s)"
                      + (f" in {jax.process_count()} processes" if jax.process_count() > 1 else ""))

        def save_checkpoint(step: int) -> None:
            if not leader:
                return
            checkpoint.save(checkpoint_dir, rule, settings.config(), step, carry, rng, history)
            write_json(log_path, _log(rule, settings, history, file))

        started = time.perf_counter()
        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                   TextColumn("{task.fields[status]}"))
        try:
            with Progress(*columns, console=console) as progress:
                bar = progress.add_task(settings.method, total=settings.steps, completed=start, status="")
                for step in range(start, settings.steps):
                    stepped, record = method.step(carry, jax.random.fold_in(loop_key, step), step)
                    record = {"step": step + 1, **record, "seconds": round(time.perf_counter() - started, 3)}
                    last = step + 1 == settings.steps
                    if (step + 1) % settings.eval_every == 0 or last:
                        record["validation"] = validate(method.genome(stepped),
                                                        jax.random.fold_in(validation_key, step),
                                                        method.unroll_at(step))
                    # Carry and history advance together, so that Ctrl-C at any point checkpoints a consistent pair.
                    history.append(record)
                    carry = stepped
                    progress.update(bar, completed=step + 1, status=_status(record))
                    if (step + 1) % settings.checkpoint_every == 0 or last:
                        save_checkpoint(step + 1)
        except KeyboardInterrupt:
            save_checkpoint(len(history))
            console.print(f"[yellow]interrupted:[/] checkpoint written at step {len(history)}; continue with --resume")
            raise typer.Exit(130)

        if not leader:
            return
        genome = jax.tree.map(np.asarray, method.genome(carry))
        final = history[-1] if history else {}
        written = save_or_rescue(output, lambda path: save_genome(
            path, rule, genome, command=command_line(), seed=settings.seed, method=settings.method,
            layers=list(net.sizes), data=settings.data, transform=settings.transform, inputs=settings.inputs,
            steps=settings.steps,
            validation_accuracy=final.get("validation"), settings=settings.config()), warn)
        log = _log(rule, settings, history, file)
        log_written = save_or_rescue(log_path, lambda path: write_json(path, log), warn)
        console.print(_summary(history, time.perf_counter() - started))
        console.print(f"wrote {written} (genome), {log_written} (log), {checkpoint_dir}/ (checkpoint)")
        rescued = (written, log_written) != (output, log_path)
        if plot_path is not None:
            plotted = save_or_rescue(plot_path, lambda path: report.plot(
                path, history, f"{rule.name}: {settings.method} on {settings.data}"), warn)
            console.print(f"wrote {plotted}")
            rescued = rescued or plotted != plot_path
        if rescued:
            raise typer.Exit(1)


def _status(record: dict) -> str:
    text = f"best {record['best']:.3f} mean {record['mean']:.3f}"
    if "loss" in record:
        text += f" loss {record['loss']:.4f} unroll {record['unroll']}"
    if "validation" in record:
        text += f" validation {record['validation']:.3f}"
    trouble = record.get("diverged", 0) or record.get("skipped", 0)
    return text + (f" [red]{'diverged' if 'diverged' in record else 'skipped'} {trouble}[/]" if trouble else "")


def _summary(history: list, seconds: float) -> str:
    diverged = sum(r.get("diverged", 0) for r in history)
    skipped = sum(r.get("skipped", 0) for r in history)
    validated = [r["validation"] for r in history if "validation" in r and math.isfinite(r["validation"])]
    lines = [f"{len(history)} steps in {seconds:.1f} s; best fitness {max(r['best'] for r in history):.3f}"
             if history else "no steps run"]
    if validated:
        lines.append(f"meta-validation accuracy: first {validated[0]:.3f}, last {validated[-1]:.3f}")
    if diverged:
        lines.append(f"{diverged} population members diverged (NaN or Inf) and got the worst fitness")
    if skipped:
        lines.append(f"{skipped} meta-gradient steps were non-finite and skipped")
    return "\n".join(lines)


def _log(rule, settings: Settings, history: list, file) -> dict:
    return {"rule": rule.name, "file": str(file), "source_hash": rule.source_hash, "dims": rule.dims,
            "rulec_version": __version__, "command": command_line(), "settings": settings.config(),
            "history": history}
