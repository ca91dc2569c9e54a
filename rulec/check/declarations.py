"""Checks of the declarations: names, dims, genome, presets, neurons, synapses, activations, bias, proofs.

Each check is a pure function `(rule, symbols) -> list[Diagnostic]`. Its docstring shows a snippet it rejects.
"""

from __future__ import annotations

import difflib

from rulec.check.distribution_arguments import distribution_argument_errors
from rulec.check.symbols import LAYER_SETS, RESERVED, LayerAxis, StateAxis, Symbols, resolve_axis
from rulec.diagnostics import Diagnostic, Span
from rulec.functions import DISTRIBUTIONS, ELEMENTWISE, INIT_NAMES, STEP_DRAWS
from rulec.losses import LOSSES, PROVABLE_LOSSES
from rulec.phases import LATERAL_CONNECTION, PAIR_SCHEMES, SKIP_CONNECTION
from rulec.preset_functions import PRESET_FUNCTIONS, Call, PresetFunction, shape_problem
from rulec.syntax import ast

CLAIMS = {"sgd": ("loss", "lr")}

# A dim counts states per neuron or genome rows: `nu[k, k]` holds k^2 numbers and every synapse k of them, so
# beyond this no rule trains on one machine, and symbolic proofs expand sums over k term by term.
MAX_DIM = 1024


def suggest(name: str, candidates) -> str | None:
    close = difflib.get_close_matches(name, list(candidates), n=1)
    return f"did you mean `{close[0]}`?" if close else None


def declared_items(rule: ast.Rule):
    yield from ((d.name, d) for d in rule.dims)
    yield from ((g.name, g) for g in rule.genome)
    yield from ((n.name, n) for n in rule.neurons)
    yield from ((p.name, p) for p in rule.scalars)
    yield from ((s.name, s) for s in rule.synapses)
    yield from ((a.name, a) for a in rule.activations)


def check_names(rule: ast.Rule, symbols: Symbols) -> list[Diagnostic]:
    """Each name is declared once and is not reserved: `neuron a` twice, or `neuron x`."""
    seen: dict[str, ast.Item] = {}
    errors = []
    for name, decl in sorted(declared_items(rule), key=lambda item: (item[1].span.line, item[1].span.column)):
        if name in RESERVED or name in ELEMENTWISE or name in DISTRIBUTIONS or name in STEP_DRAWS:
            errors.append(Diagnostic(decl.span, f"`{name}` is a built-in name and cannot be declared",
                                     "choose another name", "reserved-name"))
        elif name in seen:
            errors.append(Diagnostic(decl.span, f"`{name}` is already declared on line {seen[name].span.line}",
                                     "rename one of them", "duplicate-name"))
        else:
            seen[name] = decl
    return errors


def check_dims(rule: ast.Rule, symbols: Symbols) -> list[Diagnostic]:
    """Dims are whole numbers from 1 to MAX_DIM: `dim k = 0`."""
    errors = (dim_range_error(d.name, symbols.dims[d.name], d.span) for d in rule.dims)
    return [error for error in errors if error is not None]


def dim_range_error(name: str, value, span: Span, hint: str | None = None) -> Diagnostic | None:
    """The diagnostic for a dim value that is not a whole number in [1, MAX_DIM], or None when it is one."""
    if isinstance(value, bool) or not isinstance(value, int):
        return Diagnostic(span, f"dim `{name}` must be a whole number, not {value!r}", hint, "bad-dim")
    if not 1 <= value <= MAX_DIM:
        return Diagnostic(span, f"dim `{name}` must be between 1 and {MAX_DIM}, not {value}", hint, "bad-dim")
    return None


def check_shape(shape, symbols: Symbols, owner: str, allow_layers: bool) -> list[Diagnostic]:
    errors = []
    for dim in shape:
        axis = resolve_axis(dim, symbols.dims)
        if axis is None:
            name = dim.name if isinstance(dim, ast.LayerSet) else dim.id
            errors.append(Diagnostic(dim.span, f"unknown dim `{name}` in the shape of `{owner}`",
                                     suggest(name, list(symbols.dims) + list(LAYER_SETS))
                                     or f"declare it first: `dim {name} = 2`", "unknown-dim"))
        elif isinstance(axis, LayerAxis) and not allow_layers:
            errors.append(Diagnostic(dim.span, f"`{owner}` cannot have a layer axis `{axis}` here",
                                     "neuron and synapse shapes list only state dims such as `[k]`",
                                     "layer-in-shape"))
        elif isinstance(axis, StateAxis) and axis.extent < 1:
            errors.append(Diagnostic(dim.span, "a shape entry must be at least 1", None, "bad-dim"))
    return errors


def check_initialiser(expr, symbols: Symbols, owner: str, in_synapse: bool) -> tuple[list[Diagnostic], bool]:
    """Initialisers use numbers, dims, distributions and math: `w ~ normal(0, a[j])` is rejected."""
    errors: list[Diagnostic] = []
    sampled = False

    def walk(e):
        nonlocal sampled
        if isinstance(e, ast.Number):
            return
        if isinstance(e, ast.Ref):
            symbol = symbols.get(e.name)
            if e.name in INIT_NAMES and in_synapse and not e.indices:
                return
            if symbol is not None and symbol.kind == "dim" and not e.indices:
                return
            allowed = "numbers, dims" + (", fan_in and fan_out" if in_synapse else "")
            errors.append(Diagnostic(e.span, f"`{e.name}` cannot be used in the initialiser of `{owner}`",
                                     f"an initialiser may use {allowed}", "bad-initialiser"))
        elif isinstance(e, ast.Call):
            if e.function in DISTRIBUTIONS and not e.primes and not e.selector:
                sampled = True
                if len(e.args) != DISTRIBUTIONS[e.function]:
                    errors.append(Diagnostic(e.span, f"`{e.function}` takes {DISTRIBUTIONS[e.function]} arguments, "
                                             f"got {len(e.args)}", f"write `{e.function}(0, 1)`", "arity"))
                else:
                    errors.extend(distribution_argument_errors(e, symbols.dims))
            elif e.function not in ELEMENTWISE or e.selector:
                errors.append(Diagnostic(e.span, f"unknown function `{e.function}` in an initialiser",
                                         suggest(e.function, list(DISTRIBUTIONS) + list(ELEMENTWISE)),
                                         "unknown-function"))
            for arg in e.args:
                walk(arg)
        elif isinstance(e, ast.Reduce):
            errors.append(Diagnostic(e.span, "an initialiser cannot contain a reduction", None, "bad-initialiser"))
        elif isinstance(e, ast.Neg):
            walk(e.operand)
        else:
            walk(e.left)
            walk(e.right)

    walk(expr)
    return errors, sampled


def check_genome(rule: ast.Rule, symbols: Symbols) -> list[Diagnostic]:
    """Genome shapes resolve and `~` samples while `=` is constant: `f = normal(0, 1)`."""
    errors = []
    for entry in rule.genome:
        errors += check_shape(entry.shape, symbols, entry.name, allow_layers=True)
        init_errors, sampled = check_initialiser(entry.init, symbols, entry.name, in_synapse=False)
        errors += init_errors
        if entry.sampled and not sampled:
            errors.append(Diagnostic(entry.span, f"`{entry.name} ~ ...` needs a distribution",
                                     f"write `{entry.name} ~ normal(0, 1)`, or `{entry.name} = ...` for a constant",
                                     "init-not-random"))
        elif not entry.sampled and sampled:
            errors.append(Diagnostic(entry.span, f"`{entry.name} = ...` is a constant, but it draws random numbers",
                                     f"write `{entry.name} ~ ...` to sample it", "init-random"))
    return errors


def literal_value(literal: ast.Literal | ast.PresetCall):
    """A preset value as numbers: a float, nested tuples of rows, or a Call of a preset function."""
    if isinstance(literal, ast.PresetCall):
        return Call(literal.name, tuple(literal_value(a) for a in literal.args))
    if isinstance(literal, ast.Number):
        return literal.value
    return tuple(literal_value(row) for row in literal.rows)


def literal_shape(literal: ast.Literal) -> tuple[int, ...] | None:
    """The shape of a nested literal, or None when its rows differ in length."""
    if isinstance(literal, ast.Number):
        return ()
    shapes = {literal_shape(row) for row in literal.rows}
    if len(shapes) != 1:
        return None
    row = shapes.pop()
    return None if row is None else (len(literal.rows),) + row


def check_preset_call(call: ast.PresetCall, entry: str, shape: tuple[int, ...], per_synapse: bool) -> list[Diagnostic]:
    """`identity`, `fill(0.5)`, ...: a known function, with as many numbers as it takes, that fits the entry."""
    function = PRESET_FUNCTIONS.get(call.name)
    if function is None:
        known = ", ".join(f.usage for f in PRESET_FUNCTIONS.values())
        return [Diagnostic(call.span, f"`{call.name}` is not a preset function", suggest(call.name, PRESET_FUNCTIONS)
                           or f"a preset value is a number, a matrix, or one of {known}", "preset-function")]
    if not function.takes(len(call.args)):
        return [Diagnostic(call.span, f"`{call.name}` takes {_arity_words(function)}, not {len(call.args)}",
                           f"write it as `{function.usage}`", "preset-function")]
    wrong = [a for a in call.args if isinstance(a, ast.Matrix) != function.takes_matrix]
    if wrong:
        kind = "a matrix" if function.takes_matrix else "numbers"
        return [Diagnostic(wrong[0].span, f"`{call.name}` takes {kind}", f"write it as `{function.usage}`",
                           "preset-function")]
    arg_shapes = tuple(literal_shape(a) for a in call.args)
    ragged = next((a for a, s in zip(call.args, arg_shapes) if s is None), None)
    if ragged is not None:
        return [Diagnostic(ragged.span, "the rows of this matrix differ in length", None, "preset-function")]
    if per_synapse and function.square:
        return [Diagnostic(call.span, f"`{entry}` has one value per synapse, so `{call.name}` cannot fill it",
                           "use `zeros`, `ones` or `fill(...)`", "preset-shape")]
    problem = shape_problem(function, tuple(s for s in arg_shapes if s is not None), shape)
    return [Diagnostic(call.span, problem, f"`{entry}` has shape {list(shape)}", "preset-shape")] if problem else []


def _arity_words(function: PresetFunction) -> str:
    if function.takes_matrix:
        return "one matrix"
    if function.arities is None:
        return "one or more numbers"
    return " or ".join("no numbers" if n == 0 else "one number" if n == 1 else f"{n} numbers"
                       for n in function.arities)


def check_presets(rule: ast.Rule, symbols: Symbols) -> list[Diagnostic]:
    """Presets name genome entries with matching shapes: `nu = [1, 0]` for `nu[k, k]`."""
    errors = []
    names: dict[str, ast.Preset] = {}
    defaults = [p for p in rule.presets if p.is_default]
    for extra in defaults[1:]:
        errors.append(Diagnostic(extra.span, "only one preset can be the default", None, "two-defaults"))
    genome = {g.name: g for g in rule.genome}
    for preset in rule.presets:
        if preset.name in names:
            errors.append(Diagnostic(preset.span, f"preset `{preset.name}` is already declared on line "
                                     f"{names[preset.name].span.line}", None, "duplicate-preset"))
        names[preset.name] = preset
        given = {}
        for entry in preset.entries:
            if entry.name in given:
                errors.append(Diagnostic(entry.span, f"`{entry.name}` is set twice in preset `{preset.name}`",
                                         None, "duplicate-preset-entry"))
            given[entry.name] = entry
            symbol = symbols.get(entry.name)
            if entry.name not in genome or symbol is None:
                errors.append(Diagnostic(entry.span, f"preset `{preset.name}` sets `{entry.name}`, which is not a "
                                         "genome entry", suggest(entry.name, genome), "preset-unknown"))
                continue
            expected = tuple(a.extent for a in symbol.axes if isinstance(a, StateAxis))
            per_synapse = any(isinstance(a, LayerAxis) for a in symbol.axes)
            if isinstance(entry.value, ast.PresetCall):
                errors.extend(check_preset_call(entry.value, entry.name, expected, per_synapse))
                continue
            shape = literal_shape(entry.value)
            if per_synapse:
                if shape != ():
                    errors.append(Diagnostic(entry.span, f"`{entry.name}` has one value per synapse; a preset can "
                                             "only fill it with one number", f"write `{entry.name} = 0`",
                                             "preset-shape"))
            elif shape is None:
                errors.append(Diagnostic(entry.value.span, "the rows of this matrix differ in length", None,
                                         "ragged-matrix"))
            elif shape not in ((), expected):
                errors.append(Diagnostic(entry.value.span, f"preset `{preset.name}` gives `{entry.name}` shape "
                                         f"{list(shape)}, but it is declared with shape {list(expected)}",
                                         "give one value per entry, or one number to fill it", "preset-shape"))
        for name, g in genome.items():
            if g.sampled and name not in given:
                errors.append(Diagnostic(preset.span, f"preset `{preset.name}` does not set `{name}`, which has a "
                                         "random initialiser", f"add a line `{name} = ...` to the preset",
                                         "preset-missing"))
    return errors


def check_neurons(rule: ast.Rule, symbols: Symbols) -> list[Diagnostic]:
    """Neurons carry at most one state axis: `neuron a[k, k]`."""
    errors = []
    for neuron in rule.neurons:
        errors += check_shape(neuron.shape, symbols, neuron.name, allow_layers=False)
        if len(neuron.shape) > 1:
            errors.append(Diagnostic(neuron.span, f"neuron `{neuron.name}` has {len(neuron.shape)} state axes; "
                                     "a neuron carries one vector of states", f"write `neuron {neuron.name}[k]`",
                                     "neuron-shape"))
    if not rule.neurons:
        errors.append(Diagnostic(rule.span, "the rule declares no neurons", "add `neuron a[k]`", "no-neurons"))
    elif (first := rule.neurons[0]).initial is not None:
        errors.append(Diagnostic(first.initial.span, f"neuron `{first.name}` is declared first, so `predict` reads "
                                 "it, but it is persistent: one value per neuron, not per example",
                                 "declare the neuron the network computes with first, as in `neuron a[k]`",
                                 "persistent-first"))
    return errors


def check_synapses(rule: ast.Rule, symbols: Symbols) -> list[Diagnostic]:
    """Synapses connect a valid pair of layer sets: `synapse w : pre -> output`."""
    errors = []
    for synapse in rule.synapses:
        errors += check_shape(synapse.shape, symbols, synapse.name, allow_layers=False)
        ends = {synapse.source.name, synapse.target.name}
        if not all(name in LAYER_SETS for name in ends):
            bad = next(s for s in (synapse.source, synapse.target) if s.name not in LAYER_SETS)
            errors.append(Diagnostic(bad.span, f"unknown layer set `{bad.name}`",
                                     suggest(bad.name, LAYER_SETS) or "layer sets are " + ", ".join(LAYER_SETS),
                                     "unknown-layer-set"))
        elif ends not in PAIR_SCHEMES and ends not in (LATERAL_CONNECTION, SKIP_CONNECTION):
            errors.append(Diagnostic(synapse.source.span, f"synapse `{synapse.name}` connects `{synapse.source}` to "
                                     f"`{synapse.target}`, which are not a pair of layers",
                                     "connect `pre -> post`, `post -> pre`, `hidden -> output`, `output -> hidden`, "
                                     "`post -> post` (lateral) or `input -> output` (skip)",
                                     "bad-connection"))
        if synapse.init is not None:
            errors += check_initialiser(synapse.init, symbols, synapse.name, in_synapse=True)[0]
    if not rule.synapses:
        errors.append(Diagnostic(rule.span, "the rule declares no synapses",
                                 "add `synapse w : pre+bias -> post ~ normal(0, 1) / sqrt(fan_in)`", "no-synapses"))
    return errors


def check_activations(rule: ast.Rule, symbols: Symbols) -> list[Diagnostic]:
    """Activations name known functions with known derivatives: `activation phi = (sigmoid, sign')`."""
    errors = []
    for activation in rule.activations:
        for ref in activation.functions:
            if ref.name not in ELEMENTWISE:
                errors.append(Diagnostic(ref.span, f"unknown function `{ref.name}`",
                                         suggest(ref.name, ELEMENTWISE), "unknown-function"))
            elif ref.primes > ELEMENTWISE[ref.name]:
                errors.append(Diagnostic(ref.span, f"`{ref}` is not defined: `{ref.name}` has "
                                         f"{ELEMENTWISE[ref.name]} known derivatives", None, "no-derivative"))
    return errors


def check_losses(rule: ast.Rule, symbols: Symbols) -> list[Diagnostic]:
    """At most one known loss: `loss hinge`."""
    errors = [Diagnostic(d.span, "the loss is declared twice", None, "duplicate-loss") for d in rule.losses[1:]]
    for declaration in rule.losses:
        if declaration.name not in LOSSES:
            errors.append(Diagnostic(declaration.span, f"unknown loss `{declaration.name}`",
                                     "known losses: " + ", ".join(LOSSES), "unknown-loss"))
    return errors


def check_bias(rule: ast.Rule, symbols: Symbols) -> list[Diagnostic]:
    """At most one bias unit: `bias 1` twice."""
    return [Diagnostic(b.span, "the bias unit is declared twice", None, "duplicate-bias") for b in rule.biases[1:]]


def check_proofs(rule: ast.Rule, symbols: Symbols) -> list[Diagnostic]:
    """`prove` statements name known claims, arguments and presets: `prove sgd(loss = hinge)`."""
    errors = []
    presets = {p.name for p in rule.presets}
    for proof in rule.proofs:
        if proof.claim not in CLAIMS:
            errors.append(Diagnostic(proof.span, f"unknown claim `{proof.claim}`",
                                     "rulec can prove: " + ", ".join(CLAIMS), "unknown-claim"))
            continue
        given = {arg.name: arg for arg in proof.args}
        for arg in proof.args:
            if arg.name not in CLAIMS[proof.claim]:
                errors.append(Diagnostic(arg.span, f"`{proof.claim}` takes no argument `{arg.name}`",
                                         "its arguments are " + ", ".join(CLAIMS[proof.claim]), "prove-arg"))
        loss = given.get("loss")
        if loss is not None and not (isinstance(loss.value, ast.Ref) and loss.value.name in PROVABLE_LOSSES):
            errors.append(Diagnostic(loss.value.span, "unknown loss",
                                     "use " + ", ".join(f"`loss = {n}`" for n in PROVABLE_LOSSES), "prove-loss"))
        if "lr" not in given:
            errors.append(Diagnostic(proof.span, f"`prove {proof.claim}` needs the learning rate",
                                     "add `lr = ...`, an expression of genome scalars", "prove-lr"))
        else:
            errors += _check_scalar_expr(given["lr"].value, symbols)
        if proof.preset is not None and proof.preset.id not in presets:
            errors.append(Diagnostic(proof.preset.span, f"unknown preset `{proof.preset.id}`",
                                     suggest(proof.preset.id, presets), "unknown-preset"))
    return errors


def _check_scalar_expr(expr, symbols: Symbols) -> list[Diagnostic]:
    if isinstance(expr, ast.Number):
        return []
    if isinstance(expr, ast.Ref):
        symbol = symbols.get(expr.name)
        if symbol is not None and symbol.kind in ("genome", "dim") and not symbol.axes and not expr.indices:
            return []
        return [Diagnostic(expr.span, f"`{expr.name}` is not a genome scalar",
                           "the learning rate is built from numbers and scalar genome entries", "prove-lr")]
    if isinstance(expr, ast.Neg):
        return _check_scalar_expr(expr.operand, symbols)
    if isinstance(expr, ast.Binary):
        return _check_scalar_expr(expr.left, symbols) + _check_scalar_expr(expr.right, symbols)
    return [Diagnostic(expr.span, "the learning rate must be an expression of genome scalars", None, "prove-lr")]
