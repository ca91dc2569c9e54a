"""Stage 1: rule text to AST (grammar, parser, transformer)."""

from rulec.syntax.parse import parse as parse
