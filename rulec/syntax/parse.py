"""Parses rule text into the AST, turning every Lark error into a located RuleError."""

from __future__ import annotations

import difflib
import functools
import importlib.resources
import re
import unicodedata

from lark import Lark, Token
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from rulec.diagnostics import RuleError, Source, Span, visible
from rulec.phases import PHASES
from rulec.syntax import ast
from rulec.syntax.limits import check_nesting
from rulec.syntax.to_ast import to_ast

_OPENERS = {"LPAR", "LSQB"}
_CLOSERS = {"RPAR", "RSQB"}


class _NewlinesInBrackets:
    """Post-lexer: a newline inside (...) or [...] continues the line, so long sums and matrices can wrap."""

    always_accept = ("_NL",)

    def process(self, stream):
        depth = 0
        for token in stream:
            if token.type in _OPENERS:
                depth += 1
            elif token.type in _CLOSERS:
                depth = max(0, depth - 1)
            elif token.type == "_NL" and depth:
                continue
            yield token


def grammar_text() -> str:
    return importlib.resources.files("rulec.syntax").joinpath("rule.lark").read_text(encoding="utf-8")


@functools.cache
def parser(strict: bool = False) -> Lark:
    """The LALR parser. `strict=True` (used by the grammar test) also rejects conflicts and terminal collisions.

    Outside strict mode Lark would still run interegular's collision analysis whenever it is installed, which
    triples the start-up time for warnings the strict test already rules out; so it is switched off here.
    """
    import lark.lexer

    checks_collisions = lark.lexer.has_interegular
    lark.lexer.has_interegular = checks_collisions and strict
    try:
        return Lark(grammar_text(), parser="lalr", propagate_positions=True, postlex=_NewlinesInBrackets(),
                    maybe_placeholders=False, strict=strict)
    finally:
        lark.lexer.has_interegular = checks_collisions


# Common mistakes, each named by the smallest snippet that makes the parser fail in the same state.
_NAMED_MISTAKES = {
    ("`:=` assigns in an equation; `=` is for declarations", "write `a[j, c] := ...`"): [
        "rule r\nforward (i in pre, j in post)\n  a[j] = 1\n",
        "rule r\nforward (i in pre, j in post)\n  a[j, c] = 1\n",
    ],
    ("a file must start with `rule NAME`", "begin the file with a line such as `rule my_rule`"): [
        "dim k = 2\n", "genome\n", "neuron a\n", "forward (i in pre, j in post)\n",
        "# c\ndim k = 2\n", "# c\ngenome\n", "# c\nneuron a\n", "# c\nforward (i in pre, j in post)\n",
    ],
    ("`**` is not an operator; powers are written with `^`", "write `x ^ 2`"): [
        "rule r\nforward (i in pre, j in post)\n  a[j] := x ** 2\n",
    ],
    ("a reduction lists its indices in parentheses", "write `sum(i, d) ...`"): [
        "rule r\nforward (i in pre, j in post)\n  a[j] := sum i x\n",
        "rule r\nforward (i in pre, j in post)\n  a[j] := mean batch x\n",
    ],
    ("a reduction lists index names in parentheses, not values",
     "write `max(i) w[i, j]`; the larger or smaller of two values is `maximum(a, b)` or `minimum(a, b)`"): [
        "rule r\nforward (i in pre, j in post)\n  a[j] := max(z[j], 0)\n",
        "rule r\nforward (i in pre, j in post)\n  a[j] := max(z, 0)\n",
        "rule r\nforward (i in pre, j in post)\n  a[j] := max(0, z)\n",
    ],
    ("a phase needs a header binding its neuron indices",
     "write for example `forward (i in pre+bias, j in post)`"): [
        "rule r\nforward\n", "rule r\nbackward\n", "rule r\nupdate\n",
    ],
}

# Keywords that begin a line. A misspelling of one reads as a name, so the parser fails on the token after it.
_LINE_KEYWORDS = ("rule", "dim", "genome", "preset", "neuron", "persistent", "synapse", "activation", "bias",
                  "loss", "let", "repeat", "prove", *(spec.kind.value for spec in PHASES))
_FIRST_WORD = re.compile(r"[\t \f]*([A-Za-z_][A-Za-z0-9_]*)[\t \f]*")

_TOKEN_NAMES = {"NAME": "a name", "NUMBER": "a number", "STRING": "a string", "_NL": "the end of the line",
                "$END": "the end of the file", "PRIME": "`'`", "COMPARE": "a comparison (`<`, `<=`, `==`, ...)"}


def _describe_terminal(name: str) -> str:
    if name in _TOKEN_NAMES:
        return _TOKEN_NAMES[name]
    terminal = next((t for t in parser().terminals if t.name == name), None)
    if terminal is not None and terminal.pattern.type == "str":
        return f"`{terminal.pattern.value}`"
    return name.lower()


def _describe_token(token: Token) -> str:
    if token.type in ("_NL", "$END"):
        return _TOKEN_NAMES[token.type]
    return f"`{token}`"


def _error_span(source: Source, error: UnexpectedInput) -> Span:
    token = getattr(error, "token", None)
    if isinstance(error, UnexpectedEOF) or token is None or token.type == "$END" or token.line is None:
        lines = source.lines or ("",)
        return Span(source, len(lines), len(lines[-1]) + 1, len(lines), len(lines[-1]) + 2)
    if token.type == "_NL":
        line = token.line
        column = len(source.line(line)) + 1
        return Span(source, line, column, line, column + 1)
    return Span(source, token.line, token.column, token.line, token.column + max(1, len(token)))


def _error_signature(error: UnexpectedInput):
    """The LALR state and offending token type. Lark's own `match_examples` also compares the stack depth, so
    it would miss a mistake nested deeper than its example."""
    state = getattr(error, "state", None)
    token = getattr(error, "token", None)
    return type(error), getattr(state, "position", None), getattr(token, "type", None)


@functools.cache
def _mistake_signatures() -> dict:
    signatures: dict = {}
    for label, examples in _NAMED_MISTAKES.items():
        for example in examples:
            try:
                _parse_tree(example)
            except UnexpectedInput as error:
                signatures.setdefault(_error_signature(error), label)
    return signatures


def _match_mistake(error: UnexpectedInput):
    return _mistake_signatures().get(_error_signature(error))


def _unclosed_bracket(source: Source, span: Span) -> Span | None:
    """The last bracket still open before `span`, when that error sits on a later line: a missing `)` or `]`
    makes Lark fail only where the next statement starts."""
    stack: list[tuple[int, int]] = []
    for number, line in enumerate(source.lines[:span.line], start=1):
        code = line.split("#", 1)[0]
        for column, char in enumerate(code, start=1):
            if (number, column) >= (span.line, span.column):
                break
            if char in "([":
                stack.append((number, column))
            elif char in ")]" and stack:
                stack.pop()
    if stack and stack[-1][0] < span.line:
        opened, column = stack[-1]
        return Span(source, opened, column, opened, column + 1)
    return None


_INVISIBLE_HINTS = {"\ufeff": "save the file as UTF-8 without a byte-order mark, or delete the character"}


def _describe_invisible(char: str) -> str:
    code = f"U+{ord(char):04X}"
    if char == "\ufeff":
        return f"byte-order mark {code}"
    if unicodedata.category(char) == "Cc":
        return f"control character {code}"
    return f"invisible character {code} ({unicodedata.name(char, 'unnamed').lower()})"


def _misspelled_keyword(source: Source, span: Span) -> RuleError | None:
    """`forwrd (i in pre, j in post)`: the line's first word is close to a keyword, and the parser failed on
    that word or on the token right after it."""
    match = _FIRST_WORD.match(source.line(span.line))
    if match is None or match.group(1) in _LINE_KEYWORDS or span.column - 1 not in (match.start(1), match.end()):
        return None
    close = difflib.get_close_matches(match.group(1), _LINE_KEYWORDS, n=1, cutoff=0.75)
    if not close:
        return None
    word = Span(source, span.line, match.start(1) + 1, span.line, match.end(1) + 1)
    return RuleError.at(word, f"unknown keyword `{match.group(1)}`", hint=f"did you mean `{close[0]}`?",
                        code="unknown-keyword")


def _unclosed_loop(source: Source) -> Span | None:
    """The `repeat` of the innermost loop that no line `end` closes, if any: a file that ends inside a loop."""
    opened: list[Span] = []
    for number, line in enumerate(source.lines, 1):
        match = _FIRST_WORD.match(line)
        word = match.group(1) if match else None
        if match and word == "repeat":
            opened.append(Span(source, number, match.start(1) + 1, number, match.end(1) + 1))
        elif word == "end" and opened:
            opened.pop()
    return opened[-1] if opened else None


def _syntax_error(source: Source, error: UnexpectedInput) -> RuleError:
    if isinstance(error, UnexpectedCharacters):
        # Lark declares `pos_in_stream = None` on the base class; UnexpectedCharacters sets it to the lexer's offset.
        position: int = error.pos_in_stream  # type: ignore[assignment]
        char = source.text[position] if position < len(source.text) else "?"
        span = Span(source, error.line, error.column, error.line, error.column + 1)
        if visible(char) != char:
            return RuleError.at(span, f"unexpected {_describe_invisible(char)}",
                                hint=_INVISIBLE_HINTS.get(char, "delete it: most editors do not show it"),
                                code="invisible")
        return RuleError.at(span, f"unexpected character `{char}`",
                            hint="names are letters, digits and `_`; comments start with `#`",
                            code="syntax")
    span = _error_span(source, error)
    opener = _unclosed_bracket(source, span)
    if opener is not None:
        char = source.line(opener.line)[opener.column - 1]
        return RuleError.at(opener, f"this `{char}` is never closed",
                            f"close it with `{')' if char == '(' else ']'}` before line {span.line}",
                            code="unclosed")
    at_end = isinstance(error, UnexpectedEOF) or getattr(getattr(error, "token", None), "type", "$END") == "$END"
    loop = _unclosed_loop(source) if at_end else None
    if loop is not None:
        return RuleError.at(loop, "this `repeat` is never closed", "close the loop with a line `end` after the "
                            "last phase it repeats", code="unclosed")
    misspelled = _misspelled_keyword(source, span)
    if misspelled is not None:
        return misspelled
    named = _match_mistake(error)
    if named is not None:
        message, hint = named
        return RuleError.at(span, message, hint=hint, code="syntax")
    # `accepts` comes from replaying the parser, so it is exact; `expected` is the LALR table's wider guess.
    names = getattr(error, "accepts", None) or getattr(error, "expected", None) or ()
    expected = sorted({_describe_terminal(name) for name in names})
    found = _describe_token(error.token) if isinstance(error, UnexpectedToken) else _TOKEN_NAMES["$END"]
    message = f"unexpected {found.removeprefix('the ')}"  # "unexpected end of the file"
    hint = ("expected " + ", ".join(expected[:8]) + (", ..." if len(expected) > 8 else "")) if expected else None
    return RuleError.at(span, message, hint=hint, code="syntax")


def _parse_tree(text: str):
    return parser().parse(text if text.endswith("\n") else text + "\n")


def parse(text: str, name: str = "<string>") -> ast.Rule:
    """Parses rule text into an AST.

    Raises:
        RuleError: with the location of the first syntax error.
    """
    source = Source(name, text)
    try:
        tree = _parse_tree(text)
    except UnexpectedInput as error:
        raise _syntax_error(source, error) from None
    check_nesting(tree, source)
    return to_ast(tree, source)
