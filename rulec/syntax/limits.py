"""Limits on the shape of rule text, checked on the parse tree before any recursive pass sees it.

The checker, printer, IR, interpreters, SymPy and LaTeX all walk expressions recursively, one Python frame or
two per level, so a deep expression would end in RecursionError somewhere downstream. Bounding the depth once,
here, with an iterative walk, keeps every later stage safe and gives the user a located error instead.
"""

from __future__ import annotations

from lark import Tree

from rulec.diagnostics import RuleError, Source, Span

MAX_NESTING = 200  # operators nested in one another; a sum of 201 terms is the longest flat chain

# Parse-tree nodes that nest one expression inside another; brackets alone add no node.
_NESTING = frozenset({"add", "sub", "mul", "div", "pow", "neg", "call", "reduction", "matrix"})


def check_nesting(tree: Tree, source: Source) -> None:
    """Raises a RuleError at the first expression nested more than MAX_NESTING operators deep.

    Example: `a[j] := x + x + ... + x` with 300 terms is refused; `let` definitions can split it.
    """
    stack = [(tree, 0)]
    while stack:
        node, depth = stack.pop()
        if node.data in _NESTING:
            depth += 1
            if depth > MAX_NESTING:
                meta = node.meta
                span = Span(source, meta.line, meta.column, meta.end_line, meta.end_column)
                raise RuleError.at(span, f"this expression nests more than {MAX_NESTING} operators deep",
                                   hint="each `+`, `*`, `-`, `^`, call or reduction in a chain adds a level; "
                                        "compute parts of it with `let` definitions", code="too-deep")
        stack.extend((child, depth) for child in node.children if isinstance(child, Tree))
