"""rulec: a compiler for learned neural update rules.

    >>> import rulec
    >>> rule = rulec.load("stdlib_rules/blur.rule", k=2)     # parse, check, resolve; raises rulec.RuleError
    >>> rule.dims
    {'k': 2}

Every name is imported on first use: `rulec.load` and the other JAX-backed names import JAX, and the front-end
names the parser and checker. Importing a submodule runs this file first, so it imports nothing itself; that is
what lets `rulec --help` start without the compiler.
"""

import importlib

__version__ = "0.1.0"

# The public names and the modules that define them.
_EXPORTS = {
    "CheckedRule": "rulec.check",
    "Diagnostic": "rulec.diagnostics",
    "RuleError": "rulec.diagnostics",
    "RuleWarning": "rulec.diagnostics",
    "Span": "rulec.diagnostics",
    "check_file": "rulec.frontend",
    "check_text": "rulec.frontend",
    "parse": "rulec.syntax",
    "load": "rulec.api",
    "loads": "rulec.api",
    "Rule": "rulec.api",
    "Network": "rulec.api",
    "Conv": "rulec.geometry",
    "train": "rulec.experiment.training",
    "compare": "rulec.experiment.comparison",
    "meta_train": "rulec.experiment.meta_training",
}


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'rulec' has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + list(_EXPORTS))
