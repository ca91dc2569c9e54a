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
from collections.abc import Iterable


@dataclasses.dataclass(frozen=True, slots=True)
class Source:
    """The text of one rule file and the name it is reported under."""

    name: str
    text: str

    def line(self, number: int) -> str:
        lines = self.text.splitlines()
        return lines[number - 1] if 1 <= number <= len(lines) else ""


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


@dataclasses.dataclass(frozen=True, slots=True)
class Diagnostic:
    """One located problem. `code` is a stable identifier that tests and docs refer to."""

    span: Span
    message: str
    hint: str | None = None
    code: str = "error"


class RuleError(Exception):
    """The one error type rulec shows to users: one or more located diagnostics."""

    def __init__(self, diagnostics: Iterable[Diagnostic]):
        self.diagnostics = tuple(diagnostics)
        if not self.diagnostics:
            raise ValueError("RuleError needs at least one diagnostic")
        super().__init__("\n".join(render(d) for d in self.diagnostics))

    @classmethod
    def at(cls, span: Span, message: str, hint: str | None = None, code: str = "error") -> RuleError:
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
    """Formats a diagnostic as `file:line:col: error: message`, the source line, a caret and the hint."""
    span = diagnostic.span
    if not span.source.text:  # nothing to quote, for example a file that could not be read
        head = f"{span.source.name}: error: {diagnostic.message}"
        return head + (f"\n  hint: {diagnostic.hint}" if diagnostic.hint else "")
    text = span.source.line(span.line)
    width = span.end_column - span.column if span.end_line == span.line else len(text) - span.column + 1
    caret = " " * (span.column - 1) + "^" * max(1, width)
    parts = [f"{span.location}: error: {diagnostic.message}", f"  {text}", f"  {caret}"]
    if diagnostic.hint:
        parts.append(f"  hint: {diagnostic.hint}")
    return "\n".join(parts)
