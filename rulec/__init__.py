"""rulec: a compiler for learned neural update rules.

    >>> import rulec
    >>> rule = rulec.load("stdlib_rules/blur.rule", k=2)     # parse, check, resolve; raises rulec.RuleError
    >>> rule.dims
    {'k': 2}

The JAX-backed names (`load`, `loads`, `Rule`, `Network`) import JAX on first use, so that `rulec check` and
other front-end work start without it.
"""

from rulec.check import CheckedRule as CheckedRule
from rulec.diagnostics import Diagnostic as Diagnostic
from rulec.diagnostics import RuleError as RuleError
from rulec.diagnostics import Span as Span
from rulec.frontend import check_file as check_file
from rulec.frontend import check_text as check_text
from rulec.syntax import parse as parse

__version__ = "0.1.0"

_JAX_BACKED = ("load", "loads", "Rule", "Network")


def __getattr__(name: str):
    if name in _JAX_BACKED:
        from rulec import api

        return getattr(api, name)
    raise AttributeError(f"module 'rulec' has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + list(_JAX_BACKED))
