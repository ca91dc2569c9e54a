"""`rulec analyze`: is a rule's update, with a given genome, a gradient field (paper eq. 10)? Checked symbolically
on a small network, for any activation, and numerically on xor in float64 against its noise floor."""

from __future__ import annotations

import typing
from pathlib import Path

import typer

if typing.TYPE_CHECKING:
    from rulec.check import CheckedRule


def run_analyze(*, file: Path, checked: CheckedRule, genome_path: Path | None, preset: str | None, genome_settings,
                seed: int, force: bool, warn) -> None:
    import jax
    import numpy as np

    from rulec import api
    from rulec.runtime import resources
    from rulec.runtime.genome_file import load_genome
    from rulec.runtime.genome_set import apply_settings, describe
    from rulec.symbolic.analysis import NUMERIC_SHAPE, SYMBOLIC_SHAPE, XOR_LABELS, numeric_symmetry, \
        refuse_too_many_weights, symbolic_symmetry

    rule = api.Rule(checked)
    numeric_shape = "-".join(map(str, NUMERIC_SHAPE))
    resources.check_plan(resources.jacobian_estimate(rule.program, NUMERIC_SHAPE, len(XOR_LABELS)),
                         f"the numeric check on layers {numeric_shape}", force, warn, smaller="dims (--set)")
    refuse_too_many_weights(rule.program, force)
    net = rule.network(NUMERIC_SHAPE)
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
    numeric = numeric_symmetry(net, values, net.init(jax.random.key(seed + 1)))
    typer.echo(f"  numeric, network {numeric_shape} on xor, {numeric.weights} weights, float64: "
               f"|Q - Q^T| / |Q| = {numeric.asymmetry:.3g}, noise floor {numeric.noise:.3g}")
    conclusion = ("consistent with a gradient field" if numeric.symmetric and symbolic.symmetric
                  else "not a gradient field: no loss has this update as its gradient")
    typer.echo(f"  => {conclusion}")
