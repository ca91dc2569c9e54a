"""Resolves a checked rule into the IR: names to kinds, indices to positions, restrictions to ranges.

The types come from the checker: declared names from its symbol table; each `let`, and the layer or extent of
every index where it is used, from the phase's PhaseTypes.
"""

from __future__ import annotations

from rulec.check import CheckedRule
from rulec.check.declarations import literal_value
from rulec.check.draws import is_draw
from rulec.check.indices import LayerIndex, PhaseTypes
from rulec.check.loops import loop_count
from rulec.check.symbols import BATCH, STEP_COUNTER, LayerAxis, StateAxis
from rulec.functions import SIZE, TWO_ARGUMENT_FUNCTIONS
from rulec.ir import nodes as ir
from rulec.syntax import ast

BUILTIN_SOURCES = {"x": ir.Source.INPUT, "target": ir.Source.TARGET, STEP_COUNTER: ir.Source.STEP}


class Resolver:
    def __init__(self, checked: CheckedRule):
        self.symbols = checked.symbols
        self.loss = checked.rule.losses[0].name if checked.rule.losses else None
        self.types = PhaseTypes({}, {})  # the phase being resolved, as the checker typed it
        self.draw_sites = 0  # draws numbered in program order: the `site` of ir.Draw

    # ---- positions -------------------------------------------------------------------------------------------

    def position(self, index: ast.Index, axis) -> ir.Position:
        if isinstance(index, ast.Int):
            return ir.StateAt(index.value)
        ty = self.types.indices[index.span]
        if not isinstance(ty, LayerIndex):
            return ir.State(index.id, ty)
        axis_bias = ty.bias if axis.layer_set == "*" else axis.bias
        return ir.Layer(index.id, ir.Role(ty.base), ty.bias, axis_bias)

    def positions(self, indices: tuple[ast.Index, ...], axes) -> tuple[ir.Position, ...]:
        return tuple(self.position(i, a) for i, a in zip(indices, axes))

    # ---- expressions -----------------------------------------------------------------------------------------

    def expr(self, e: ast.Expr) -> ir.Expr:
        if isinstance(e, ast.Number):
            return ir.Const(e.value, e.span)
        if isinstance(e, ast.Neg):
            return ir.Neg(self.expr(e.operand), e.span)
        if isinstance(e, ast.Binary):
            return ir.Arith(e.op, self.expr(e.left), self.expr(e.right), e.span)
        if isinstance(e, ast.Ref):
            return self.ref(e)
        if isinstance(e, ast.Call):
            return self.call(e)
        if isinstance(e, ast.Compare):
            return self.compare(e)
        fresh = tuple(ir.Binding(i.name, ir.Role(i.layer_set.name), i.layer_set.bias) for i in e.indices
                      if i.layer_set is not None)
        axes = tuple(i.name for i in e.indices)
        return ir.Reduce(e.reducer, axes, fresh, self.expr(e.body), e.span)

    def ref(self, ref: ast.Ref) -> ir.Expr:
        if ref.name in self.types.lets:
            let = self.types.lets[ref.name]
            return ir.Load(ir.Source.LET, ref.name, self.positions(ref.indices, let.axes), let.batch, ref.span)
        symbol = self.symbols.table[ref.name]
        if symbol.kind == "dim":
            return ir.Const(float(self.symbols.dims[ref.name]), ref.span)
        kind = BUILTIN_SOURCES.get(ref.name) or ir.Source(symbol.kind)
        return ir.Load(kind, ref.name, self.positions(ref.indices, symbol.axes), symbol.batch, ref.span)

    def compare(self, compare: ast.Compare) -> ir.Expr:
        """Between two neuron indices (as the checker typed them) a mask over their positions, else a comparison of
        values."""
        left, right = self.neuron_index(compare.left), self.neuron_index(compare.right)
        if left is not None and right is not None:
            return ir.IndexCompare(compare.op, left, right, compare.span)
        return ir.Pairwise(compare.op, self.expr(compare.left), self.expr(compare.right), compare.span)

    def neuron_index(self, e: ast.Expr) -> ir.Layer | None:
        """`e` as a neuron index, when the checker typed it as one (a bare name bound to a layer set)."""
        if not isinstance(e, ast.Ref) or e.indices:
            return None
        ty = self.types.indices.get(e.span)
        return ir.Layer(e.name, ir.Role(ty.base), ty.bias, ty.bias) if isinstance(ty, LayerIndex) else None

    def call(self, call: ast.Call) -> ir.Expr:
        if call.function == SIZE:
            return self.size(call)
        if call.function in TWO_ARGUMENT_FUNCTIONS:
            left, right = (self.expr(a) for a in call.args)
            return ir.Pairwise(call.function, left, right, call.span)
        if call.function == "loss":
            prediction, target = (self.expr(a) for a in call.args)
            assert self.loss is not None, call  # the checker allows `loss(...)` only where the rule declares one
            return ir.Loss(self.loss, call.primes, prediction, target, call.span)
        arg = self.expr(call.args[0])
        symbol = self.symbols.get(call.function)
        if symbol is not None and symbol.kind == "activation":
            functions = tuple((f.name, f.primes) for f in symbol.decl.functions)
            if len(functions) == 1:
                return ir.Func(functions[0][0], functions[0][1], arg, call.span)
            selector = self.position(call.selector[0], StateAxis(len(functions)))
            return ir.PerState(functions, selector, arg, call.span)
        return ir.Func(call.function, call.primes, arg, call.span)

    def size(self, call: ast.Call) -> ir.Size:
        """`size(i)` of a neuron index as the checker typed it, or `size(batch)`."""
        (index,) = call.args
        assert isinstance(index, ast.Ref), index  # the checker allows only an index
        if index.name == BATCH:
            return ir.Size(None, call.span)
        ty = self.types.indices[index.span]
        assert isinstance(ty, LayerIndex), ty  # the checker allows only a neuron index
        return ir.Size(ir.Layer(index.name, ir.Role(ty.base), ty.bias, ty.bias), call.span)

    def draw(self, call: ast.Call, positions: tuple[ir.Position, ...]) -> ir.Draw:
        site, self.draw_sites = self.draw_sites, self.draw_sites + 1
        args = tuple(self.expr(a) for a in call.args)
        return ir.Draw(call.function, args, site, positions, call.span)

    # ---- statements ------------------------------------------------------------------------------------------

    def phase(self, phase: ast.Phase, types: PhaseTypes) -> ir.Phase:
        bindings = tuple(ir.Binding(b.index, ir.Role(b.layer_set.name), b.layer_set.bias) for b in phase.bindings)
        self.types = types
        roles = {b.index: b.role for b in bindings}
        statements = tuple(self.statement(s, roles) for s in phase.body)
        scheme = ir.scheme_of({ir.Role(b.layer_set.name) for b in phase.bindings})
        return ir.Phase(phase.kind, scheme, bindings, statements, phase.span)

    def statement(self, statement: ast.Statement, roles: dict[str, ir.Role]) -> ir.Statement:
        if isinstance(statement, ast.Let):
            positions = self.positions(statement.indices, self.types.lets[statement.name].axes)
            value = self.draw(statement.value, positions) if is_draw(statement.value) else self.expr(statement.value)
            return ir.Let(statement.name, positions, value, statement.span)
        when, ranges = [], []
        for r in statement.restrictions:
            if isinstance(r, ast.StateRange):
                low, high = (b.value if isinstance(b, ast.Int) else self.symbols.dims[b.id] for b in (r.low, r.high))
                ranges.append(ir.StateRange(r.index, low, high))
            elif r.layer_set.name != roles[r.index]:
                # `for j in output` with j bound to `post`: the write happens on the instances where it holds.
                # (Dropping `+bias` alone is in the index's type, which the checker narrowed.)
                when.append(ir.Condition(roles[r.index], ir.Role(r.layer_set.name)))
        symbol = self.symbols.table[statement.target.name]
        if symbol.kind == "scalar":
            # Once a step: in the update's instance at the output layer, the last one.
            when.append(ir.Condition(ir.Role.POST, ir.Role.OUTPUT))
        positions = self.positions(statement.target.indices, symbol.axes)
        return ir.Write(ir.Source(symbol.kind), symbol.name, positions, tuple(ranges), tuple(when),
                        self.expr(statement.value), statement.span)


def resolve(checked: CheckedRule) -> ir.Program:
    """Turns a checked rule into the IR program that interpreters run."""
    rule, symbols = checked.rule, checked.symbols
    resolver = Resolver(checked)
    genome = []
    for entry in rule.genome:
        axes = symbols.table[entry.name].axes
        layers = tuple((ir.Role(a.layer_set), a.bias) for a in axes if isinstance(a, LayerAxis))
        genome.append(ir.GenomeDecl(entry.name, tuple(a.extent for a in axes if isinstance(a, StateAxis)),
                                    layers or None, entry.sampled, checked.initialisers[entry.name], entry.span,
                                    (entry.bounds[0].value, entry.bounds[1].value) if entry.bounds else None))
    synapses = tuple(
        ir.SynapseDecl(s.name, ir.synapse_scheme(source, target), (source, s.source.bias), (target, s.target.bias),
                       tuple(a.extent for a in symbols.table[s.name].axes[2:] if isinstance(a, StateAxis)),
                       s.fixed, checked.initialisers.get(s.name), s.span)
        for s in rule.synapses
        for source, target in [(ir.Role(s.source.name), ir.Role(s.target.name))])
    neurons = tuple(
        ir.NeuronDecl(n.name, next((a.extent for a in symbols.table[n.name].axes[1:] if isinstance(a, StateAxis)),
                                   None), None if n.initial is None else n.initial.value)
        for n in rule.neurons)
    presets = {p.name: {e.name: literal_value(e.value) for e in p.entries} for p in rule.presets}
    default = next((p.name for p in rule.presets if p.is_default), None)
    phases = tuple(resolver.phase(p, types) for p, types in zip(rule.phases, checked.phase_types))
    loops = tuple(ir.Loop(loop_count(loop, symbols.dims), tuple(p.kind for p in loop.phases), loop.span)
                  for loop in rule.loops)
    scalars = tuple(ir.ScalarDecl(s.name, s.initial.value) for s in rule.scalars)
    return ir.Program(rule.name, dict(symbols.dims), tuple(genome), presets, default, neurons, synapses,
                      symbols.bias, phases, rule, loops, scalars)
