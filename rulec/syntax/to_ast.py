"""Turns Lark's parse tree into the AST, keeping a span on every node.

This runs outside the parser (not as an internal transformer) so that `meta` carries positions; see the
`v_args` docstring in lark/visitors.py. It walks the tree without recursion, so a long line costs no stack.
"""

from __future__ import annotations

from lark import Token, Transformer_NonRecursive, v_args
from lark.exceptions import VisitError

from rulec.diagnostics import RuleError, Source, Span
from rulec.syntax import ast


class _Shape(tuple):
    """The declared shape of an entry, told apart from other tuples among a declaration's children."""


class _Bounds(tuple):
    """The `in [low, high]` of a genome entry, told apart from its initialiser."""


class _Connection(tuple):
    """The `source -> target` layer sets of a synapse."""


def token_span(source: Source, token: Token) -> Span:
    # Lark types a token's positions as optional, for tokens built by hand; a lexed token has all four.
    return Span(source, token.line, token.column, token.end_line, token.end_column)  # type: ignore[arg-type]


@v_args(inline=True, meta=True)
class ToAst(Transformer_NonRecursive):
    def __init__(self, source: Source):
        super().__init__()
        self.source = source

    def _span(self, meta) -> Span:
        return Span(self.source, meta.line, meta.column, meta.end_line, meta.end_column)

    # ---- file and declarations -----------------------------------------------------------------------------

    def start(self, meta, header, *rest):
        name, span = header
        doc = next((r for r in rest if type(r) is str), "")
        items = tuple(item for item in rest if type(item) is not str)
        return ast.Rule(name, doc, items, span)

    def header(self, meta, name):
        return str(name), Span(self.source, meta.line, meta.column, name.end_line, name.end_column)

    def doc(self, meta, *strings):
        return " ".join(str(s)[1:-1] for s in strings)

    def dim_decl(self, meta, name, value):
        return ast.DimDecl(str(name), self._integer(value), self._span(meta))

    def genome_block(self, meta, *entries):
        return ast.GenomeBlock(tuple(entries), self._span(meta))

    def genome_entry(self, meta, name, *rest):
        bounds = rest[-1] if isinstance(rest[-1], _Bounds) else None
        *shape, op, init = rest[:-1] if bounds else rest
        return ast.GenomeEntry(str(name), tuple(shape[0]) if shape else (), op == "~", init, self._span(meta),
                               tuple(bounds) if bounds else None)

    def bounds(self, meta, low, high):
        return _Bounds((low, high))

    def init_op(self, meta, token):
        return str(token)

    def preset_block(self, meta, name, *rest):
        is_default = bool(rest) and isinstance(rest[0], Token) and rest[0].type == "DEFAULT"
        entries = tuple(r for r in rest if isinstance(r, ast.PresetEntry))
        return ast.Preset(str(name), is_default, entries, self._span(meta))

    def preset_entry(self, meta, name, value):
        return ast.PresetEntry(str(name), value, self._span(meta))

    def preset_call(self, meta, name, *args):
        return ast.PresetCall(str(name), tuple(args), self._span(meta))

    def matrix(self, meta, *rows):
        return ast.Matrix(tuple(rows), self._span(meta))

    def signed_number(self, meta, *tokens):
        sign = -1.0 if len(tokens) == 2 else 1.0
        return ast.Number(sign * float(tokens[-1]), self._span(meta))

    def neuron_decl(self, meta, name, *rest):
        shape = next((r for r in rest if isinstance(r, _Shape)), ())
        initial = next((r for r in rest if isinstance(r, ast.Number)), None)
        return ast.NeuronDecl(str(name), tuple(shape), self._span(meta), initial)

    def scalar_decl(self, meta, name, initial):
        return ast.ScalarDecl(str(name), initial, self._span(meta))

    def persistence(self, meta, initial):
        return initial

    def synapse_decl(self, meta, name, *rest):
        shape = next((r for r in rest if isinstance(r, _Shape)), ())
        connection = next((r for r in rest if isinstance(r, _Connection)), None)
        fixed = any(isinstance(r, Token) and r.type == "FIXED" for r in rest)
        init = next((r for r in rest if not isinstance(r, (tuple, Token))), None)
        span = self._span(meta)
        if connection is None:
            connection = (ast.LayerSet("pre", False, span), ast.LayerSet("post", False, span))
        return ast.SynapseDecl(str(name), tuple(shape), connection[0], connection[1], fixed, init, span)

    def connection(self, meta, source, target):
        return _Connection((source, target))

    def activation_decl(self, meta, name, *functions):
        return ast.ActivationDecl(str(name), tuple(functions), self._span(meta))

    def function_ref(self, meta, name, *primes):
        return ast.FunctionRef(str(name), len(primes), self._span(meta))

    def bias_decl(self, meta, value):
        return ast.BiasDecl(value.value, self._span(meta))

    def loss_decl(self, meta, name):
        return ast.LossDecl(str(name), self._span(meta))

    def shape(self, meta, *dims):
        # A bare name in a shape is a dim or a layer set; the checker tells which.
        return _Shape(ast.Name(d.name, d.span) if isinstance(d, ast.LayerSet) and not d.bias else d for d in dims)

    def int_dim(self, meta, token):
        return ast.Int(self._integer(token), self._span(meta))

    def name(self, meta, token):
        return ast.Name(str(token), self._span(meta))

    def layer_set(self, meta, name, extra=None):
        if extra is not None and str(extra) != "bias":
            raise RuleError.at(token_span(self.source, extra), f"a layer set can only be extended by `+bias`, "
                               f"not `+{extra}`", hint=f"write `{name}+bias`", code="bad-layer-set")
        return ast.LayerSet(str(name), extra is not None, self._span(meta))

    # ---- phases ----------------------------------------------------------------------------------------------

    def phase(self, meta, kind, *rest):
        bindings = tuple(r for r in rest if isinstance(r, ast.Binding))
        body = tuple(r for r in rest if not isinstance(r, ast.Binding))
        return ast.Phase(kind, bindings, body, self._span(meta))

    def loop(self, meta, count, *body):
        return ast.Loop(count, tuple(body), self._span(meta))

    def phase_name(self, meta, token):
        return ast.PhaseKind(str(token))

    def binding(self, meta, index, layer_set):
        return ast.Binding(str(index), layer_set, self._span(meta))

    def let(self, meta, name, *rest):
        indices = rest[0] if len(rest) == 2 else ()
        return ast.Let(str(name), indices, rest[-1], self._span(meta))

    def assign(self, meta, name, *rest):
        # `a[j] := v`, or `baseline := v` for a persistent scalar: the index list and the for clause are tuples.
        indices = rest[0] if isinstance(rest[0], tuple) else ()
        value, *restrictions = rest[1:] if indices else rest
        restrictions = restrictions[0] if restrictions else ()
        target = ast.Ref(str(name), indices, Span(self.source, name.line, name.column, *self._end_of(indices, name)))
        return ast.Assign(target, value, restrictions, self._span(meta))

    def _end_of(self, indices, name):
        if indices:
            last = indices[-1].span
            return last.end_line, last.end_column + 1  # include the closing bracket
        return name.end_line, name.end_column

    def for_clause(self, meta, *items):
        return tuple(items)

    def state_range(self, meta, index, low, high):
        return ast.StateRange(str(index), low, high, self._span(meta))

    def layer_range(self, meta, index, layer_set):
        return ast.LayerRange(str(index), layer_set, self._span(meta))

    def prove(self, meta, claim, *rest):
        args = tuple(r for r in rest if isinstance(r, ast.ProveArg))
        preset = next((ast.Name(str(r), token_span(self.source, r)) for r in rest if isinstance(r, Token)), None)
        return ast.Prove(str(claim), args, preset, self._span(meta))

    def prove_arg(self, meta, name, value):
        return ast.ProveArg(str(name), value, self._span(meta))

    # ---- expressions -----------------------------------------------------------------------------------------

    def number(self, meta, token):
        return ast.Number(float(token), self._span(meta))

    def ref(self, meta, name, indices=()):
        return ast.Ref(str(name), indices, self._span(meta))

    def call(self, meta, name, *rest):
        primes = sum(1 for r in rest if isinstance(r, Token) and r.type == "PRIME")
        selector = next((r for r in rest if isinstance(r, tuple)), ())
        args = tuple(r for r in rest if not isinstance(r, (Token, tuple)))
        return ast.Call(str(name), primes, selector, args, self._span(meta))

    def index_list(self, meta, *indices):
        return tuple(indices)

    @staticmethod
    def _binary(op: ast.BinOp):
        def build(self, meta, left, right):
            return ast.Binary(op, left, right, self._span(meta))
        return build

    add = _binary(ast.BinOp.ADD)
    sub = _binary(ast.BinOp.SUB)
    mul = _binary(ast.BinOp.MUL)
    div = _binary(ast.BinOp.DIV)
    pow = _binary(ast.BinOp.POW)

    def neg(self, meta, operand):
        return ast.Neg(operand, self._span(meta))

    def reduction(self, meta, reducer, *rest):
        *indices, body = rest
        # `sum(k in post, k <= j) e` is `sum(k in post) [k <= j] * e`: a condition is a factor of the summand.
        conditions = [i for i in indices if isinstance(i, ast.Compare)]
        for condition in reversed(conditions):
            start = condition.span
            span = Span(self.source, start.line, start.column, body.span.end_line, body.span.end_column)
            body = ast.Binary(ast.BinOp.MUL, condition, body, span)
        return ast.Reduce(reducer, tuple(i for i in indices if not isinstance(i, ast.Compare)), body,
                          self._span(meta))

    # ---- comparisons -----------------------------------------------------------------------------------------

    def compare(self, meta, left, op, right):
        return ast.Compare(str(op), left, right, self._span(meta))

    def index_condition(self, meta, left, op, right):
        return ast.Compare(str(op), ast.Ref(str(left), (), token_span(self.source, left)), ast.Ref(
            str(right), (), token_span(self.source, right)), self._span(meta))

    def iverson(self, meta, comparison):
        return comparison

    def reducer(self, meta, token):
        return ast.Reducer(str(token))

    def reduce_index(self, meta, name, layer_set=None):
        return ast.ReduceIndex(str(name), layer_set, self._span(meta))

    def _integer(self, token: Token) -> int:
        text = str(token)
        if not text.isdigit():
            raise RuleError.at(token_span(self.source, token), f"expected a whole number here, found `{text}`",
                               hint="indices, dims and state ranges are non-negative integers", code="not-integer")
        return int(text)


def to_ast(tree, source: Source) -> ast.Rule:
    """Transforms a parse tree; a RuleError raised inside the transformer surfaces as itself."""
    try:
        return ToAst(source).transform(tree)
    except VisitError as error:  # the one place that unwraps Lark's wrapper
        if isinstance(error.orig_exc, RuleError):
            raise error.orig_exc from None
        raise
