"""Located user errors: one error type for every stage, and one renderer.

Every problem in a `.rule` file is a :class:`Diagnostic` carrying a :class:`Span`. Stages return diagnostics as
values and raise a single :class:`RuleError` holding all of them, so the user sees every mistake at once. Only
the CLI prints them, through :func:`render`, as::

    file:line:col: error: message
      line of source
      ^^^^
      hint: what to write instead
"""

from __future__ import annotations

import dataclasses
import enum
import os
from collections.abc import Iterable, Sequence

from rulec.diagnostic_codes import CODES

MAX_SHOWN = 20  # diagnostics rendered in full; the rest are counted
MAX_QUOTE = 160  # characters of a source line quoted under a message
COMMAND_LINE = "<command line>"  # the source name of diagnostics located on a flag (`--set k=0`)


@dataclasses.dataclass(frozen=True, slots=True)
class Source:
    """The text of one rule file and the name it is reported under.

    Lines are split at `\n` only, as the parser counts them: `str.splitlines` would also break at a form feed,
    `\v`, `\x1c`-`\x1e`, `\x85` and U+2028, and quote the wrong line after one of them.
    """

    name: str
    text: str
    lines: tuple[str, ...] = dataclasses.field(init=False, repr=False, compare=False)

    def __post_init__(self):
        lines = self.text.split("\n")
        if lines[-1] == "":  # a final newline ends the last line; it does not start another
            lines.pop()
        object.__setattr__(self, "lines", tuple(line.removesuffix("\r") for line in lines))

    def line(self, number: int) -> str:
        return self.lines[number - 1] if 1 <= number <= len(self.lines) else ""


@dataclasses.dataclass(frozen=True, slots=True)
class Span:
    """A region of a source file; lines and columns count from 1, the end is exclusive."""

    source: Source = dataclasses.field(compare=False, repr=False)
    line: int
    column: int
    end_line: int
    end_column: int

    @property
    def location(self) -> str:
        return f"{self.source.name}:{self.line}:{self.column}"


class Severity(enum.Enum):
    """An error stops the command; a warning is printed and changes nothing (`--werror` makes it an error)."""

    ERROR = "error"
    WARNING = "warning"


@dataclasses.dataclass(frozen=True, slots=True)
class Diagnostic:
    """One located problem. `code` is a stable identifier that tests and docs refer to, one of
    rulec/diagnostic_codes.py."""

    span: Span
    message: str
    hint: str | None
    code: str
    severity: Severity = Severity.ERROR

    def __post_init__(self):
        # An unregistered code is a bug in rulec, not in the rule: refused only where bugs are hunted, so that a
        # user still gets the message.
        if os.environ.get("RULEC_CHECKS") == "1" and self.code not in CODES:
            raise ValueError(f"diagnostic code {self.code!r} is not in rulec/diagnostic_codes.py")


class RuleWarning(UserWarning):
    """A rule's warnings, as `rulec.load` reports them to Python (each is also on `Rule.warnings`)."""


class RuleError(Exception):
    """The one error type rulec shows to users: one or more located diagnostics."""

    def __init__(self, diagnostics: Iterable[Diagnostic]):
        self.diagnostics = tuple(diagnostics)
        if not self.diagnostics:
            raise ValueError("RuleError needs at least one diagnostic")
        super().__init__()

    def __str__(self) -> str:
        return render_all(self.diagnostics)

    @classmethod
    def at(cls, span: Span, message: str, hint: str | None = None, *, code: str) -> RuleError:
        return cls([Diagnostic(span, message, hint, code)])

    @property
    def span(self) -> Span:
        return self.diagnostics[0].span

    @property
    def message(self) -> str:
        return self.diagnostics[0].message

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(d.code for d in self.diagnostics)


def render(diagnostic: Diagnostic) -> str:
    """Formats a diagnostic as `file:line:col: error: message` (or `warning:`), the source line, a caret and the
    hint."""
    span = diagnostic.span
    if not span.source.text:  # nothing to quote, for example a file that could not be read
        head = f"{span.source.name}: {diagnostic.severity.value}: {diagnostic.message}"
        return head + (f"\n  hint: {diagnostic.hint}" if diagnostic.hint else "")
    text = span.source.line(span.line)
    width = span.end_column - span.column if span.end_line == span.line else len(text) - span.column + 1
    quoted, caret = quote(text, span.column, max(1, width))
    parts = [f"{span.location}: {diagnostic.severity.value}: {diagnostic.message}", f"  {quoted}", f"  {caret}"]
    if diagnostic.hint:
        parts.append(f"  hint: {diagnostic.hint}")
    return "\n".join(parts)


def render_all(diagnostics: Sequence[Diagnostic]) -> str:
    """The first MAX_SHOWN diagnostics, then a count of the rest: one mistake repeated 10,000 times is noise."""
    shown = [render(d) for d in diagnostics[:MAX_SHOWN]]
    rest = len(diagnostics) - MAX_SHOWN
    if rest > 0:
        shown.append(f"... and {rest} more error{'s' if rest != 1 else ''}")
    return "\n".join(shown)


def visible(char: str) -> str:
    """A character as it is quoted: itself, or its code point when it would print as nothing or garble the
    line (a byte-order mark, NUL, a zero-width space, other control and format characters)."""
    return char if char.isprintable() or char == "\t" else f"<U+{ord(char):04X}>"


def quote(text: str, column: int, width: int) -> tuple[str, str]:
    """The source line as shown, and a caret under columns [column, column + width).

    Invisible characters are spelled out by code point, and a line longer than MAX_QUOTE characters is cut to
    a window around the caret, so that a 100,000-character line does not flood the terminal."""
    pieces = [visible(char) for char in text]
    start = sum(len(p) for p in pieces[:column - 1]) + max(0, column - 1 - len(pieces))
    length = max(1, sum(len(p) for p in pieces[column - 1:column - 1 + width]))
    shown = "".join(pieces)
    if len(shown) <= MAX_QUOTE:
        return shown, " " * start + "^" * length
    first = max(0, min(start - MAX_QUOTE // 4, len(shown) - MAX_QUOTE))
    prefix = "..." if first else ""
    window = shown[first:first + MAX_QUOTE]
    suffix = "..." if first + MAX_QUOTE < len(shown) else ""
    caret_start = start - first
    caret_length = max(1, min(length, MAX_QUOTE - caret_start))
    return prefix + window + suffix, " " * (len(prefix) + caret_start) + "^" * caret_length
