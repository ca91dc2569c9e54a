"""Prints an AST back as canonical rule text: one layout, minimal parentheses.

Printing is the inverse of parsing up to layout and comments: `parse(print_rule(r))` prints the same again.
"""

from __future__ import annotations

from rulec.syntax import ast

# Binding strength; a reduction extends over a product, so it sits between sums and products.
_ADDITIVE, _REDUCTION, _PRODUCT, _UNARY, _POWER, _ATOM = range(6)
_PRECEDENCE = {ast.BinOp.ADD: _ADDITIVE, ast.BinOp.SUB: _ADDITIVE, ast.BinOp.MUL: _PRODUCT,
               ast.BinOp.DIV: _PRODUCT, ast.BinOp.POW: _POWER}


def _number(value: float) -> str:
    return str(int(value)) if value == int(value) and abs(value) < 1e15 else repr(value)


def _index(index: ast.Index) -> str:
    return str(index.value) if isinstance(index, ast.Int) else index.id


def _indices(indices) -> str:
    return "[" + ", ".join(_index(i) for i in indices) + "]" if indices else ""


def _precedence(e: ast.Expr) -> int:
    if isinstance(e, ast.Binary):
        return _PRECEDENCE[e.op]
    if isinstance(e, ast.Reduce):
        return _REDUCTION
    if isinstance(e, ast.Neg):
        return _UNARY
    return _ATOM


def expr(e: ast.Expr) -> str:
    """Prints an expression, parenthesising only where the grammar needs it."""
    if isinstance(e, ast.Number):
        return _number(e.value)
    if isinstance(e, ast.Ref):
        return e.name + _indices(e.indices)
    if isinstance(e, ast.Call):
        return f"{e.function}{chr(39) * e.primes}{_indices(e.selector)}({', '.join(expr(a) for a in e.args)})"
    if isinstance(e, ast.Neg):
        inner = expr(e.operand)
        return "-" + (inner if _precedence(e.operand) >= _UNARY or isinstance(e.operand, ast.Reduce)
                      else f"({inner})")
    if isinstance(e, ast.Reduce):
        names = ", ".join(i.name + (f" in {i.layer_set}" if i.layer_set else "") for i in e.indices)
        body = expr(e.body)
        return f"{e.reducer.value}({names}) " + (body if _precedence(e.body) >= _REDUCTION else f"({body})")
    if isinstance(e, ast.Compare):  # always bracketed: an Iverson factor binds like an atom
        return f"[{expr(e.left)} {e.op} {expr(e.right)}]"
    mine = _PRECEDENCE[e.op]
    left, right = expr(e.left), expr(e.right)
    # A reduction on the left would swallow what follows it; powers associate to the right.
    if _precedence(e.left) < mine or isinstance(e.left, ast.Reduce) or (e.op is ast.BinOp.POW and
                                                                          _precedence(e.left) == mine):
        left = f"({left})"
    right_needs = mine if e.op is ast.BinOp.POW else mine + 1
    if _precedence(e.right) < right_needs and not (isinstance(e.right, ast.Reduce) and mine == _PRODUCT):
        right = f"({right})"
    if e.op is ast.BinOp.POW and isinstance(e.right, ast.Neg):
        right = expr(e.right)
    return f"{left} {e.op.value} {right}"


def _shape(shape) -> str:
    return "[" + ", ".join(str(d.value) if isinstance(d, ast.Int) else d.id if isinstance(d, ast.Name) else str(d)
                           for d in shape) + "]" if shape else ""


def _literal(value: ast.Literal | ast.PresetCall) -> str:
    if isinstance(value, ast.PresetCall):
        return value.name + (f"({', '.join(_literal(a) for a in value.args)})" if value.args else "")
    if isinstance(value, ast.Number):
        return _number(value.value)
    return "[" + ", ".join(_literal(row) for row in value.rows) + "]"


def _restriction(r: ast.Restriction) -> str:
    if isinstance(r, ast.LayerRange):
        return f"{r.index} in {r.layer_set}"
    return f"{r.index} in {_index(r.low)}..{_index(r.high)}"


def _statement(s: ast.Statement) -> str:
    if isinstance(s, ast.Let):
        return f"  let {s.name}{_indices(s.indices)} = {expr(s.value)}"
    text = f"  {s.target.name}{_indices(s.target.indices)} := {expr(s.value)}"
    if s.restrictions:
        text += "  for " + ", ".join(_restriction(r) for r in s.restrictions)
    return text


def _item(item: ast.Item) -> str:
    if isinstance(item, ast.DimDecl):
        return f"dim {item.name} = {item.value}"
    if isinstance(item, ast.GenomeBlock):
        return "genome\n" + "\n".join(f"  {e.name}{_shape(e.shape)} {'~' if e.sampled else '='} {expr(e.init)}"
                                      + (f" in [{_literal(e.bounds[0])}, {_literal(e.bounds[1])}]" if e.bounds else "")
                                      for e in item.entries)
    if isinstance(item, ast.Preset):
        head = f"preset {item.name}" + (" default" if item.is_default else "")
        return head + "\n" + "\n".join(f"  {e.name} = {_literal(e.value)}" for e in item.entries)
    if isinstance(item, ast.NeuronDecl):
        persistence = f" persistent = {_literal(item.initial)}" if item.initial is not None else ""
        return f"neuron {item.name}{_shape(item.shape)}{persistence}"
    if isinstance(item, ast.ScalarDecl):
        return f"persistent {item.name} = {_literal(item.initial)}"
    if isinstance(item, ast.SynapseDecl):
        text = f"synapse {item.name}{_shape(item.shape)} : {item.source} -> {item.target}"
        text += " fixed" if item.fixed else ""
        return text + (f" ~ {expr(item.init)}" if item.init is not None else "")
    if isinstance(item, ast.ActivationDecl):
        names = [str(f) for f in item.functions]
        return f"activation {item.name} = " + (names[0] if len(names) == 1 else "(" + ", ".join(names) + ")")
    if isinstance(item, ast.BiasDecl):
        return f"bias {_number(item.value)}"
    if isinstance(item, ast.LossDecl):
        return f"loss {item.name}"
    if isinstance(item, ast.Phase):
        header = ", ".join(f"{b.index} in {b.layer_set}" for b in item.bindings)
        return f"{item.kind.value} ({header})\n" + "\n".join(_statement(s) for s in item.body)
    if isinstance(item, ast.Loop):
        body = "\n\n".join(_item(inner) for inner in item.body)
        indented = "".join(f"  {line}\n" if line else "\n" for line in body.splitlines())
        return f"repeat {item.count_text}\n{indented}end"
    args = ", ".join(f"{a.name} = {expr(a.value)}" for a in item.args)
    return f"prove {item.claim}({args})" + (f" under preset {item.preset.id}" if item.preset else "")


def print_rule(rule: ast.Rule) -> str:
    """Canonical text of a rule."""
    head = f"rule {rule.name}\n" + (f'  "{rule.doc}"\n' if rule.doc else "")
    return head + "".join("\n" + _item(item) + "\n" for item in rule.items)
