"""Checks of phases and their equations: binding, index types, shapes, free indices, the batch and who writes what.

The typer walks each expression once, reporting every problem as a Diagnostic. Its result for a phase is the
type of each `let` (its axes and whether it varies over the batch) and of each use of an index, which
rulec/ir/resolve.py reads instead of working them out again.
"""

from __future__ import annotations

from types import MappingProxyType

from rulec.check import comparisons, draws, loss_calls, permissions, scalars, size_calls
from rulec.check.declarations import suggest
from rulec.check.graph import layer_mismatch, outside_phase
from rulec.check.indices import SCALAR, LayerIndex, PhaseTypes, Ty
from rulec.check.symbols import BATCH, LAYER_SETS, NARROWINGS, Axis, LayerAxis, StateAxis, Symbol, Symbols, resolve_dim
from rulec.diagnostics import Diagnostic, Span
from rulec.functions import DISTRIBUTIONS, ELEMENTWISE, INIT_NAMES, SIZE, STEP_DRAWS, TWO_ARGUMENT_FUNCTIONS
from rulec.syntax import ast


class PhaseTyper:
    """Types the statements of one phase, collecting diagnostics."""

    def __init__(self, phase: ast.Phase, symbols: Symbols, loss: str | None = None):
        self.phase = phase
        self.symbols = symbols
        self.errors: list[Diagnostic] = []
        self.layers: dict[str, LayerIndex] = {b.index: LayerIndex(b.layer_set.name, b.layer_set.bias)
                                              for b in phase.bindings}
        self.states: dict[str, int] = {}
        self.lets: dict[str, Symbol] = {}
        self.index_types: dict[Span, LayerIndex | int] = {}
        self.loss = loss  # the name of the declared loss

    def error(self, span: Span, message: str, hint: str | None, code: str) -> None:
        self.errors.append(Diagnostic(span, message, hint, code))

    # ---- statements ------------------------------------------------------------------------------------------

    def statement(self, stmt: ast.Statement) -> None:
        self.states = {}
        if isinstance(stmt, ast.Let):
            self.let(stmt)
        else:
            saved = dict(self.layers)
            self.assign(stmt)
            self.layers = saved

    def let(self, let: ast.Let) -> None:
        if self.symbols.get(let.name) is not None or let.name in self.lets or let.name in self.layers:
            self.error(let.span, f"`{let.name}` is already declared", "give the `let` another name", "duplicate-name")
        names = self.index_names(let.indices, f"let `{let.name}`")
        for index in let.indices:
            if isinstance(index, ast.Int):
                named = ", ".join(i.id for i in let.indices if isinstance(i, ast.Name))
                self.error(index.span, f"`{let.name}` is a let: its indices name its axes, and cannot be a number",
                           f"a let is a value with no stored states to pick from: write `let {let.name}"
                           f"{f'[{named}]' if named else ''} = ...`", "let-index")
        ty = draws.draw(self, let) if draws.is_draw(let.value) else self.expr(let.value)
        self.check_free(ty, names, f"`{let.name}`")
        axes: list[Axis] = []
        for index in let.indices:
            if isinstance(index, ast.Name) and index.id not in ty.free:
                self.error(index.span, f"index `{index.id}` of `{let.name}` does not appear in its value", None,
                           "let-unused-index")
            elif isinstance(index, ast.Name) and index.id in self.layers:
                layer = self.index_types[index.span] = self.layers[index.id]
                axes.append(LayerAxis(layer.base, layer.bias))
            elif isinstance(index, ast.Name):
                state_axis = StateAxis(self.states.get(index.id, 0))
                axes.append(state_axis)
                self.index_types[index.span] = state_axis.extent
        self.lets[let.name] = Symbol(let.name, "let", tuple(axes), ty.batch, let)

    def assign(self, assign: ast.Assign) -> None:
        target = assign.target
        symbol = self.symbols.get(target.name)
        if symbol is not None and symbol.kind == "scalar":
            scalars.assign(self, assign)
            return
        if symbol is None or symbol.kind not in ("neuron", "synapse"):
            what = symbol.describe() if symbol else (f"`{target.name}`, a let" if target.name in self.lets else None)
            if what is None:
                self.error(target.span, f"undeclared name `{target.name}`", self.suggest(target.name),
                           "undeclared")
            else:
                self.error(target.span, f"cannot assign to {what}", "equations write neurons and synapses; "
                           "the genome is fixed during the inner loop", "bad-target")
            self.expr(assign.value)
            return
        names = self.index_names(target.indices, f"`{target.name}`")
        self.narrow(assign.restrictions, names)
        self.indices(target, symbol.axes)
        self.state_ranges(assign.restrictions, names)
        permissions.check(self, assign, symbol)
        ty = self.expr(assign.value)
        self.check_free(ty, names, f"`{target.name}`")
        if symbol.kind == "synapse" and ty.batch:
            self.error(assign.value.span, f"the right-hand side varies over the batch, but synapse `{target.name}` "
                       "does not", "reduce over the batch with `sum(batch, ...)` or `mean(batch, ...)`",
                       "unreduced-batch")
        if symbol.kind == "neuron" and symbol.decl.initial is not None and ty.batch:
            self.error(assign.value.span, f"the right-hand side varies over the batch, but `{target.name}` is "
                       "persistent: one value per neuron, shared by the batch",
                       "reduce over the batch, as in `mean(batch) a[j, 0]^2`", "persistent-batch")


    def index_names(self, indices, owner: str) -> set[str]:
        names: set[str] = set()
        for index in indices:
            if isinstance(index, ast.Name):
                if index.id in names:
                    self.error(index.span, f"index `{index.id}` appears twice in {owner}",
                               "each index of a left-hand side must be distinct", "repeated-index")
                names.add(index.id)
        return names

    def narrow(self, restrictions, names: set[str]) -> None:
        for r in restrictions:
            if r.index not in names:
                self.error(r.span, f"`for {r.index} ...` restricts an index the left-hand side does not use",
                           None, "restriction-unused")
            elif isinstance(r, ast.LayerRange):
                layer = self.layers.get(r.index)
                if layer is None:
                    self.error(r.span, f"`{r.index}` is a state index; restrict it with a range",
                               f"write `for {r.index} in 1..k`", "bad-restriction")
                elif r.layer_set.name == layer.base and layer.bias and not r.layer_set.bias:
                    self.layers[r.index] = LayerIndex(layer.base, False, layer.within)
                elif r.layer_set.name in NARROWINGS.get(layer.base, ()) and not (r.layer_set.bias and not layer.bias):
                    self.layers[r.index] = LayerIndex(layer.base, layer.bias and r.layer_set.bias, r.layer_set.name)
                else:
                    options = [f"`{s}`" for s in NARROWINGS.get(layer.base, ())] + ([f"`{layer.base}`"]
                                                                                  if layer.bias else [])
                    self.error(r.layer_set.span, f"`{r.index}` ranges over `{layer}` and cannot be narrowed to "
                               f"`{r.layer_set}`", ("it can be narrowed to " + " or ".join(options)) if options
                               else None, "bad-restriction")

    def state_ranges(self, restrictions, names: set[str]) -> None:
        for r in restrictions:
            if not isinstance(r, ast.StateRange) or r.index not in names:
                continue
            if r.index in self.layers:
                self.error(r.span, f"`{r.index}` is a layer index; restrict it with a layer set",
                           f"write `for {r.index} in hidden`", "bad-restriction")
                continue
            low, high = (resolve_dim(b, self.symbols.dims) for b in (r.low, r.high))
            extent = self.states.get(r.index)
            for bound, value in ((r.low, low), (r.high, high)):
                if value is None and isinstance(bound, ast.Name):  # a number always resolves
                    self.error(bound.span, f"unknown dim `{bound.id}`", suggest(bound.id, self.symbols.dims),
                               "unknown-dim")
            if low is None or high is None or extent is None:
                continue
            if not 0 <= low <= high <= extent:
                self.error(r.span, f"range {low}..{high} is not within the {extent} states of `{r.index}`",
                           f"a range lo..hi is half-open and needs 0 <= lo <= hi <= {extent}; an empty range "
                           "(lo = hi) skips the equation", "bad-range")

    def check_free(self, ty: Ty, names: set[str], owner: str) -> None:
        for index, span in ty.free.items():
            if index not in names:
                self.error(span, f"index `{index}` is free on the right but does not index {owner}",
                           f"sum over it, as in `sum({index}) ...`, or add it to the left-hand side",
                           "free-index")

    # ---- expressions -----------------------------------------------------------------------------------------

    def expr(self, e: ast.Expr) -> Ty:
        if isinstance(e, ast.Number):
            return SCALAR
        if isinstance(e, ast.Ref):
            return self.ref(e)
        if isinstance(e, ast.Call):
            return self.call(e)
        if isinstance(e, ast.Neg):
            return self.expr(e.operand)
        if isinstance(e, ast.Reduce):
            return self.reduce(e)
        if isinstance(e, ast.Compare):
            return comparisons.compare(self, e)
        return self.expr(e.left).join(self.expr(e.right))

    def suggest(self, name: str) -> str | None:
        return suggest(name, list(self.symbols.table) + list(self.lets))

    def ref(self, ref: ast.Ref) -> Ty:
        symbol = self.lets.get(ref.name) or self.symbols.get(ref.name)
        if symbol is None:
            if ref.name in self.layers or ref.name in self.states:
                self.error(ref.span, f"`{ref.name}` is an index, not a value", None, "index-as-value")
            elif ref.name in INIT_NAMES or ref.name in DISTRIBUTIONS:
                hint = "in an equation, `size(i)` counts the neurons of index `i`" if ref.name in INIT_NAMES else None
                self.error(ref.span, f"`{ref.name}` can only be used in an initialiser", hint, "init-only")
            else:
                self.error(ref.span, f"undeclared name `{ref.name}`", self.suggest(ref.name), "undeclared")
            return SCALAR
        if symbol.kind == "activation":
            self.error(ref.span, f"activation `{ref.name}` is a function", f"call it: `{ref.name}(...)`",
                       "function-as-value")
            return SCALAR
        if symbol.kind == "dim" and ref.indices:
            self.error(ref.span, f"dim `{ref.name}` is a number and cannot be indexed", None, "index-count")
            return SCALAR
        self.indices(ref, symbol.axes)
        free = {i.id: i.span for i in ref.indices if isinstance(i, ast.Name)}
        return Ty(free, symbol.batch)

    def indices(self, ref: ast.Ref, axes: tuple[Axis, ...]) -> None:
        if len(ref.indices) != len(axes):
            shape = "[" + ", ".join("neuron" if isinstance(a, LayerAxis) and a.layer_set == "*" else str(a)
                                    for a in axes) + "]"
            hint = f"`{ref.name}` has shape {shape}" if axes else f"`{ref.name}` is a scalar: write `{ref.name}`"
            self.error(ref.span, f"`{ref.name}` takes {len(axes)} indices, got {len(ref.indices)}", hint,
                       "index-count")
            return
        for position, (index, axis) in enumerate(zip(ref.indices, axes), start=1):
            if isinstance(axis, LayerAxis):
                self.layer_position(ref, position, index, axis)
            else:
                self.state_position(ref, position, index, axis.extent)

    def layer_position(self, ref: ast.Ref, position: int, index: ast.Index, axis: LayerAxis) -> None:
        where = f"position {position} of `{ref.name}` ranges over neurons"
        if isinstance(index, ast.Int):
            self.error(index.span, f"{where}; it needs a neuron index, not a number",
                       "bind one in the phase header, as in `(i in pre, j in post)`", "layer-position")
            return
        layer = self.layers.get(index.id)
        if layer is None:
            if index.id in self.states:
                self.error(index.span, f"`{index.id}` is a state index, but {where}", None, "layer-position")
            else:
                self.error(index.span, f"index `{index.id}` is not bound to a layer",
                           f"bind it in the phase header (`{index.id} in pre`) or in a sum "
                           f"(`sum({index.id} in pre)`)", "unbound-index")
            return
        self.index_types[index.span] = layer
        if axis.layer_set == "*":
            if layer.bias and self.symbols.bias is None:
                self.error(index.span, f"`{index.id}` includes the bias unit, but the rule declares no bias",
                           "add a line `bias 1`", "no-bias")
            return
        if ref.name in ("x", "target"):
            if layer.effective != axis.layer_set or layer.bias:
                self.error(index.span, f"`{ref.name}` is defined on the `{axis.layer_set}` layer, but "
                           f"`{index.id}` ranges over `{layer}`", None, "layer-mismatch")
            return
        if (hint := layer_mismatch(self.symbols.get(ref.name), index.id, layer, axis)) is not None:
            self.error(index.span, f"`{index.id}` ranges over `{layer}`, but position {position} of `{ref.name}` "
                       f"ranges over `{axis}`", hint, "layer-mismatch")

    def state_position(self, ref: ast.Ref, position: int, index: ast.Index, extent: int) -> None:
        if isinstance(index, ast.Int):
            if not 0 <= index.value < extent:
                self.error(index.span, f"state {index.value} is out of range: position {position} of `{ref.name}` "
                           f"has {extent} states", f"states count from 0 to {extent - 1}", "state-range")
            return
        if index.id in self.layers:
            self.error(index.span, f"`{index.id}` ranges over neurons, but position {position} of `{ref.name}` is a "
                       f"state axis of size {extent}", None, "state-position")
            return
        known = self.states.setdefault(index.id, extent)
        self.index_types[index.span] = extent
        if known != extent:
            self.error(index.span, f"index `{index.id}` ranges over {known} states elsewhere, but position "
                       f"{position} of `{ref.name}` has {extent}", "the shapes disagree", "shape-mismatch")

    def call(self, call: ast.Call) -> Ty:
        if call.function == SIZE:
            return size_calls.size_call(self, call)
        ty = SCALAR
        for arg in call.args:
            ty = ty.join(self.expr(arg))
        symbol = self.lets.get(call.function) or self.symbols.get(call.function)
        if call.function == "loss":
            return loss_calls.loss_call(self, call, ty)
        if symbol is not None and symbol.kind == "activation":
            functions = symbol.decl.functions
            if len(functions) > 1 and not call.selector:
                self.error(call.span, f"`{call.function}` has {len(functions)} functions, one per state",
                           f"select one by state: `{call.function}[c](...)`", "activation-selector")
            elif call.selector:
                if len(functions) == 1:
                    self.error(call.span, f"`{call.function}` is a single function and takes no state selector",
                               None, "activation-selector")
                elif len(call.selector) != 1:
                    self.error(call.span, "a per-state activation takes one state index", None,
                               "activation-selector")
                else:
                    probe = ast.Ref(call.function, call.selector, call.span)
                    self.state_position(probe, 1, call.selector[0], len(functions))
                    if isinstance(call.selector[0], ast.Name):
                        ty = ty.join(Ty({call.selector[0].id: call.selector[0].span}, False))
            if call.primes:
                self.error(call.span, "derivatives are taken of built-in functions, not of activations",
                           "declare the derivative: `activation dphi = tanh'`", "no-derivative")
        elif call.function in TWO_ARGUMENT_FUNCTIONS:
            if len(call.args) != 2 or call.primes or call.selector:
                self.error(call.span, f"`{call.function}` takes 2 arguments, got {len(call.args)}",
                           f"write `{call.function}(a, b)`", "arity")
            return ty
        elif call.function in STEP_DRAWS:
            self.error(call.span, f"`{call.function}` draws a fresh array, whose shape is that of a `let`",
                       f"give it a `let` of its own, as in `let xi[j] = {call.function}(...)`, and read `xi[j]`",
                       "draw-place")
            return ty
        elif call.function not in ELEMENTWISE:
            self.error(call.span, f"unknown function `{call.function}`",
                       suggest(call.function, [*ELEMENTWISE, *TWO_ARGUMENT_FUNCTIONS, SIZE,
                                               *(a.name for a in self.symbols.of_kind("activation"))]),
                       "unknown-function")
            return ty
        elif call.selector:
            self.error(call.span, f"`{call.function}` takes no state selector", None, "activation-selector")
        elif call.primes > ELEMENTWISE[call.function]:
            self.error(call.span, f"`{call.function}{chr(39) * call.primes}` is not defined", None, "no-derivative")
        if len(call.args) != 1:
            self.error(call.span, f"`{call.function}` takes 1 argument, got {len(call.args)}", None, "arity")
        return ty

    def reduce(self, reduce: ast.Reduce) -> Ty:
        saved_layers, saved_states = dict(self.layers), dict(self.states)
        names: list[ast.ReduceIndex] = []
        over_batch = False
        for index in reduce.indices:
            if index.name == BATCH and index.layer_set is None:
                over_batch = True
            elif index.layer_set is not None:
                layer_set = index.layer_set
                if index.name in self.layers:
                    self.error(index.span, f"`{index.name}` is already bound in the phase header", None,
                               "shadowed-index")
                elif layer_set.name not in LAYER_SETS:
                    self.error(layer_set.span, f"unknown layer set `{layer_set.name}`",
                               suggest(layer_set.name, LAYER_SETS), "unknown-layer-set")
                else:
                    self.errors += outside_phase(self.phase, index)
                    self.layers[index.name] = LayerIndex(layer_set.name, layer_set.bias)
                names.append(index)
            else:
                self.states.pop(index.name, None)
                names.append(index)
        ids = [i.name for i in reduce.indices]
        for i, index in enumerate(reduce.indices):
            if index.name in ids[:i]:
                self.error(index.span, f"`{index.name}` is listed twice", None, "repeated-index")
        body = self.expr(reduce.body)
        reduced = {i.name for i in names}
        states = {k: v for k, v in self.states.items() if k not in reduced}
        states.update({k: saved_states[k] for k in reduced if k in saved_states})
        self.layers, self.states = saved_layers, states
        verb = reduce.reducer.value
        for index in names:
            if index.name not in body.free:
                self.error(index.span, f"`{verb}` over `{index.name}`, but `{index.name}` does not appear in what "
                           "follows it", "a reduction extends over the product to its right; use parentheses to "
                           "include more", "reduce-unused")
        if over_batch and not body.batch:
            self.error(reduce.span, f"`{verb}` over the batch, but nothing after it varies per example", None,
                       "reduce-unused")
        if reduce.reducer.keeps_axes:
            return body
        free = {k: v for k, v in body.free.items() if k not in reduced}
        return Ty(free, body.batch and not over_batch)


def type_phases(rule: ast.Rule, symbols: Symbols) -> tuple[tuple[PhaseTypes, ...], list[Diagnostic]]:
    """Types every equation, one PhaseTypes per phase of the rule, in order; the errors are what is ill typed, as
    `a[j, c] := w[i, j, c] * a[i, c]`, which leaves `i` free."""
    types, errors = [], []
    for phase in rule.phases:
        typer = PhaseTyper(phase, symbols, rule.losses[0].name if rule.losses else None)
        for statement in phase.body:
            typer.statement(statement)
        types.append(PhaseTypes(MappingProxyType(dict(typer.lets)), MappingProxyType(typer.index_types)))
        errors += typer.errors
    return tuple(types), errors
