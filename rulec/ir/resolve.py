"""Resolves a checked rule into the IR: names to kinds, indices to positions, restrictions to ranges."""

from __future__ import annotations

from rulec.check import CheckedRule
from rulec.check.symbols import LayerAxis, StateAxis
from rulec.ir import nodes as ir
from rulec.syntax import ast

Env = dict  # index name -> (role, bias)


def literal_value(literal: ast.Literal):
    if isinstance(literal, ast.Number):
        return literal.value
    return tuple(literal_value(row) for row in literal.rows)


class Resolver:
    def __init__(self, checked: CheckedRule):
        self.symbols = checked.symbols
        self.loss = checked.rule.losses[0].name if checked.rule.losses else None
        self.lets: dict[str, tuple[ir.Position, ...]] = {}

    # ---- positions -------------------------------------------------------------------------------------------

    def position(self, index: ast.Index, axis, env: Env) -> ir.Position:
        if isinstance(axis, StateAxis):
            return ir.StateAt(index.value) if isinstance(index, ast.Int) else ir.State(index.id, axis.extent)
        role, bias = env[index.id]
        axis_bias = bias if axis.layer_set == "*" else axis.bias
        return ir.Layer(index.id, role, bias, axis_bias)

    def positions(self, ref: ast.Ref, axes, env: Env) -> tuple[ir.Position, ...]:
        return tuple(self.position(i, a, env) for i, a in zip(ref.indices, axes))

    # ---- expressions -----------------------------------------------------------------------------------------

    def expr(self, e: ast.Expr, env: Env) -> ir.Expr:
        if isinstance(e, ast.Number):
            return ir.Const(e.value, e.span)
        if isinstance(e, ast.Neg):
            return ir.Neg(self.expr(e.operand, env), e.span)
        if isinstance(e, ast.Binary):
            return ir.Arith(e.op, self.expr(e.left, env), self.expr(e.right, env), e.span)
        if isinstance(e, ast.Ref):
            return self.ref(e, env)
        if isinstance(e, ast.Call):
            return self.call(e, env)
        inner = dict(env)
        fresh = []
        for index in e.indices:
            if index.layer_set is not None:
                inner[index.name] = (index.layer_set.name, index.layer_set.bias)
                fresh.append((index.name, index.layer_set.name, index.layer_set.bias))
        axes = tuple(i.name for i in e.indices)
        return ir.Reduce(e.reducer, axes, tuple(fresh), self.expr(e.body, inner), e.span)

    def ref(self, ref: ast.Ref, env: Env) -> ir.Expr:
        if ref.name in self.lets:
            positions = self.lets[ref.name]
            resolved = tuple(
                ir.Layer(i.id, env[i.id][0], env[i.id][1], p.bias) if isinstance(p, ir.Layer)
                else ir.State(i.id, p.extent) if isinstance(i, ast.Name) else ir.StateAt(i.value)
                for i, p in zip(ref.indices, positions))
            return ir.Load("let", ref.name, resolved, self.let_batch[ref.name], ref.span)
        symbol = self.symbols.get(ref.name)
        if symbol.kind == "dim":
            return ir.Const(float(self.symbols.dims[ref.name]), ref.span)
        kind = {"x": "input", "target": "target"}.get(ref.name, symbol.kind)
        return ir.Load(kind, ref.name, self.positions(ref, symbol.axes, env), symbol.batch, ref.span)

    def call(self, call: ast.Call, env: Env) -> ir.Expr:
        if call.function == "loss":
            prediction, target = (self.expr(a, env) for a in call.args)
            return ir.Loss(self.loss, call.primes, prediction, target, call.span)
        arg = self.expr(call.args[0], env)
        symbol = self.symbols.get(call.function)
        if symbol is not None and symbol.kind == "activation":
            functions = tuple((f.name, f.primes) for f in symbol.decl.functions)
            if len(functions) == 1:
                return ir.Func(functions[0][0], functions[0][1], arg, call.span)
            selector = self.position(call.selector[0], StateAxis(len(functions)), env)
            return ir.PerState(functions, selector, arg, call.span)
        return ir.Func(call.function, call.primes, arg, call.span)

    # ---- statements ------------------------------------------------------------------------------------------

    def phase(self, phase: ast.Phase) -> ir.Phase:
        env = {b.index: (b.layer_set.name, b.layer_set.bias) for b in phase.bindings}
        self.lets, self.let_batch = {}, {}
        statements = tuple(self.statement(s, env) for s in phase.body)
        scheme = ir.scheme_of({b.layer_set.name for b in phase.bindings})
        return ir.Phase(phase.kind, scheme, statements, phase.span)

    def statement(self, statement: ast.Statement, env: Env) -> ir.Statement:
        if isinstance(statement, ast.Let):
            value = self.expr(statement.value, env)
            extents = state_extents(value)
            positions = tuple(ir.Layer(i.id, *env[i.id], env[i.id][1]) if i.id in env
                              else ir.State(i.id, extents[i.id]) for i in statement.indices)
            self.lets[statement.name] = positions
            self.let_batch[statement.name] = expr_has_batch(value)
            return ir.Let(statement.name, positions, value, statement.span)
        env = dict(env)
        when, ranges = [], []
        for r in statement.restrictions:
            if isinstance(r, ast.LayerRange):
                role, bias = env[r.index]
                if r.layer_set.name == role:
                    env[r.index] = (role, False)
                else:
                    env[r.index] = (role, bias and r.layer_set.bias)
                    when.append((role, r.layer_set.name))
            else:
                low, high = (b.value if isinstance(b, ast.Int) else self.symbols.dims[b.id] for b in (r.low, r.high))
                ranges.append((r.index, low, high))
        symbol = self.symbols.get(statement.target.name)
        positions = self.positions(statement.target, symbol.axes, env)
        return ir.Write(symbol.kind, symbol.name, positions, tuple(ranges), tuple(when),
                        self.expr(statement.value, env), statement.span)


def state_extents(e: ir.Expr) -> dict[str, int]:
    """The extent of every state index used in an expression."""
    found: dict[str, int] = {}
    for sub in walk(e):
        if isinstance(sub, ir.Load):
            found.update({p.index: p.extent for p in sub.positions if isinstance(p, ir.State)})
        elif isinstance(sub, ir.PerState) and isinstance(sub.selector, ir.State):
            found[sub.selector.index] = sub.selector.extent
    return found


def expr_has_batch(e: ir.Expr) -> bool:
    if isinstance(e, ir.Load):
        return e.batch
    if isinstance(e, ir.Reduce):
        return expr_has_batch(e.body) and ("batch" not in e.axes or e.kind is ast.Reducer.NORMALIZE)
    return any(expr_has_batch(c) for c in children(e))


def children(e: ir.Expr) -> tuple[ir.Expr, ...]:
    if isinstance(e, ir.Arith):
        return (e.left, e.right)
    if isinstance(e, (ir.Func, ir.PerState)):
        return (e.arg,)
    if isinstance(e, ir.Loss):
        return (e.prediction, e.target)
    if isinstance(e, ir.Neg):
        return (e.arg,)
    if isinstance(e, ir.Reduce):
        return (e.body,)
    return ()


def walk(e: ir.Expr):
    yield e
    for child in children(e):
        yield from walk(child)


def resolve(checked: CheckedRule) -> ir.Program:
    """Turns a checked rule into the IR program that interpreters run."""
    rule, symbols = checked.rule, checked.symbols
    resolver = Resolver(checked)
    genome = []
    for entry in rule.genome:
        axes = symbols.get(entry.name).axes
        layers = tuple((a.layer_set, a.bias) for a in axes if isinstance(a, LayerAxis))
        genome.append(ir.GenomeDecl(entry.name, tuple(a.extent for a in axes if isinstance(a, StateAxis)),
                                    layers or None, entry.sampled, checked.initialisers[entry.name], entry.span))
    synapses = tuple(
        ir.SynapseDecl(s.name, ir.scheme_of({s.source.name, s.target.name}), (s.source.name, s.source.bias),
                       (s.target.name, s.target.bias), tuple(a.extent for a in symbols.get(s.name).axes[2:]),
                       s.fixed, checked.initialisers.get(s.name), s.span)
        for s in rule.synapses)
    neurons = tuple(ir.NeuronDecl(n.name, symbols.get(n.name).axes[1].extent if len(symbols.get(n.name).axes) > 1
                                  else None) for n in rule.neurons)
    presets = {p.name: {e.name: literal_value(e.value) for e in p.entries} for p in rule.presets}
    default = next((p.name for p in rule.presets if p.is_default), None)
    phases = tuple(resolver.phase(p) for p in rule.phases)
    return ir.Program(rule.name, dict(symbols.dims), tuple(genome), presets, default, neurons, synapses,
                      symbols.bias, phases, rule)
