"""A Pygments lexer for `.rule` files, registered under the `pygments.lexers` entry point as `rule`."""

from __future__ import annotations

from pygments.lexer import RegexLexer, words
from pygments.token import Comment, Keyword, Name, Number, Operator, Punctuation, String, Text

from rulec.check.symbols import BATCH, LAYER_SETS, STEP_COUNTER
from rulec.functions import DISTRIBUTIONS, ELEMENTWISE, INIT_NAMES, SIZE, STEP_DRAWS, TWO_ARGUMENT_FUNCTIONS
from rulec.losses import LOSSES
from rulec.phases import PHASES


class RuleLexer(RegexLexer):
    """Highlights rulec's rule language."""

    name = "rulec rule"
    aliases = ["rule", "rulec"]
    filenames = ["*.rule"]

    tokens = {
        "root": [
            (r"#.*$", Comment.Single),
            (r'"[^"\n]*"', String.Doc),
            (words(("rule", "dim", "genome", "preset", "default", "neuron", "synapse", "activation", "bias",
                    "loss", "fixed", "persistent", "prove", "under", "let", "for", "in", "repeat", "end"),
                   suffix=r"\b(?!')"),
             Keyword),
            # A phase opens a line, indented inside a loop.
            (words(tuple(spec.kind.value for spec in PHASES), prefix=r"(?<![^\n\t ])", suffix=r"\b"),
             Keyword.Namespace),
            (words(("sum", "mean", "normalize", "max", "logsumexp", "softmax"), suffix=r"\b"), Keyword.Pseudo),
            (words(("loss", SIZE) + tuple(ELEMENTWISE) + tuple(DISTRIBUTIONS | STEP_DRAWS) + TWO_ARGUMENT_FUNCTIONS,
                   suffix=r"\b'*"), Name.Builtin),
            (words(tuple(LOSSES), suffix=r"\b"), Name.Builtin),
            (words(LAYER_SETS + (BATCH,) + INIT_NAMES + ("x", "target", STEP_COUNTER), suffix=r"\b"),
             Name.Builtin.Pseudo),
            (r"\d+\.\d+([eE][+-]?\d+)?|\d+[eE][+-]?\d+|\d+", Number),
            (r":=|->|\.\.|<=|>=|==|[-+*/^~=<>]", Operator),
            (r"[()\[\],;:]", Punctuation),
            (r"[A-Za-z_][A-Za-z0-9_]*'*", Name),
            (r"\s+", Text),
            (r".", Text),
        ],
    }
