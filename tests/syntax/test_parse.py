"""The grammar and the parser: conflict-free, span-carrying, and printable back to text."""

from __future__ import annotations

import dataclasses

import pytest

from rulec.diagnostics import RuleError, Span
from rulec.syntax import ast, parse
from rulec.syntax.parse import parser
from rulec.syntax.printer import expr, print_rule
from tests.conftest import STDLIB


def strip_spans(value):
    """A node as nested tuples without spans, so that two parses of different layouts compare equal."""
    if dataclasses.is_dataclass(value) and not isinstance(value, Span):
        return (type(value).__name__,) + tuple(strip_spans(getattr(value, f.name)) for f in dataclasses.fields(value)
                                               if f.name != "span")
    if isinstance(value, tuple):
        return tuple(strip_spans(v) for v in value)
    return value


def children(node):
    """The nodes directly below `node`, in field order."""
    for f in dataclasses.fields(node):
        value = getattr(node, f.name)
        for child in value if isinstance(value, tuple) else (value,):
            if dataclasses.is_dataclass(child) and not isinstance(child, Span):
                yield child


def all_nodes(node):
    yield node
    for child in children(node):
        yield from all_nodes(child)


def covered(text: str, span: Span) -> str:
    """The source text a span covers (columns count characters from 1, the end is exclusive)."""
    lines = text.split("\n")
    if span.line == span.end_line:
        return lines[span.line - 1][span.column - 1: span.end_column - 1]
    return "\n".join([lines[span.line - 1][span.column - 1:], *lines[span.line: span.end_line - 1],
                      lines[span.end_line - 1][: span.end_column - 1]])


def test_grammar_is_conflict_free_under_strict_mode():
    parser(strict=True)  # raises on shift/reduce conflicts and terminal collisions


def test_every_stdlib_rule_parses(stdlib_rule):
    rule = parse(stdlib_rule.read_text(), str(stdlib_rule))
    assert rule.name == stdlib_rule.stem
    assert rule.doc


def test_every_name_and_number_spans_exactly_its_own_text(stdlib_rule):
    text = stdlib_rule.read_text()
    leaves = [node for node in all_nodes(parse(text, str(stdlib_rule))) if isinstance(node, (ast.Name, ast.Int))]
    assert leaves
    for node in leaves:
        assert covered(text, node.span) == str(node.id if isinstance(node, ast.Name) else node.value), node


# Named nodes that start with a keyword (`dim k = 4`, `let z[j] = ...`), then their name.
KEYWORD_FIRST = (ast.Rule, ast.Let, ast.DimDecl, ast.NeuronDecl, ast.ScalarDecl, ast.SynapseDecl, ast.ActivationDecl,
                 ast.LossDecl, ast.Preset)


def test_every_named_node_starts_at_its_name_or_its_keyword(stdlib_rule):
    text = stdlib_rule.read_text()
    named = [node for node in all_nodes(parse(text, str(stdlib_rule)))
             if isinstance(getattr(node, "function", getattr(node, "name", None)), str)]
    for node in named:
        name = getattr(node, "function", getattr(node, "name", None))
        words = covered(text, node.span).replace("[", " ").split()
        if isinstance(node, KEYWORD_FIRST):
            assert name in words[1:3], node
        else:
            assert words[0].startswith(name), node


def test_every_node_lies_inside_the_span_of_its_parent(stdlib_rule):
    """The rule's own span is its header line; below it, spans nest."""
    for declaration in children(parse(stdlib_rule.read_text(), str(stdlib_rule))):
        for node in all_nodes(declaration):
            for child in children(node):
                assert (node.span.line, node.span.column) <= (child.span.line, child.span.column), child
                assert (child.span.end_line, child.span.end_column) <= (node.span.end_line, node.span.end_column), child


def test_nodes_are_frozen():
    rule = parse("rule r\ndim k = 2\n")
    with pytest.raises(dataclasses.FrozenInstanceError):
        rule.name = "other"


@pytest.mark.parametrize("path", STDLIB, ids=lambda p: p.stem)
def test_printing_then_parsing_gives_the_same_tree(path):
    rule = parse(path.read_text(), str(path))
    assert strip_spans(parse(print_rule(rule))) == strip_spans(rule)


@pytest.mark.parametrize("text", [
    "a - b - c", "a - (b - c)", "a / b / c", "a / (b * c)", "-a ^ 2", "(-a) ^ 2", "a ^ b ^ c", "(a ^ b) ^ c",
    "a * sum(i) b * c", "(sum(i) b) * c", "sum(i) (b + c)", "a * -b", "-(a + b)", "x ^ -1", "-sum(i) b",
    "a / sum(r in pre+bias) w[r, j] ^ 2", "sum(i) sum(d) a[i, d]", "f(a, b) + phi[c](z)", "tanh''(z)",
])
def test_printer_keeps_the_meaning_of_expressions(text):
    source = f"rule r\nforward (i in pre, j in post)\n  a[j] := {text}\n"
    value = parse(source).phases[0].body[0].value
    reparsed = parse(f"rule r\nforward (i in pre, j in post)\n  a[j] := {expr(value)}\n").phases[0].body[0].value
    assert strip_spans(reparsed) == strip_spans(value)


def test_a_reduction_extends_over_the_product_to_its_right():
    value = parse("rule r\nforward (i in pre, j in post)\n  a[j] := e * sum(i) w[i, j] * a[i] + b\n"
                  ).phases[0].body[0].value
    assert isinstance(value, ast.Binary) and value.op is ast.BinOp.ADD
    product = value.left
    assert product.op is ast.BinOp.MUL and isinstance(product.right, ast.Reduce)
    assert isinstance(product.right.body, ast.Binary) and product.right.body.op is ast.BinOp.MUL


def test_lines_continue_inside_brackets_and_before_operators_and_for():
    text = ("rule r\nforward (i in pre, j in post)\n  a[j, c] := f(1,\n     2)\n    + sum(i) w[i, j]\n"
            "    # a comment between continuation lines\n    * a[i, c]\n    for c in 1..k\n")
    statement = parse(text).phases[0].body[0]
    assert len(parse(text).phases[0].body) == 1
    assert statement.restrictions[0].index == "c"


def test_preset_matrices_may_wrap_lines():
    rule = parse("rule r\npreset p\n  nu = [[1, 1],\n        [0, 0]]\n")
    matrix = rule.presets[0].entries[0].value
    assert [[cell.value for cell in row.rows] for row in matrix.rows] == [[1, 1], [0, 0]]


def start_and_end(node) -> tuple[int, int, int, int]:
    return node.span.line, node.span.column, node.span.end_line, node.span.end_column


def test_spans_point_at_the_node():
    rule = parse("rule r\ngenome\n  lr = 0.1\n  nu[k, k] ~ normal(0, 1)\n"
                 "forward (i in pre, j in post)\n  a[j] := tanh(sum(i) w[i, j] *\n      a[i])\n")
    nu = rule.genome[1]
    assert (nu.span.line, nu.span.column) == (4, 3)
    assert (nu.shape[1].span.line, nu.shape[1].span.column) == (4, 9)
    (forward,) = rule.phases
    assert start_and_end(forward.bindings[1]) == (5, 20, 5, 29)  # `j in post`
    (write,) = forward.body
    assert start_and_end(write.target) == (6, 3, 6, 7)  # `a[j]`
    (reduction,) = write.value.args
    assert start_and_end(reduction) == (6, 16, 7, 11)  # `sum(i) w[i, j] *` to `a[i]`, over the line break
    assert start_and_end(reduction.body.right) == (7, 7, 7, 11)


@pytest.mark.parametrize("text, message, location", [
    ("rule r\ndim k = 2 3\n", "unexpected `3`", (2, 11)),
    ("rule r\ngenome\n  f = \n", "unexpected end of the line", (3, 7)),
    ("rule\n", "unexpected end of the line", (1, 5)),
    ('rule r\n  "unterminated\n', "unexpected character `\"`", (2, 3)),
])
def test_syntax_errors_are_located(text, message, location):
    with pytest.raises(RuleError) as caught:
        parse(text, "t.rule")
    assert caught.value.message == message
    assert (caught.value.span.line, caught.value.span.column) == location


OPEN_LOOP = """rule r
input (i in input)
  a[i] := x[i]
repeat 2
  forward (i in pre+bias, j in post)
    a[j] := a[i]
update (i in pre+bias, j in post)
  w[i, j] := w[i, j]
"""


def test_a_loop_left_open_is_reported_at_its_repeat():
    with pytest.raises(RuleError) as caught:
        parse(OPEN_LOOP, "open.rule")
    [error] = caught.value.diagnostics
    assert (error.code, error.message, error.span.line, error.span.column, error.span.end_column) == (
        "unclosed", "this `repeat` is never closed", 4, 1, 7)


def test_a_file_that_ends_too_early_says_so_in_english():
    with pytest.raises(RuleError) as caught:
        parse("rule r\ninput (i in input)\n  a[i] := (x[i]\n", "short.rule")
    assert "unexpected the end" not in caught.value.diagnostics[0].message
    with pytest.raises(RuleError) as caught:
        parse("rule r\ngenome\n  lr =", "short.rule")
    assert caught.value.diagnostics[0].message == "unexpected end of the line"
