"""The front end as one call: text to a checked rule."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from rulec.check import CheckedRule, check
from rulec.files import file_error
from rulec.syntax import parse


def check_text(text: str, name: str = "<string>", dims: Mapping[str, int] | None = None) -> CheckedRule:
    """Parses and checks rule text. Raises RuleError with every located problem."""
    return check(parse(text, name), dims)


def read_rule_file(path: str | Path) -> str:
    """Reads a rule file, turning I/O and encoding problems into a RuleError located at the file."""
    path = Path(path)
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
        raise file_error(path, f"cannot read the rule file: {reason}", code="io") from None


def check_file(path: str | Path, dims: Mapping[str, int] | None = None) -> CheckedRule:
    return check_text(read_rule_file(path), str(path), dims)
