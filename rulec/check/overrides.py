"""Dim overrides (`--set k=8` on the command line, `rulec.load(path, k=8)` in Python), checked before the rule.

An override is checked on its own, before any other check runs: a bad value would otherwise surface as a
dozen shape errors blamed on the file's `dim k = 4` line.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping

from rulec.check.declarations import declared_items, dim_range_error, suggest
from rulec.diagnostics import Diagnostic, Span
from rulec.syntax import ast

_KINDS = {ast.DimDecl: "dim", ast.NeuronDecl: "neuron", ast.SynapseDecl: "synapse",
          ast.ActivationDecl: "activation"}


def _kind(decl: ast.Item) -> str:
    if isinstance(decl, ast.GenomeEntry):
        return "random genome entry" if decl.sampled else "genome constant"
    return _KINDS.get(type(decl), "name")


@dataclasses.dataclass(frozen=True)
class Overrides(Mapping):
    """Dim values by name, remembering where each was written so that errors point there (a `--set` flag)."""

    by_name: Mapping[str, int | float]
    spans: Mapping[str, Span]

    def __getitem__(self, name: str) -> int | float:
        return self.by_name[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.by_name)

    def __len__(self) -> int:
        return len(self.by_name)


def check_overrides(rule: ast.Rule, overrides: Mapping[str, int]) -> list[Diagnostic]:
    """Each override names a dim of the rule and gives it a whole number in range: `--set lr=0.1` is refused
    because `lr` is a genome entry, and `--set k=0` because a dim is at least 1."""
    spans = overrides.spans if isinstance(overrides, Overrides) else {}
    dims = {d.name: d for d in rule.dims}
    dims_hint = f"only dims can be set; rule `{rule.name}` has " + (
        "the dims " + ", ".join(f"`{name}`" for name in dims) if dims else "no dims")
    declared = dict(declared_items(rule))
    genome = {g.name for g in rule.genome}
    errors = []
    for name, value in overrides.items():
        span = spans.get(name, rule.span)
        if name in dims:
            error = dim_range_error(name, value, span, f"the file declares `dim {name} = {dims[name].value}`")
            errors += [error] if error is not None else []
        elif name in declared:
            genome_hint = f"; set it with `--genome-set {name}=...`" if name in genome else ""
            errors.append(Diagnostic(span, f"`{name}` is a {_kind(declared[name])} of rule `{rule.name}`, not a "
                                     "dim", dims_hint + genome_hint, "not-a-dim"))
        else:
            errors.append(Diagnostic(span, f"`{name}` is not a dim of rule `{rule.name}`",
                                     suggest(name, dims) or dims_hint, "unknown-override"))
    return errors
