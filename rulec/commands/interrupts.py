"""Ctrl-C at any moment ends a command with exit status 130 and a message.

Python raises KeyboardInterrupt wherever the main thread is, and in the middle of JAX's start-up or of a
compilation that unwinds through C++ callbacks and thread pools: the process then aborted (SIGABRT) or crashed
(SIGSEGV) instead of ending. So the handler raises nothing: outside a block that keeps something on Ctrl-C it
says so and ends the process at once with os._exit, which skips the interpreter's teardown (the kernel releases
the output locks; a file being written is a temporary one, never the output). Inside `deferred` (meta-training's
loop) it records the request, and the loop calls `check` between steps, where a KeyboardInterrupt is safe and
writes a checkpoint; a second Ctrl-C does not wait for the step to end.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from collections.abc import Iterator

INTERRUPTED = 130  # as a shell reports SIGINT

_deferring = False
_requested = False


def _handler(signum, frame) -> None:
    global _requested
    if _deferring and not _requested:
        _requested = True
        # Unbuffered, so that it cannot collide with a print the signal interrupted (the progress bar's).
        os.write(2, b"\ninterrupting after this step (Ctrl-C again to stop at once, without a checkpoint)\n")
        return
    for stream in (sys.stdout, sys.stderr):  # what was printed so far, unless the handler interrupted a print
        try:
            stream.flush()
        except (OSError, RuntimeError, ValueError):
            pass
    os.write(2, b"\ninterrupted\n")
    os._exit(INTERRUPTED)


def install():
    """From now on, Ctrl-C ends the process as the module says; returns the handler it replaces."""
    return signal.signal(signal.SIGINT, _handler)


@contextlib.contextmanager
def handled() -> Iterator[None]:
    """Ctrl-C ends the process as the module says, for the duration of the block (a command)."""
    previous = install()
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


@contextlib.contextmanager
def deferred() -> Iterator[None]:
    """Inside the block, Ctrl-C waits for the next `check` (or the block's end) and raises KeyboardInterrupt there."""
    global _deferring, _requested
    _deferring, _requested = True, False
    try:
        yield
    finally:
        _deferring = False
    check()


def check() -> None:
    """Raises KeyboardInterrupt if Ctrl-C was pressed since the block began."""
    global _requested
    if _requested:
        _requested = False
        raise KeyboardInterrupt
