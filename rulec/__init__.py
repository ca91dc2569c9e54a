"""rulec: a compiler for learned neural update rules.

Parse and check a rule file (the embedding API grows with the lowering stage)::

    import rulec
    checked = rulec.check_file("stdlib_rules/blur.rule", {"k": 8})
"""

from rulec.check import CheckedRule as CheckedRule
from rulec.diagnostics import Diagnostic as Diagnostic
from rulec.diagnostics import RuleError as RuleError
from rulec.diagnostics import Span as Span
from rulec.frontend import check_file as check_file
from rulec.frontend import check_text as check_text
from rulec.syntax import parse as parse

__version__ = "0.1.0"
