"""What the commands print besides their results: warnings on the console they report to."""

from __future__ import annotations


def warner(console):
    """A `warn(text)` that prints a yellow warning on the console."""
    return lambda text: console.print(f"[yellow]warning:[/] {text}")
