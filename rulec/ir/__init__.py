"""Stage 3: the intermediate representation that every interpreter runs."""

from rulec.ir.nodes import *  # noqa: F401,F403
from rulec.ir.resolve import resolve as resolve
