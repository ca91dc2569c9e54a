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
    from rulec.geometry import Conv, Geometry
    from rulec.runtime.outputs import Output

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


def refuse_unwritable(outputs: tuple[Output, ...]) -> None:
    """A usage error on the first output (rulec/runtime/outputs.py) that would overwrite another of the run, or
    whose file (or folder) cannot be written."""
    from rulec.files import writable_problem
    from rulec.runtime.outputs import clash

    clashing = clash(outputs)
    if clashing:
        output, problem = clashing
        raise typer.BadParameter(f"{problem}; give {output.flag} another path", param_hint=output.flag)
    for output in outputs:
        problem = writable_problem(output.path, output.folder)
        if problem:
            raise typer.BadParameter(f"cannot write {output.path}: {problem}", param_hint=output.flag)


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
    rulec/meta/networks.py): widths `128/256/512`, depths `256/256,256/256,256,256,256`, both
    `256,128/512,256/512`, or convolutions `conv8k3s2,64/conv16k3s2,64`, and `32/128`. Repeats count once."""
    networks = layers.split("/")
    if any(not network.strip() for network in networks):
        raise typer.BadParameter(f"a network of the grid {layers!r} is empty: separate networks with one '/', such "
                                 "as 256/256,256", param_hint="--layers")
    hidden = tuple(dict.fromkeys(parse_hidden(network, "20, 256,128, 128/256/512 or 256/256,256")
                                 for network in networks))
    batches = tuple(dict.fromkeys(parse_sizes(part, 1, "128 or 32/128", "--batch") for part in batch.split("/")))
    if any(len(sizes) > 1 for sizes in batches):
        raise typer.BadParameter(f"expected a batch size such as 128, or several as 32/128, got {batch!r}",
                                 param_hint="--batch")
    return hidden, tuple(size for (size,) in batches)


# The options `rulec train` and `rulec compare` share.
TrainDataOption = Annotated[str, typer.Option("--data", help=(
    "mnist5k, digits, fashion, idx, or a synthetic task (xor, moons, ...); a class range (mnist5k:0-4) or label "
    "noise (fashion@noise=0.4) as in meta-training tasks."))]
DataDirOption = Annotated[Optional[Path], typer.Option("--data-dir", help="A directory of IDX files.")]
TransformOption = Annotated[str, typer.Option("--transform", help="none, crop20-resize10 or resize14.")]
HiddenOption = Annotated[Optional[str], typer.Option("--layers", help=(
    "Hidden layers, such as 256 or 256,128, or convolutions as conv16k5s2,conv32k5s2,256 (input and output come "
    "from the data)."))]
BaselineOption = Annotated[str, typer.Option("--baseline", help="Baselines to run: sgd, momentum, adam, or none.")]
BaselineModelOption = Annotated[str, typer.Option("--baseline-model", help=(
    "relu-xent, or tanh-mse (backprop.rule's network and loss)."))]
JsonOption = Annotated[Optional[Path], typer.Option("--json", help="Write every figure as JSON.")]

MONITOR_HELP = ("Record instruments at every evaluation point, comma-separated: alignment (cos(ΔW, -∇W L) and "
                "‖ΔW‖/‖∇W L‖ for every synapse predict reads, and cos(Bᵀ, W) for feedback synapses), norms (‖W‖ of "
                "every synapse); see docs/instruments.md.")
MonitorOption = Annotated[Optional[str], typer.Option("--monitor", help=MONITOR_HELP)]


def parse_monitor(text: str | None) -> tuple[str, ...]:
    """`--monitor alignment,norms` as a tuple of monitor kinds (empty without the flag), or a usage error."""
    if text is None:
        return ()
    from rulec.runtime.monitors import KINDS

    kinds = tuple(dict.fromkeys(part.strip() for part in text.split(",") if part.strip()))
    unknown = [kind for kind in kinds if kind not in KINDS] or ([] if kinds else [text])
    if unknown:
        raise typer.BadParameter(f"unknown monitor {unknown[0]!r}; choose from {', '.join(KINDS)}, comma-separated",
                                 param_hint="--monitor")
    return kinds


def parse_hidden(text: str | None, example: str = "256 or 256,128") -> tuple[int | Conv, ...]:
    """`--layers` of train and compare, or one network of meta-train's grid: sizes and convolutions, `256,128` or
    `conv16k5s2,conv32k5s2,256` (rulec/geometry.py); 256 when not given."""
    if text is None:
        return (256,)
    if not any(character.isalpha() for character in text):
        return parse_sizes(text, 1, example)
    from rulec.geometry import parse_hidden

    try:
        return parse_hidden(text)
    except ValueError as error:
        raise typer.BadParameter(f"{error}; got {text!r}", param_hint="--layers") from None


def parse_layers(text: str) -> tuple[int, ...] | Geometry:
    """All layers, input first: `784,256,10`, or with convolutions `28x28x1,conv16k5s2,256,10` (a geometry)."""
    if not any(character.isalpha() for character in text):
        return parse_sizes(text, 2, "784,256,10 (at least two)")
    from rulec.geometry import geometry, parse_spec

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


BaselineInputsOption = Annotated[Optional[str], typer.Option("--baseline-inputs", callback=baseline_inputs_choice,
                                                             help=BASELINE_INPUTS_HELP)]


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
    if coordinator is not None:
        host, _, port = coordinator.rpartition(":")
        # An ASCII port only: `isdigit` takes "²", and JAX waits out its whole timeout on a port it cannot use.
        if not host or not (port.isascii() and port.isdigit() and 1 <= int(port) <= 65535):
            raise typer.BadParameter(f"expected HOST:PORT with a port from 1 to 65535, such as node01:1234, got "
                                     f"{coordinator!r}", param_hint="--coordinator")
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


def refuse_horizon_conflicts(horizons: tuple, unroll: int | None, score_at: str | None) -> None:
    """`--horizons` sets the unroll and the scoring points, so it excludes the flags that set them otherwise."""
    if not horizons:
        return
    longest = max(h.step for h in horizons)
    if unroll is not None and unroll != longest:
        raise typer.BadParameter(f"--horizons runs the unroll to its longest horizon, {longest}; leave --unroll out "
                                 f"or make it {longest}", param_hint="--unroll")
    if score_at is not None:
        raise typer.BadParameter("give --horizons or --score-at, not both", param_hint="--score-at")


# ---- persistent ES: the truncation, and the flags it cannot take

TruncationOption = Annotated[Optional[int], typer.Option(min=1, help=(
    "pes: inner steps each generation advances the members' networks by, a divisor of --unroll (default: its "
    "largest divisor up to 10)."))]
LONGEST_DEFAULT_TRUNCATION = 10


def persistent_truncation(method: str, truncation: int | None, unroll: int) -> int:
    """`--truncation`, or for `--method pes` without it the unroll's largest divisor up to 10 (0: none given).
    Whether the method takes it is the method's to say (rulec/meta/methods.py, `Method.refused`)."""
    if method != "pes" or truncation is not None:
        return truncation or 0
    return max(d for d in range(1, LONGEST_DEFAULT_TRUNCATION + 1) if unroll % d == 0)


# ---- the unit an evolution strategy moves each genome entry in (rulec/meta/coordinates.py)

SEARCH_SCALES = ("declared", "start")
SEARCH_SCALE_HELP = ("The unit of an evolution strategy's step for each genome entry, which --sigma multiplies. "
                     "declared: the spread of the entry's declared initialiser, or a constant's declared size "
                     "(eta_w = -0.001: 0.001); start: a constant's unit is the larger of that and its size in the "
                     "starting genome (for a --genome whose constants have moved far from their declarations). grad "
                     "always steps in units of the larger of the declared scale and the entry's current size.")


def one_of(value: str, choices: tuple[str, ...], what: str, flag: str) -> str:
    """A flag's value that must be one of `choices` (`what` names one of them: "a split")."""
    if value not in choices:
        raise typer.BadParameter(f"{value!r} is not {what}; choose from {', '.join(choices)}", param_hint=flag)
    return value


def search_scale_choice(value: str) -> str:
    """--search-scale, one of the search scales (whether the method takes it is the method's to say)."""
    return one_of(value, SEARCH_SCALES, "a search scale", "--search-scale")


SearchScaleOption = Annotated[str, typer.Option(help=SEARCH_SCALE_HELP)]


# ---- where meta-validation measures (rulec/meta/tasks.py)

VALIDATE_ON = ("test", "held-out")
VALIDATE_ON_HELP = ("Where meta-validation measures the --validate tasks. test: train on the whole training split, "
                    "measure on the test split; held-out: train on the first 80% of the training split, measure on "
                    "the last 20%, so that a genome can be chosen by meta-validation without the test split.")


def validate_on_choice(value: str) -> str:
    return one_of(value, VALIDATE_ON, "a split", "--validate-on")


ValidateOnOption = Annotated[str, typer.Option(callback=validate_on_choice, help=VALIDATE_ON_HELP)]
