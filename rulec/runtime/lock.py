"""One run at a time per output: a lock beside each output path, so that a second run with the same `-o` is
refused instead of both writing and the last writer silently winning.

The lock is an `flock` on a small file `.NAME.lock` beside the output. The kernel releases it when its process
ends, however it ends, so a lock left by a killed run is simply taken over: there are no stale locks to clean.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import stat
from collections.abc import Iterable, Iterator
from pathlib import Path

from rulec.files import file_error
from rulec.runtime.outputs import normal


def lock_path(path: Path) -> Path:
    path = Path(path)
    return path.parent / f".{path.name}.lock"


def _open(target: Path) -> int:
    """The lock file opened for writing, refused unless it is a regular file: a symbolic link planted at the lock
    path is not followed (the pid would be written into whatever it points at), and a folder, a device or a pipe
    there is reported, not written to or waited on."""
    hint = f"remove {target}; rulec creates its lock files itself"
    try:
        descriptor = os.open(target, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, 0o644)
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise file_error(target, "the lock file is a symbolic link, which rulec does not follow", hint,
                             "lock-file") from None
        if error.errno == errno.EISDIR:
            raise file_error(target, "the lock file is a folder", hint, "lock-file") from None
        raise file_error(target, f"cannot create the lock file: {error.strerror or error}",
                         "give this run an output in a folder it can write", "lock-file") from None
    if not stat.S_ISREG(os.fstat(descriptor).st_mode):
        os.close(descriptor)
        raise file_error(target, "the lock file is not a regular file (a device, a pipe or a socket)", hint,
                         "lock-file")
    return descriptor


def _acquire(path: Path) -> int:
    """The descriptor of the held lock on `path`'s lock file; raises a file error when another run holds it."""
    target = lock_path(path)
    while True:
        descriptor = _open(target)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(descriptor, 32).decode(errors="replace").strip() or "unknown"
            os.close(descriptor)
            raise file_error(path, f"another rulec run (process {holder}) is writing this output",
                             "wait for it to finish, or give this run another output path", "locked") from None
        # The holder before us may have removed the file after we opened it; then our lock guards nothing.
        try:
            if os.stat(target).st_ino == os.fstat(descriptor).st_ino:
                break
        except FileNotFoundError:
            pass
        os.close(descriptor)
    os.ftruncate(descriptor, 0)
    os.write(descriptor, str(os.getpid()).encode())
    return descriptor


@contextlib.contextmanager
def holding(paths: Iterable[Path | None]) -> Iterator[None]:
    """Holds the locks of every output path given (None entries are skipped) for the duration of the block."""
    held: list[tuple[Path, int]] = []
    try:
        # flock conflicts between two descriptors of one process too, so each path is locked once.
        for path in dict.fromkeys(normal(p) for p in paths if p is not None):
            held.append((lock_path(path), _acquire(path)))
        yield
    finally:
        for target, descriptor in reversed(held):
            with contextlib.suppress(FileNotFoundError):
                target.unlink()  # while still held, so no other run can lock the file being removed
            os.close(descriptor)
