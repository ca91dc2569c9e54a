"""Warnings: what a rule declares or computes and never uses, and neuron states read before a step writes them.

None of these stops a rule from running, so they are warnings (`file:line:col: warning: ...`), which `--werror`
turns into errors. Three kinds:
* an unused declaration: a dim, genome entry, neuron, synapse or activation that nothing reads;
* a result never read: a `let` no later statement of its phase reads, or a neuron write none of whose states any
  phase reads afterwards nor `predict` (state 0 of the first neuron on the output layer);
* a read before a write: neuron states start every step at zero, so reading one that the step writes only later
  reads zero, although the rule expects the value from the last step. A persistent neuron (`neuron theta[post]
  persistent = 1`) is carried between steps, so reading it first is what it is for; and inside a relaxation
  loop a state the loop writes later reads the value the previous iteration left, which is what a loop is for;
* a read of `target` in a phase that `predict` runs, where it reads 0 (`predict-target`): a label-conditioned
  forward pass allows it with a comment;
* a write of a persistent neuron inside a relaxation loop (`persistent-in-loop`), which runs n times a step;
* a read of states that no phase writes at all (`unwritten-read`): a typo such as `a[j, 2]` for `a[j, 1]`. Where
  the read can only be zero (no written state, no bias unit, no persistent value in it) it is an error,
  `never-written`, which `raise_errors` raises and `--werror` is not needed for.

The state checks run on a network with two hidden layers, where every phase and scheme has an instance.
"""

from __future__ import annotations

import dataclasses
import difflib
import re

from rulec.diagnostics import Diagnostic, RuleError, Severity, Span
from rulec.ir import nodes as ir
from rulec.ir.liveness import Repeat, flat, predict_phases, schedule
from rulec.ir.liveness import _locations as locations  # the locations a load or write covers, one definition
from rulec.ir.schedule import Context, write_context
from rulec.syntax import ast

DEPTH = 3  # input, two hidden layers, output

def lint(program: ir.Program) -> list[Diagnostic]:
    """Every warning of the program, in source order, except those their line allows (`allowed`)."""
    found = unused_declarations(program.rule) + unread_lets(program) + unread_writes(program) + \
        reads_before_writes(program) + unwritten_reads(program) + predict_targets(program) + \
        persistent_in_loops(program) + unknown_allows(program)
    return sorted((d for d in found if d.severity is Severity.ERROR or not allowed(d)),
                  key=lambda d: (d.span.line, d.span.column))


def raise_errors(found: list[Diagnostic]) -> list[Diagnostic]:
    """The warnings of `found` (what `lint` returns); raises a RuleError with its errors if it has any."""
    errors = [d for d in found if d.severity is Severity.ERROR]
    if errors:
        raise RuleError(errors)
    return found


# The codes a comment may allow: those of warnings. An error cannot be allowed.
ALLOWABLE = ("unused-declaration", "unread-result", "read-before-write", "unwritten-read", "predict-target",
             "persistent-in-loop", "unknown-allow")
ALLOW = re.compile(r"#\s*allow\s+([A-Za-z][\w-]*)")  # a comment that starts `allow CODE`, not prose


def _allow_comments(line: str):
    """(column, code) of the `allow CODE` a source line's comment starts with."""
    comment_at = line.find("#")
    match = ALLOW.match(line, comment_at) if comment_at >= 0 else None
    if match is not None:
        yield match.start(1) + 1, match.group(1)


def allowed(warning: Diagnostic) -> bool:
    """A comment on the warning's line that says `allow CODE` (`# allow read-before-write: why`) keeps it quiet.
    Comments are not part of a rule's canonical text, so allowing a warning leaves its source hash alone."""
    return any(code == warning.code for _, code in _allow_comments(warning.span.source.line(warning.span.line)))


def unknown_allows(program: ir.Program) -> list[Diagnostic]:
    """`# allow unused-declarations`: a code that is no warning's allows nothing, so the warning it meant stays."""
    source = program.rule.span.source
    found = []
    for number, line in enumerate(source.lines, 1):
        for column, code in _allow_comments(line):
            if code not in ALLOWABLE:
                span = Span(source, number, column, number, column + len(code))
                found.append(_warning(span, f"`{code}` is not the code of a warning, so this allows nothing",
                                      f"a comment may allow {', '.join(ALLOWABLE)}"
                                      + (f"; did you mean `{close[0]}`?" if (close := difflib.get_close_matches(
                                          code, ALLOWABLE, n=1)) else ""), "unknown-allow"))
    return found


def _warning(span, message: str, hint: str, code: str) -> Diagnostic:
    return Diagnostic(span, message, hint, code, Severity.WARNING)


def _listed(states: list[int]) -> str:
    return f"state{'s' if len(states) > 1 else ''} {', '.join(map(str, states))}"


# ---- unused declarations ---------------------------------------------------------------------------------------


def _used_names(node, found: set[str]) -> set[str]:
    """Every name `node` reads: references (not the target of an assignment), calls, and names in shapes."""
    if isinstance(node, (tuple, list)):
        for item in node:
            _used_names(item, found)
        return found
    if not dataclasses.is_dataclass(node):
        return found
    if isinstance(node, ast.Ref):
        found.add(node.name)
    elif isinstance(node, ast.Call):
        found.add(node.function)
    elif isinstance(node, ast.Name):
        found.add(node.id)
    elif isinstance(node, ast.LayerSet):
        found.add(node.name)
    for field in dataclasses.fields(node):
        value = getattr(node, field.name)
        if isinstance(node, ast.Assign) and field.name == "target":
            _used_names(value.indices, found)
        elif field.name != "span":
            _used_names(value, found)
    return found


def unused_declarations(rule: ast.Rule) -> list[Diagnostic]:
    """`dim k = 2` with no `k` anywhere, a genome entry no equation or proof reads, ... (the first neuron is read
    by `predict`)."""
    used = _used_names(rule.items, set())
    declared = [("dim", d) for d in rule.dims] + [("genome entry", g) for g in rule.genome] + \
        [("neuron", n) for n in rule.neurons[1:]] + [("persistent scalar", p) for p in rule.scalars] + \
        [("synapse", s) for s in rule.synapses] + \
        [("activation", a) for a in rule.activations]
    return [_warning(decl.span, f"{kind} `{decl.name}` is declared but never read", "remove it, or use it",
                     "unused-declaration") for kind, decl in declared if decl.name not in used]


# ---- results never read ----------------------------------------------------------------------------------------


def _loads(e: ir.Expr, kind: ir.Source):
    return (sub for sub in ir.walk(e) if isinstance(sub, ir.Load) and sub.kind is kind)


def unread_lets(program: ir.Program) -> list[Diagnostic]:
    """`let z = ...` that no later statement of its phase reads."""
    found = []
    for phase in program.phases:
        read_later: set[str] = set()  # the lets the statements after this one read: one walk per statement
        for statement in reversed(phase.statements):
            if isinstance(statement, ir.Let) and statement.name not in read_later:
                found.append(_warning(statement.span, f"`{statement.name}` is computed but never read",
                                      f"remove the `let`, or read `{statement.name}` in a later equation of "
                                      f"`{phase.kind.value}`", "unread-result"))
            read_later.update(load.name for load in _loads(statement.value, ir.Source.LET))
    return sorted(found, key=lambda d: (d.span.line, d.span.column))


def _executed(run):
    """(statement, its context) for each statement the run executes in its instance (a `for j in output` write
    runs in the last pair only)."""
    context = Context(run.roles, {}, {})
    for statement in run.statements:
        local = context if isinstance(statement, ir.Let) else write_context(statement, context, DEPTH)
        if local is not None:
            yield statement, local


def _read_places(program: ir.Program, load: ir.Load, local: Context) -> set:
    return locations(load.kind, load.name, load.positions, local, program, DEPTH)


def _neuron_reads(program: ir.Program, run) -> set:
    return {place for statement, local in _executed(run) for load in _loads(statement.value, ir.Source.NEURON)
            for place in _read_places(program, load, local)}


def _writes(program: ir.Program, run, statement: ir.Write) -> set:
    local = write_context(statement, Context(run.roles, {}, {}), DEPTH)
    return set() if local is None else locations(statement.kind, statement.name, statement.positions, local,
                                                   program, DEPTH)


def unread_writes(program: ir.Program) -> list[Diagnostic]:
    """A neuron write none of whose states any phase reads, nor `predict`: `a[j, 2] := ...` with no `a[., 2]` read."""
    runs = flat(schedule(program, DEPTH))
    read = set().union(*(_neuron_reads(program, run) for run in runs))
    read.add((ir.Source.NEURON, program.neurons[0].name, DEPTH, 0))  # what predict returns
    statements: dict = {}  # each neuron write, with every location it covers in any instance
    for run in runs:
        for statement in run.statements:
            if isinstance(statement, ir.Write) and statement.kind is ir.Source.NEURON:
                statements.setdefault(statement, set()).update(_writes(program, run, statement))
    return [_warning(statement.span, f"`{statement.name}` is written here but no phase reads what this writes",
                     "neuron states start every step at zero, so this result is lost; read it, or remove the "
                     "equation", "unread-result")
            for statement, written in statements.items() if written and not written & read]


# ---- reads before writes ---------------------------------------------------------------------------------------


def _states(program: ir.Program, neuron: str, places: set) -> str:
    """` (states 0, 1)` for the neuron locations `places`, nothing for a neuron without a state axis."""
    if next(n.states for n in program.neurons if n.name == neuron) is None:
        return ""
    states = sorted({place[3] for place in places})
    return f" (state{'s' if len(states) > 1 else ''} {', '.join(map(str, states))})"


def _all_writes(program: ir.Program, runs) -> set:
    return {place for run in runs for statement in run.statements
            if isinstance(statement, ir.Write) and statement.kind is ir.Source.NEURON
            for place in _writes(program, run, statement)}


def _runs_noting_loops(program: ir.Program, items, written: set):
    """The runs of a schedule, each loop's body once; entering a loop adds what its body writes to `written`,
    since a read there of a state the loop writes later sees the previous iteration's value."""
    for item in items:
        if isinstance(item, Repeat):
            written |= _all_writes(program, item.runs)
        yield from item.runs if isinstance(item, Repeat) else (item,)


def reads_before_writes(program: ir.Program) -> list[Diagnostic]:
    """A neuron state read before the step writes it, and written later in the step: the read sees zero, not
    the value of the last step (`theta[j] := theta[j] + ...` keeps nothing), unless the neuron persists."""
    persistent = {n.name for n in program.neurons if n.persistent}
    items = schedule(program, DEPTH)
    written_ever = _all_writes(program, flat(items))
    written: set = set()
    found: dict = {}
    for run in _runs_noting_loops(program, items, written):
        for statement, local in _executed(run):
            for load in _loads(statement.value, ir.Source.NEURON):
                early = {place for place in _read_places(program, load, local)
                         if place in written_ever and place not in written and place[1] not in persistent}
                if early and load.span not in found:
                    states = _states(program, load.name, early)
                    found[load.span] = _warning(
                        load.span, f"`{load.name}` is read here before this step writes it{states}, so it reads zero",
                        "neuron states start every step at zero and are not kept between steps; to keep a value, "
                        "store it in a synapse", "read-before-write")
            if isinstance(statement, ir.Write) and statement.kind is ir.Source.NEURON:
                written |= _writes(program, run, statement)
    return list(found.values())


# ---- reads of states no phase writes -----------------------------------------------------------------------


def _reads_by_load(program: ir.Program, runs) -> dict:
    """Each neuron load, by its span, with the load and every location it reads in any instance that runs it."""
    reads: dict = {}
    for run in runs:
        for statement, local in _executed(run):
            for load in _loads(statement.value, ir.Source.NEURON):
                reads.setdefault(load.span, (load, set()))[1].update(_read_places(program, load, local))
    return reads


def unwritten_reads(program: ir.Program) -> list[Diagnostic]:
    """A read of neuron states that no phase writes: `a[j, 2]` where only states 0 and 1 are ever written.

    Where the read can only be zero (none of its states is written anywhere, it does not include the bias unit
    and the neuron does not persist) it is an error, `never-written`; a read that also covers written states,
    the bias unit, or a persistent neuron's initial value is a warning, `unwritten-read`."""
    runs = flat(schedule(program, DEPTH))
    written = _all_writes(program, runs)
    written_states = {(place[1], place[3]) for place in written}
    neurons = {n.name: n for n in program.neurons}
    found = []
    for load, places in _reads_by_load(program, runs).values():
        unwritten = sorted({place[3] for place in places if (place[1], place[3]) not in written_states})
        states = f"{_listed(unwritten)} of `{load.name}`" if neurons[load.name].states else f"`{load.name}`"
        if places and not places & written and not neurons[load.name].persistent and not load.positions[0].bias:
            found.append(Diagnostic(load.span, f"no phase writes {states}, so this reads zero at every step",
                                    "write it in a phase before this reads it, or read a state that is written",
                                    "never-written"))
        elif neurons[load.name].persistent and not places & written:
            found.append(_warning(load.span, f"no phase writes {states}, so this reads its initial value, "
                                  f"{neurons[load.name].initial:g}, at every step", "use a constant, or write it",
                                  "unwritten-read"))
        elif unwritten:
            reads = "everywhere but at the bias unit" if not places & written else "in that part"
            found.append(_warning(load.span, f"no phase writes {states}, so this reads zero {reads}",
                                  "read only the states some phase writes", "unwritten-read"))
    return found


# ---- the target at prediction time -----------------------------------------------------------------------------


def predict_targets(program: ir.Program) -> list[Diagnostic]:
    """`target[j]` in a phase that `predict` runs (forward, or backward in a loop with forward): `predict` has no
    target and reads it as 0 there, so the prediction differs from what a step computes."""
    return [_warning(load.span, f"`predict` runs the {phase.kind.value} phase too, and has no target: this reads "
                     "0 there", "read the target in a feedback phase; for a label-conditioned forward pass, allow "
                     "this warning with `# allow predict-target`", "predict-target")
            for phase in program.phases if phase.kind in predict_phases(program)
            for statement in phase.statements for load in _loads(statement.value, ir.Source.TARGET)]


# ---- persistent state in a loop ----------------------------------------------------------------------------


def persistent_in_loops(program: ir.Program) -> list[Diagnostic]:
    """`theta[j] := ...` for a persistent `theta` in a phase inside `repeat n`: a running average or a threshold
    meant to move once a step moves n times. The update phase, which runs once a step, is its place."""
    persistent = {n.name for n in program.neurons if n.persistent}
    return [_warning(statement.span, f"`{statement.name}` persists across steps, but the loop on line "
                     f"{loop.span.line} writes it {loop.count} times a step", "write it in the update phase, which "
                     "runs once a step after the loop", "persistent-in-loop")
            for loop in program.loops for phase in program.phases if phase.kind in loop.kinds
            for statement in phase.statements
            if isinstance(statement, ir.Write) and statement.kind is ir.Source.NEURON and statement.name in persistent]
