"""`rulec analyze`: is a rule's update, with a given genome, a gradient field (paper eq. 10)? Checked symbolically
on a small network, for any activation, and numerically in float64 against its noise floor: on xor by default,
or on the network `--layers` gives, convolutional ones included, with a fixed random batch."""

from __future__ import annotations

import typing
from pathlib import Path

import typer

if typing.TYPE_CHECKING:
    from rulec.check import CheckedRule
    from rulec.geometry import Geometry


def run_analyze(*, file: Path, checked: CheckedRule, genome_path: Path | None, preset: str | None, genome_settings,
                seed: int, force: bool, warn, layers: tuple[int, ...] | Geometry | None = None) -> None:
    """`layers`: the numeric check's network, input first (default the paper's 2-20-2 on xor)."""
    import jax
    import numpy as np

    from rulec import api
    from rulec.geometry import describe as describe_layers, geometry
    from rulec.runtime import resources
    from rulec.runtime.genome_file import load_genome
    from rulec.runtime.genome_set import apply_settings, describe
    from rulec.symbolic.analysis import NUMERIC_EXAMPLES, NUMERIC_SHAPE, SYMBOLIC_SHAPE, numeric_examples, \
        numeric_symmetry, refuse_too_many_weights, symbolic_symmetry

    rule = api.Rule(checked)
    numeric_layers = geometry(NUMERIC_SHAPE if layers is None else layers)
    numeric_shape = describe_layers(numeric_layers)
    resources.check_plan(resources.jacobian_estimate(rule.program, numeric_layers, NUMERIC_EXAMPLES),
                         f"the numeric check on layers {numeric_shape}", force, warn,
                         smaller="dims (--set)" if layers is None else "dims (--set) or layers (--layers)")
    refuse_too_many_weights(rule.program, numeric_layers, force)
    net = rule.network(numeric_layers)
    inputs, labels, examples = numeric_examples(numeric_layers)  # drawn once the guards have passed the network
    if genome_path is not None:
        values, origin = load_genome(genome_path, rule, net.geometry, warn), f"genome {genome_path}"
    elif preset is not None or rule.program.default_preset:
        values, origin = rule.preset(preset), f"preset {preset or rule.program.default_preset}"
    else:
        values, origin = net.init_genome(jax.random.key(seed)), f"a random genome (seed {seed})"
    values, origin = apply_settings(rule.program, values, genome_settings), origin + describe(genome_settings)
    typer.echo(f"{file}: is the update of `{rule.name}` with {origin} a gradient field? (paper eq. 10)")
    symbolic = symbolic_symmetry(rule.program, jax.tree.map(np.asarray, values), SYMBOLIC_SHAPE)
    verdict = "symmetric: exactly zero" if symbolic.symmetric else f"not symmetric: {symbolic.witness}"
    typer.echo(f"  symbolic, network {'-'.join(map(str, SYMBOLIC_SHAPE))}, {symbolic.weights} weights, any "
               f"activation: Q - Q^T is {verdict}")
    numeric = numeric_symmetry(net, values, net.init(jax.random.key(seed + 1)), inputs, labels)
    typer.echo(f"  numeric, network {numeric_shape} on {examples}, {numeric.weights} weights, float64: "
               f"|Q - Q^T| / |Q| = {numeric.asymmetry:.3g}, noise floor {numeric.noise:.3g}")
    conclusion = ("consistent with a gradient field" if numeric.symmetric and symbolic.symmetric
                  else "not a gradient field: no loss has this update as its gradient")
    typer.echo(f"  => {conclusion}")
