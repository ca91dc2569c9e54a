"""LaTeX of a rule's equations, and a PNG of them rendered with matplotlib's mathtext.

    a[j, c] := relu_tanh(f * a[j, c] + eta * sum(i, d) w[i, j, c] * nu[d, c] * a[i, d])

becomes  a_{j c} \\leftarrow \\operatorname{relu\\_tanh}\\left(f a_{j c} + \\eta \\sum_{i, d} w_{i j c} \\nu_{d c} a_{i d}\\right).
Names that are Greek letters print as such; a suffix after `_` becomes a superscript (`nu_h` is \\nu^{h}).
"""

from __future__ import annotations

from rulec.check import CheckedRule
from rulec.check.loops import loop_count
from rulec.check.symbols import BATCH
from rulec.functions import SIZE
from rulec.syntax import ast

GREEK = {"alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa", "lambda", "mu",
         "nu", "xi", "pi", "rho", "sigma", "tau", "upsilon", "phi", "chi", "psi", "omega"}
_ADDITIVE, _PRODUCT, _ATOM = range(3)


def name(text: str) -> str:
    base, _, suffix = text.partition("_")
    head = f"\\{base}" if base in GREEK else (base if len(base) == 1 else f"\\mathrm{{{base}}}")
    return head + (f"^{{{suffix.replace('_', ' ')}}}" if suffix else "")


_RELATIONS = {"<": "<", "<=": "\\le", "==": "=", ">": ">", ">=": "\\ge"}


def _index(index: ast.Index) -> str:
    return str(index.value) if isinstance(index, ast.Int) else index.id


def _subscript(indices) -> str:
    return "_{" + " ".join(_index(i) for i in indices) + "}" if indices else ""


def _precedence(e: ast.Expr) -> int:
    if isinstance(e, ast.Binary) and e.op in (ast.BinOp.ADD, ast.BinOp.SUB):
        return _ADDITIVE
    if isinstance(e, (ast.Binary, ast.Reduce, ast.Neg)) and not (isinstance(e, ast.Binary) and e.op is ast.BinOp.POW):
        return _PRODUCT
    return _ATOM


def _wrap(e: ast.Expr, minimum: int) -> str:
    text = expr(e)
    return f"\\left({text}\\right)" if _precedence(e) < minimum else text


def _function(call: ast.Call) -> str:
    primes = "'" * call.primes
    if call.function == "loss":
        return f"\\ell{primes}"
    if call.selector:
        return f"{name(call.function)}_{{{' '.join(_index(i) for i in call.selector)}}}{primes}"
    label = call.function.replace("_", "\\_")
    return f"\\operatorname{{{label}}}{primes}"


def expr(e: ast.Expr) -> str:
    """LaTeX of one expression."""
    if isinstance(e, ast.Number):
        value = e.value
        return str(int(value)) if value == int(value) else repr(value)
    if isinstance(e, ast.Ref):
        return name(e.name) + _subscript(e.indices)
    if isinstance(e, ast.Call) and e.function == SIZE:  # the number of an index's neurons, as |i|
        return "\\left|" + ", ".join("b" if a.name == BATCH else name(a.name) for a in e.args) + "\\right|"
    if isinstance(e, ast.Call):
        return f"{_function(e)}\\left({', '.join(expr(a) for a in e.args)}\\right)"
    if isinstance(e, ast.Neg):
        return "-" + _wrap(e.operand, _PRODUCT)
    if isinstance(e, ast.Reduce):
        over = ", ".join(("b" if i.name == BATCH else i.name)
                         + (f" \\in \\mathrm{{{i.layer_set}}}" if i.layer_set else "") for i in e.indices)
        operator = {"sum": "\\sum", "mean": "\\operatorname*{mean}", "normalize": "\\operatorname*{norm}",
                    "max": "\\max"}.get(e.reducer.value, f"\\operatorname*{{{e.reducer.value}}}")
        return f"{operator}_{{{over}}} {_wrap(e.body, _PRODUCT)}"
    if isinstance(e, ast.Compare):  # an Iverson bracket: 1 where it holds, else 0
        return f"\\left[{expr(e.left)} {_RELATIONS[e.op]} {expr(e.right)}\\right]"
    if e.op is ast.BinOp.DIV:
        return f"\\frac{{{expr(e.left)}}}{{{expr(e.right)}}}"
    if e.op is ast.BinOp.POW:
        return f"{_wrap(e.left, _ATOM)}^{{{expr(e.right)}}}"
    if e.op is ast.BinOp.MUL:
        left = _wrap(e.left, _PRODUCT) if not isinstance(e.left, ast.Reduce) else f"\\left({expr(e.left)}\\right)"
        return f"{left} {_wrap(e.right, _PRODUCT)}"
    sign = " + " if e.op is ast.BinOp.ADD else " - "
    return expr(e.left) + sign + _wrap(e.right, _PRODUCT if e.op is ast.BinOp.SUB else _ADDITIVE)


def _restriction(r: ast.Restriction) -> str:
    if isinstance(r, ast.LayerRange):
        return f"{r.index} \\in \\mathrm{{{r.layer_set}}}"
    return f"{r.index} \\in [{_index(r.low)}, {_index(r.high)})"


def equations(checked: CheckedRule) -> list[tuple[str, list[tuple[str, str]]]]:
    """(phase header, [(equation, condition)]) for every phase, in source order; the header of a phase in a
    relaxation loop says how often it repeats."""
    result = []
    repeats = {p.kind: loop for loop in checked.rule.loops for p in loop.phases}
    for phase in checked.rule.phases:
        header = f"{phase.kind.value} ({', '.join(f'{b.index} in {b.layer_set}' for b in phase.bindings)})"
        if phase.kind in repeats:
            loop = repeats[phase.kind]
            header += f", repeated {loop_count(loop, checked.dims)} times (repeat {loop.count_text})"
        lines = []
        for statement in phase.body:
            if isinstance(statement, ast.Let):
                lines.append((f"{name(statement.name)}{_subscript(statement.indices)} = {expr(statement.value)}", ""))
            else:
                target = name(statement.target.name) + _subscript(statement.target.indices)
                condition = ", ".join(_restriction(r) for r in statement.restrictions)
                lines.append((f"{target} \\leftarrow {expr(statement.value)}", condition))
        result.append((header, lines))
    return result


def document(checked: CheckedRule) -> str:
    """The equations as a LaTeX snippet: one align* block per phase (needs amsmath)."""
    dims = ", ".join(f"{k} = {v}" for k, v in checked.dims.items())
    out = [f"% rule {checked.rule.name}" + (f" ({dims})" if dims else ""), f"% {checked.rule.doc}".rstrip()]
    for header, lines in equations(checked):
        out.append(f"% {header}")
        out.append("\\begin{align*}")
        body = [_aligned(eq, condition) for eq, condition in lines]
        out.append(" \\\\\n".join(body))
        out.append("\\end{align*}")
    return "\n".join(out) + "\n"


def _aligned(equation: str, condition: str) -> str:
    relation = " \\leftarrow " if " \\leftarrow " in equation else " = "
    left, right = equation.split(relation, 1)
    return f"  {left} &{relation.strip()} {right}" + (f" && {condition}" if condition else "")


def render_png(checked: CheckedRule, path) -> None:
    """Renders the equations to a PNG with matplotlib's mathtext (no LaTeX installation needed)."""
    from matplotlib.figure import Figure  # not pyplot: no global figure registry, and no backend to switch

    rows = [(f"rule {checked.rule.name}", "title")]
    for header, lines in equations(checked):
        rows.append((header, "header"))
        rows += [(f"${eq}$" + (f"    $({condition})$" if condition else ""), "equation") for eq, condition in lines]
    height = 0.45 * len(rows) + 0.4
    width = max(6.0, 0.085 * max(len(text) for text, _ in rows))
    figure = Figure(figsize=(min(width, 30.0), height))
    for number, (text, kind) in enumerate(rows):
        y = 1 - (number + 0.8) / (len(rows) + 0.4)
        style = {"title": dict(fontsize=14, weight="bold"), "header": dict(fontsize=11, color="#1f4e79"),
                 "equation": dict(fontsize=12)}[kind]
        figure.text(0.02 if kind != "equation" else 0.05, y, text, **style)
    from rulec.files import write_figure

    write_figure(path, figure, dpi=150, bbox_inches="tight")
