"""The `.rule` lexer highlights the words the language's tables define."""

from __future__ import annotations

from pygments.token import Keyword, Name

from rulec.functions import ELEMENTWISE
from rulec.highlight import RuleLexer
from rulec.losses import LOSSES
from rulec.phases import PHASES


def tokens(text: str) -> list[tuple[object, str]]:
    return [(kind, value) for kind, value in RuleLexer().get_tokens(text) if value.strip()]


def test_every_phase_keyword_opening_a_line_is_highlighted_as_a_phase():
    for spec in PHASES:
        assert tokens(f"{spec.kind.value} (i in pre, j in post)\n")[0] == (Keyword.Namespace, spec.kind.value)


def test_a_loss_declaration_names_a_keyword_and_a_known_loss():
    for name in LOSSES:
        assert tokens(f"loss {name}\n") == [(Keyword, "loss"), (Name.Builtin, name)]


def test_loss_and_its_derivative_in_an_equation_are_builtins_like_the_activations():
    calls = [("loss", 1)] + list(ELEMENTWISE.items())
    for function, primes in calls:
        mark = function + "'" * primes
        assert tokens(f"a[j, 1] := {mark}(h)\n")[-4] == (Name.Builtin, mark)
