"""The command line's flags, checked where they are parsed: the ranges of the numeric ones, `--set`, outputs.

Integer flags use typer's `min`/`max`, which puts the range in the message and in `--help` (`[x>=1]`). Float
flags also need to be finite: a range check alone lets NaN through (every comparison with NaN is false), and a
NaN meta learning rate writes a NaN genome with exit 0. `positive` is their one validator.
"""

from __future__ import annotations

import math
import typing
from pathlib import Path
from typing import Annotated, Optional

import typer

from rulec.data.inputs import DEFAULT_INPUTS, INPUTS
from rulec.diagnostics import COMMAND_LINE, Diagnostic, RuleError, Source, Span

# The checker and the file helpers are imported where they are used, so that `rulec --help` does not load them.
if typing.TYPE_CHECKING:
    from rulec.check.overrides import Overrides

# Seeds feed numpy's and JAX's generators (seed and seed + 1), which take non-negative 32-bit values.
SEED_MAX = 2**31 - 1
# An evolution strategy's own bookkeeping (sorting, recombination) grows with the population whatever the network:
# a million tiny members fit in memory yet take minutes a generation. The paper's populations are 80 to 1024.
MAX_POPULATION = 100_000


def positive(value: float | None) -> float | None:
    """A typer callback: the value must be a finite number greater than 0."""
    if value is not None and not (math.isfinite(value) and value > 0):
        raise typer.BadParameter(f"{value} is not a finite number > 0")
    return value


def force_option() -> typer.models.OptionInfo:
    return typer.Option("--force", help="Run even when the estimated memory exceeds this machine's.")


def seed_option(help_text: str = "Seed of every random draw.") -> typer.models.OptionInfo:
    return typer.Option(min=0, max=SEED_MAX, help=help_text)


def refuse_unwritable(paths: dict[str, Path | None], folders: dict[str, Path | None] | None = None) -> None:
    """A usage error on the first output flag whose file (or folder, for `folders`) cannot be written."""
    from rulec.files import writable_problem

    for flag, path, folder in [*((f, p, False) for f, p in paths.items()),
                               *((f, p, True) for f, p in (folders or {}).items())]:
        problem = path is not None and writable_problem(path, folder)
        if problem:
            raise typer.BadParameter(f"cannot write {path}: {problem}", param_hint=flag)


def parse_sizes(text: str, at_least: int, example: str, flag: str = "--layers") -> tuple[int, ...]:
    """Comma-separated positive integers, at least `at_least` of them, or a usage error on `flag`."""
    try:
        sizes = tuple(int(part) for part in text.split(","))
    except ValueError:
        sizes = ()
    if len(sizes) < at_least or min(sizes, default=0) < 1:
        raise typer.BadParameter(f"expected numbers such as {example}, got {text!r}", param_hint=flag)
    return sizes


def parse_grid(layers: str, batch: str) -> tuple[tuple[tuple[int, ...], ...], tuple[int, ...]]:
    """meta-train's hidden layer sizes and batch sizes, each with alternatives separated by `/` (a grid,
    rulec/meta/networks.py): `128/256/512` or `256,128/512,256`, and `32/128`. Repeats count once."""
    hidden = tuple(dict.fromkeys(parse_hidden(part) for part in layers.split("/")))
    batches = tuple(dict.fromkeys(parse_sizes(part, 1, "128 or 32/128", "--batch") for part in batch.split("/")))
    if any(len(sizes) > 1 for sizes in batches):
        raise typer.BadParameter(f"expected a batch size such as 128, or several as 32/128, got {batch!r}",
                                 param_hint="--batch")
    return hidden, tuple(size for (size,) in batches)


def parse_hidden(text: str) -> tuple:
    """Hidden layers: sizes and convolutions, `256,128` or `conv16k5s2,conv32k5s2,256` (rulec/geometry.py)."""
    from rulec.geometry import SPEC_EXAMPLE, Conv, parse_spec

    try:
        layers = tuple(parse_spec(text))
        if not all(isinstance(layer, (int, Conv)) and (isinstance(layer, Conv) or layer >= 1) for layer in layers):
            raise ValueError(f"expected hidden layers such as {SPEC_EXAMPLE}: the input comes from the data")
    except ValueError as error:
        raise typer.BadParameter(f"{error}; got {text!r}", param_hint="--layers") from None
    return layers


def parse_layers(text: str):
    """All layers, input first: `784,256,10`, or with convolutions `28x28x1,conv16k5s2,256,10` (a geometry)."""
    from rulec.geometry import geometry, parse_spec

    if "x" not in text and "conv" not in text:
        return parse_sizes(text, 2, "784,256,10 (at least two)")
    try:
        return geometry(parse_spec(text))
    except ValueError as error:
        raise typer.BadParameter(f"{error}; got {text!r}", param_hint="--layers") from None



# The range is rulec.check.declarations.MAX_DIM, written out so that `--help` need not import the checker
# (tests/test_layers.py holds the two equal).
SET_HELP = "Override a dim, as NAME=VALUE (k=8): a whole number from 1 to 1024."
SetOption = Annotated[Optional[list[str]], typer.Option("--set", help=SET_HELP)]


def parse_overrides(values: list[str] | None) -> Overrides:
    """Parses `--set k=8` flags, remembering where each was given so that later errors point at the flag.

    Raises RuleError (located on the command line) when one is malformed. A well-formed flag with a value out
    of range, or a name that is not a dim, is refused by the checker, which knows the rule's dims."""
    from rulec.check.overrides import Overrides

    values_by_name: dict[str, int | float] = {}
    spans: dict[str, Span] = {}
    for text in values or ():
        source = Source(COMMAND_LINE, f"--set {text}")
        span = Span(source, 1, 7, 1, 7 + max(1, len(text)))
        name, sep, value = (part.strip() for part in text.partition("="))
        number = parse_number(value)
        if not sep or not name.isidentifier() or number is None:
            raise RuleError([Diagnostic(span, f"malformed `--set {text}`", "write a dim's name, `=` and a whole "
                                        "number, as in `--set k=8`", "bad-flag")])
        values_by_name[name], spans[name] = number, span
    return Overrides(values_by_name, spans)


GENOME_SET_HELP = ("Set a genome entry on top of the genome used, as NAME=VALUE: a number (eta=0.5) or a preset "
                   "function (nu=identity, mu=diag(1, -1), h=fill(0.5)).")
GenomeSetOption = Annotated[Optional[list[str]], typer.Option("--genome-set", help=GENOME_SET_HELP)]


def parse_genome_sets(values: list[str] | None) -> tuple:
    """Parses `--genome-set` flags into GenomeSettings (rulec/runtime/genome_set.py); a RuleError located on the
    flag when one is malformed. Whether the entry exists and the value fits it is checked against the rule."""
    from rulec.runtime.genome_set import parse_setting

    return tuple(parse_setting(text) for text in values or ())


INPUTS_HELP = (f"How inputs are scaled, with training-split statistics: {', '.join(INPUTS)}. feature: each input "
               "to mean 0 and deviation 1 on its own; global: one mean and deviation for all inputs; raw: as "
               f"loaded. Default: a genome file's own mode, else {DEFAULT_INPUTS}.")


def inputs_choice(value: str | None) -> str | None:
    """A typer callback: one of the input scalings, or None (not given)."""
    if value is not None and value not in INPUTS:
        raise typer.BadParameter(f"{value!r} is not an input scaling; choose from {', '.join(INPUTS)}")
    return value


InputsOption = Annotated[Optional[str], typer.Option("--inputs", callback=inputs_choice, help=INPUTS_HELP)]

BASELINE_INPUTS_HELP = ("The input scalings the baselines run on, comma-separated; each baseline is reported at its "
                        "best over them and its learning rates. Default: the rule's scaling and feature, so that a "
                        "rule on global inputs is not compared with baselines denied their better scaling.")


def baseline_inputs_choice(value: str | None) -> tuple[str, ...] | None:
    """A typer callback: a comma-separated list of input scalings, or None (not given)."""
    if value is None:
        return None
    scalings = tuple(dict.fromkeys(part.strip() for part in value.split(",") if part.strip()))
    if not scalings:
        raise typer.BadParameter(f"no input scaling given; choose from {', '.join(INPUTS)}, comma-separated")
    return tuple(inputs_choice(scaling) for scaling in scalings)


def baseline_scalings(asked: tuple[str, ...] | None, rule_scaling: str) -> tuple[str, ...]:
    """The scalings the baselines run on: those asked for, else the rule's own and `feature`."""
    return asked if asked is not None else tuple(dict.fromkeys([rule_scaling, DEFAULT_INPUTS]))


BaselineInputsOption = Annotated[Optional[str], typer.Option("--baseline-inputs", callback=baseline_inputs_choice,
                                                             help=BASELINE_INPUTS_HELP)]


def input_scaling(asked: str | None, learned_on: str | None, origin: str, warn) -> str:
    """`--inputs` when given, else the scaling the genome file was learned on (`learned_on`, None when there is no
    genome file or it does not say), else the default. A genome run on inputs scaled otherwise than it was learned
    on is still run, with a warning through `warn`: its figures are not its own."""
    if asked is None:
        return learned_on or DEFAULT_INPUTS
    if learned_on is not None and asked != learned_on:
        warn(f"{origin} was learned on `{learned_on}` inputs; using `{asked}` inputs as --inputs asks")
    return asked


def parse_number(text: str) -> int | float | None:
    """A whole number as int, another number as float (for the checker to refuse by name), else None."""
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return None


def on_command_line(error: RuleError) -> bool:
    """A RuleError located on a flag (`--set k=0`) is a usage error, not a problem in a file."""
    return all(diagnostic.span.source.name == COMMAND_LINE for diagnostic in error.diagnostics)


def refuse_bad_cluster(coordinator: str | None, num_processes: int | None, process_id: int | None) -> None:
    """The three flags of a run in several processes come together, and make sense together."""
    given = [coordinator is not None, num_processes is not None, process_id is not None]
    if any(given) and not all(given):
        raise typer.BadParameter("give --coordinator, --num-processes and --process-id together (or none of them "
                                 "under SLURM or mpirun)", param_hint="--coordinator")
    if coordinator is not None and not coordinator.rpartition(":")[2].isdigit():
        raise typer.BadParameter(f"expected HOST:PORT, such as node01:1234, got {coordinator!r}",
                                 param_hint="--coordinator")
    if all(given) and process_id >= num_processes:
        raise typer.BadParameter(f"process ids run from 0 to {num_processes - 1} for --num-processes "
                                 f"{num_processes}, got {process_id}", param_hint="--process-id")


def refuse_genome_and_preset(genome: Path | None, preset: str | None) -> None:
    """A genome comes from a file or from a preset, not both."""
    if genome is not None and preset is not None:
        raise typer.BadParameter("give --genome or --preset, not both", param_hint="--genome")


# ---- meta-training for the long run: scoring at several horizons, and the stability term

HORIZONS_HELP = ("Score at several inner steps instead of the unroll's end, as STEP[:BATCHES[:WEIGHT]], comma-"
                 "separated (5,10,20,100): the unroll runs to the longest; a horizon scores on --eval-batches times "
                 "the shortest horizon over its own step (at least 1) unless BATCHES is given, weight 1 unless "
                 "WEIGHT is.")
HorizonsOption = Annotated[Optional[str], typer.Option(help=HORIZONS_HELP)]


def parse_horizons(text: str | None, eval_batches: int) -> tuple:
    """`--horizons` as a tuple of objectives.Horizon (empty without the flag), or a usage error naming the part
    that is wrong."""
    from rulec.meta.objectives import Horizon

    if text is None:
        return ()
    parts = [part.strip().split(":") for part in text.split(",")]
    example = "write STEP[:BATCHES[:WEIGHT]] for each horizon, as in `--horizons 5,10,20,100` or `10:20:1,100:2:0.5`"
    for fields in parts:
        numbers = [parse_number(field) for field in fields]
        whole = all(type(n) is int and n >= 1 for n in numbers[:2])
        weight_ok = len(numbers) < 3 or (numbers[2] is not None and math.isfinite(numbers[2]) and numbers[2] > 0)
        if not 1 <= len(fields) <= 3 or not whole or not weight_ok:
            raise typer.BadParameter(f"malformed horizon {':'.join(fields)!r}: steps and batches are whole numbers "
                                     f">= 1, a weight a finite number > 0; {example}", param_hint="--horizons")
    steps = [int(fields[0]) for fields in parts]
    if len(set(steps)) != len(steps):
        raise typer.BadParameter(f"a step is given twice in {text!r}", param_hint="--horizons")
    shortest = min(steps)
    return tuple(Horizon(step, int(fields[1]) if len(fields) > 1 else max(1, eval_batches * shortest // step),
                         float(fields[2]) if len(fields) > 2 else 1.0) for step, fields in zip(steps, parts))


def non_negative(value: float) -> float:
    """A typer callback: the value must be a finite number >= 0."""
    if not (math.isfinite(value) and value >= 0):
        raise typer.BadParameter(f"{value} is not a finite number >= 0")
    return value


StabilityOption = Annotated[float, typer.Option(callback=non_negative, help=(
    "Weight of the synapses' growth over the unroll (the mean log of their RMS growth), subtracted from the "
    "fitness (added to grad's meta-loss); a finite number >= 0."))]
StabilityFromOption = Annotated[int, typer.Option(min=0, help=(
    "Measure --stability's growth from this inner step to the unroll's end, not from the start: 0 or one of the "
    "steps where the network is scored (a --horizons step). The growth a rule needs to learn then goes free."))]


def refuse_bad_stability_from(protocol) -> None:
    """`--stability-from` names a scoring point of the protocol (where the unroll keeps the network's state), and
    means something only with a stability weight."""
    if protocol.stability_from == 0:
        return
    if protocol.stability == 0:
        raise typer.BadParameter("it only says where --stability measures the growth from; give --stability too",
                                 param_hint="--stability-from")
    points = [h.step for h in protocol.scoring()]
    if protocol.stability_from not in points[:-1]:
        raise typer.BadParameter(f"{protocol.stability_from} is not a step where the network is scored before the "
                                 f"unroll's end; choose 0 or one of {', '.join(map(str, points[:-1])) or 'none'} "
                                 "(--horizons sets them)", param_hint="--stability-from")


def refuse_horizon_conflicts(horizons: tuple, unroll: int | None, score_at: str | None, method: str,
                             unroll_step: int) -> None:
    """`--horizons` sets the unroll and the scoring points, so it excludes the flags that set them otherwise."""
    if not horizons:
        return
    longest = max(h.step for h in horizons)
    if unroll is not None and unroll != longest:
        raise typer.BadParameter(f"--horizons runs the unroll to its longest horizon, {longest}; leave --unroll out "
                                 f"or make it {longest}", param_hint="--unroll")
    if score_at is not None:
        raise typer.BadParameter("give --horizons or --score-at, not both", param_hint="--score-at")
    if method == "grad" and unroll_step > 0:
        raise typer.BadParameter("gradient meta-training scores horizons over one fixed unroll; a growing "
                                 "curriculum (--unroll-step) would cut the long ones off", param_hint="--horizons")


# ---- persistent ES: the truncation, and the flags it cannot take

TruncationOption = Annotated[Optional[int], typer.Option(min=1, help=(
    "pes: inner steps each generation advances the members' networks by, a divisor of --unroll (default: its "
    "largest divisor up to 10)."))]
LONGEST_DEFAULT_TRUNCATION = 10


def persistent_truncation(method: str, truncation: int | None, unroll: int, population: int, *, horizons: tuple,
                          score_at: str | None, stability: float, inits: int, networks: int) -> int:
    """The truncation of `--method pes` (0 for the other methods), or a usage error for a flag it cannot take."""
    if method != "pes":
        if truncation is not None:
            raise typer.BadParameter("only --method pes cuts the unroll into truncations", param_hint="--truncation")
        return 0
    truncation = truncation or max(d for d in range(1, LONGEST_DEFAULT_TRUNCATION + 1) if unroll % d == 0)
    if unroll % truncation:
        raise typer.BadParameter(f"the unroll of {unroll} steps is not a whole number of truncations of {truncation}",
                                 param_hint="--truncation")
    if population % 2:
        raise typer.BadParameter(f"pes draws its members in antithetic pairs; make the population even, not "
                                 f"{population}", param_hint="--population")
    scored_once = {"--horizons": bool(horizons), "--score-at": score_at is not None, "--stability": stability > 0,
                   "--inits": inits > 1}
    for flag, given in scored_once.items():
        if given:
            raise typer.BadParameter("pes scores the members after every truncation, on one synapse draw per task; "
                                     "leave it out", param_hint=flag)
    if networks > 1:
        raise typer.BadParameter("pes keeps every member's network from one generation to the next, so it trains "
                                 "one network: give one --layers and one --batch", param_hint="--layers")
    return truncation


# ---- the unit an evolution strategy moves each genome entry in (rulec/meta/coordinates.py)

SEARCH_SCALES = ("declared", "start")
SEARCH_SCALE_HELP = ("The unit of an evolution strategy's step for each genome entry, which --sigma multiplies. "
                     "declared: the spread of the entry's declared initialiser, or a constant's declared size "
                     "(eta_w = -0.001: 0.001); start: a constant's unit is the larger of that and its size in the "
                     "starting genome (for a --genome whose constants have moved far from their declarations). grad "
                     "always steps in units of the larger of the declared scale and the entry's current size.")


def search_scale_choice(method: str, value: str) -> str:
    """--search-scale, checked against the method (a typer callback cannot see the other flags)."""
    if value not in SEARCH_SCALES:
        raise typer.BadParameter(f"{value!r} is not a search scale; choose from {', '.join(SEARCH_SCALES)}",
                                 param_hint="--search-scale")
    if method == "grad" and value != "declared":
        raise typer.BadParameter("grad already steps each entry in units of the larger of its declared scale and "
                                 "its current size; leave it out", param_hint="--search-scale")
    return value


SearchScaleOption = Annotated[str, typer.Option(help=SEARCH_SCALE_HELP)]


# ---- where meta-validation measures (rulec/meta/tasks.py)

VALIDATE_ON = ("test", "held-out")
VALIDATE_ON_HELP = ("Where meta-validation measures the --validate tasks. test: train on the whole training split, "
                    "measure on the test split; held-out: train on the first 80% of the training split, measure on "
                    "the last 20%, so that a genome can be chosen by meta-validation without the test split.")


def validate_on_choice(value: str) -> str:
    if value not in VALIDATE_ON:
        raise typer.BadParameter(f"{value!r} is not a split; choose from {', '.join(VALIDATE_ON)}",
                                 param_hint="--validate-on")
    return value


ValidateOnOption = Annotated[str, typer.Option(callback=validate_on_choice, help=VALIDATE_ON_HELP)]
