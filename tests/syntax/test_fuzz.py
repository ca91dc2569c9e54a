"""Mutated stdlib rules never crash the front end: only RuleError comes out, and it renders."""

from __future__ import annotations

import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rulec.diagnostics import RuleError, render
from rulec.frontend import check_text
from tests.conftest import STDLIB, fuzz_examples

TOKEN = re.compile(r"\s+|#[^\n]*|\"[^\"\n]*\"|[A-Za-z_][A-Za-z0-9_]*'*|\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|:=|->|\.\.|.",
                   re.S)
SOURCES = [path.read_text() for path in STDLIB]
TOKENS = [TOKEN.findall(text) for text in SOURCES]
VOCABULARY = sorted({t for tokens in TOKENS for t in tokens if not t.isspace()}) + ["\n", "(", "]", "@", "'"]
# What a careless or hostile file holds: invisible and control characters, exotic line breaks, constants that
# overflow or divide by zero, and misspelled keywords.
HOSTILE = ["\ufeff", "\x00", "\u200b", "\x1b", "\f", "\v", "\x1c", "\x85", "\u2028", "\r", "1e400", "1e39",
           "/ 0", "0 / 0", "^ 2000", "forwrd", "genom", "updat", "synaps", "- -", "99999999999999999999"]


@st.composite
def mutated_rule(draw):
    tokens = list(draw(st.sampled_from(TOKENS)))
    for _ in range(draw(st.integers(1, 3))):
        if not tokens:
            break
        position = draw(st.integers(0, len(tokens) - 1))
        kind = draw(st.sampled_from(["delete", "duplicate", "swap", "truncate", "insert", "hostile", "repeat"]))
        if kind == "delete":
            del tokens[position]
        elif kind == "duplicate":
            tokens.insert(position, tokens[position])
        elif kind == "swap":
            other = draw(st.integers(0, len(tokens) - 1))
            tokens[position], tokens[other] = tokens[other], tokens[position]
        elif kind == "truncate":
            tokens = tokens[:position]
        elif kind == "hostile":
            tokens.insert(position, draw(st.sampled_from(HOSTILE)))
        elif kind == "repeat":  # long chains and deep nesting, past the nesting limit
            tokens[position:position] = [tokens[position]] * draw(st.integers(2, 400))
        else:
            tokens.insert(position, draw(st.sampled_from(VOCABULARY)))
    return "".join(tokens)


@settings(max_examples=fuzz_examples(2000), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_rule())
def test_mutations_raise_only_rule_errors(text):
    try:
        check_text(text, "mutant.rule")
    except RuleError as error:
        lines = text.count("\n") + 1  # lines as the parser counts them, at `\n` only
        for diagnostic in error.diagnostics:
            assert 1 <= diagnostic.span.line <= lines + 1
            rendered = render(diagnostic)
            assert rendered.startswith("mutant.rule:")
            assert all(char.isprintable() for char in rendered.replace("\n", "").replace("\t", ""))
