"""A limit on the CPU time of a proof: SymPy's expansions grow without bound on some rules (a relaxation loop is
unrolled symbolically, and each iteration nests the last), and nothing inside SymPy can be asked to stop."""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator


class TimeLimitExceeded(Exception):
    """The work under `cpu_time_limit` used up its seconds."""


@contextlib.contextmanager
def cpu_time_limit(seconds: float) -> Iterator[None]:
    """Raises TimeLimitExceeded inside the block once the process has spent `seconds` of CPU time in it.

    A virtual-time timer's signal interrupts pure Python code, which SymPy is, wherever it is. Signals reach only
    the main thread, so elsewhere (or without `setitimer`) the block runs unbounded."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
        yield
        return

    def expire(signum, frame):
        raise TimeLimitExceeded

    previous = signal.signal(signal.SIGVTALRM, expire)
    signal.setitimer(signal.ITIMER_VIRTUAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_VIRTUAL, 0)
        signal.signal(signal.SIGVTALRM, previous)
