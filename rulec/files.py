"""Every output rulec writes (lock files aside, see lock.py), and every untrusted file it reads, goes through here.

Writes are atomic: a temporary file beside the target, then a rename, so a run killed mid-write leaves the old
file or the new one, never half of one. Reads are bounded: JSON only from a regular file and only up to a size cap
(a link to /dev/zero is refused, not read forever); an `.npz` archive has its member names and declared sizes
checked before anything is unpacked, decompression stops at the declared size, and pickles are never loaded.
"""

from __future__ import annotations

import io
import json
import math
import os
import stat
import tempfile
import time
import zipfile
from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np

from rulec.diagnostics import Diagnostic, RuleError, Source, Span

MAX_JSON_BYTES = 64 * 2**20
# The .npy header in front of each member's data (numpy pads it to a multiple of 64 bytes; a few lines at most).
NPY_HEADER_BYTES = 4096


def file_error(path: Path, message: str, hint: str | None = None, code: str = "genome-file") -> RuleError:
    """An error about a whole file (a genome, a checkpoint), located at its start."""
    return RuleError([Diagnostic(Span(Source(str(path), ""), 1, 1, 1, 1), message, hint, code)])


# ---- writing -------------------------------------------------------------------------------------------------------

def atomic_write(path: Path, write: Callable) -> None:
    """Writes through `write(handle)` to a temporary file beside `path`, then renames it: never a half file."""
    path = Path(path)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(descriptor, "wb") as handle:
            write(handle)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


def write_text(path: Path, text: str) -> None:
    atomic_write(path, lambda handle: handle.write(text.encode()))


def write_bytes(path: Path, data: bytes) -> None:
    atomic_write(path, lambda handle: handle.write(data))


def write_json(path: Path, record, indent: int = 2) -> None:
    write_text(path, json.dumps(record, indent=indent))


def write_figure(path: Path, figure, **options) -> None:
    """A matplotlib figure as a PNG (the format is named, since a handle has no suffix to guess it from)."""
    atomic_write(path, lambda handle: figure.savefig(handle, format="png", **options))


def writable_problem(path: Path, folder: bool = False) -> str | None:
    """Why the file `path` (or with `folder`, the folder `path`, created when missing) cannot be written, or None.
    Checked before a run starts, so that a typo in `--json` costs a second, not a training run."""
    path = Path(path)
    if folder:
        existing = next(p for p in (path, *path.parents) if p.exists() or p == Path(p.anchor))
        if not existing.is_dir():
            return f"{existing} is not a folder"
        return _cannot_create_in(existing)
    parent = path.parent
    try:
        info = os.stat(path)
    except FileNotFoundError:  # no file yet, or a link to none: the rename will put one there
        info = None
    except OSError as error:  # a link to itself, a path through a file
        return f"it cannot be reached ({error.strerror or error})"
    if info is not None and stat.S_ISDIR(info.st_mode):
        return f"{path} is a folder"
    # The rename that ends every write would replace a device or a pipe with a regular file: /dev/null copied as
    # an output would stop being one. rulec writes regular files only.
    if info is not None and not stat.S_ISREG(info.st_mode):
        return f"{path} is not a regular file (a device, a pipe or a socket), which rulec does not write into"
    if not parent.is_dir():
        return f"the folder {parent} does not exist"
    if info is not None and not os.access(path, os.W_OK):
        return f"{path} exists and is not writable"
    return _cannot_create_in(parent)


def _cannot_create_in(folder: Path) -> str | None:
    """Why no file can be created in `folder`, found by creating one, as `atomic_write` will: permission bits
    alone say yes to root, and nothing about a read-only or virtual file system (/proc)."""
    try:
        descriptor, probe = tempfile.mkstemp(dir=folder, prefix=".rulec-probe.")
    except OSError as error:
        return f"the folder {folder} is not writable ({error.strerror or error})"
    os.close(descriptor)
    os.unlink(probe)
    return None


def fallback_path(path: Path, folder: Path | None = None) -> Path:
    """Where a result goes when its own path failed at the end of a run: the working directory (or `folder`),
    under a name that takes nothing over."""
    path = Path(path)
    name = f"{path.stem}.rescued-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}{path.suffix}"
    return (Path.cwd() if folder is None else folder) / name


def save_or_rescue(path: Path, save: Callable[[Path], object], warn: Callable[[str], None]) -> Path:
    """Calls `save(path)`; if that fails with an OS error (the folder vanished or turned read-only, the disk is
    full, `ulimit -f`), saves to `fallback_path(path)` in the working directory instead, else in the temporary
    folder, and says so through `warn`. Returns where the result is; a file error when no place would take it."""
    failures = []
    for target in (Path(path), fallback_path(path), fallback_path(path, Path(tempfile.gettempdir()))):
        try:
            save(target)
        except OSError as error:
            failures.append(f"{target} ({error.strerror or error})")
            continue
        if failures:
            warn(f"could not write {'; nor '.join(failures)}; wrote {target} instead")
        return target
    raise file_error(Path(path), f"could not write the result here nor rescue it elsewhere: {'; '.join(failures)}",
                     "free space, or make the folder or the working directory writable (see also `ulimit -f`)",
                     "unwritable-output")


# ---- reading -------------------------------------------------------------------------------------------------------

def _regular(path: Path, what: str, code: str) -> os.stat_result:
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise file_error(path, f"the {what} does not exist", code=code) from None
    except OSError as error:
        raise file_error(path, f"cannot read the {what}: {error.strerror or error}", code=code) from None
    if not stat.S_ISREG(info.st_mode):
        raise file_error(path, f"the {what} is not a regular file", "give the path of a file, not of a device, "
                         "a pipe or a folder", code)
    return info


def read_json(path: Path, what: str, code: str = "genome-file", limit: int = MAX_JSON_BYTES):
    """The JSON value in `path`, a regular file of at most `limit` bytes."""
    _regular(path, what, code)
    try:
        with open(path, "rb") as handle:
            data = handle.read(limit + 1)
    except OSError as error:
        raise file_error(path, f"cannot read the {what}: {error.strerror or error}", code=code) from None
    if len(data) > limit:
        raise file_error(path, f"the {what} is larger than {limit // 2**20} MiB", f"a {what} written by rulec is "
                         "far smaller; this is not one", code)
    try:
        return json.loads(data)
    except (ValueError, RecursionError) as error:
        raise file_error(path, f"the {what} is not valid JSON: {error}", code=code) from None


def read_npz(path: Path, what: str, limits: Mapping[str, int] | Callable[[str], int | None],
             code: str = "genome-file") -> dict[str, np.ndarray]:
    """The arrays of an `.npz` file, each member checked before it is unpacked.

    `limits` gives, for each allowed name, the most bytes its data may hold (None or absent: not allowed). A
    member with another name, or one whose declared size exceeds its limit, is refused before any decompression,
    and no member is inflated past its declared size.
    """
    allowed = limits.get if isinstance(limits, Mapping) else limits
    _regular(path, what, code)
    unreadable = f"a {what} is an .npz archive written by rulec (numpy.savez)"
    arrays = {}
    try:
        with zipfile.ZipFile(path) as archive:
            for member in archive.infolist():
                name = member.filename.removesuffix(".npy")
                limit = allowed(name) if member.filename.endswith(".npy") else None
                if limit is None:
                    raise file_error(path, f"the {what} has an unexpected entry `{member.filename}`",
                                     "it may only hold the entries this rule and network expect", code)
                if member.file_size > limit + NPY_HEADER_BYTES:
                    raise file_error(path, f"`{name}` in the {what} declares {member.file_size} bytes, more than the "
                                     f"{limit} its shape allows", "the file is corrupt or not written by rulec", code)
                with archive.open(member) as handle:
                    data = handle.read(member.file_size + 1)
                arrays[name] = _array(path, what, name, data, unreadable, code)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, NotImplementedError) as error:
        raise file_error(path, f"cannot read the {what}: it is not a valid .npz archive ({error})", unreadable,
                         code) from None
    return arrays


_HEADER_READERS = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}


def _array(path: Path, what: str, name: str, data: bytes, hint: str, code: str) -> np.ndarray:
    try:
        # The header is read first and its shape held to the bytes that follow it: numpy would allocate what a
        # header declares (1e12 elements) before finding the data short.
        stream = io.BytesIO(data)
        version = np.lib.format.read_magic(stream)
        if version not in _HEADER_READERS:
            raise ValueError(f"unknown .npy format version {version}")
        shape, _, dtype = _HEADER_READERS[version](stream)
        if not dtype.hasobject:
            declared = math.prod(shape) * dtype.itemsize  # Python integers: no overflow
            if declared != len(data) - stream.tell():
                raise ValueError(f"its header declares shape {list(shape)} of {dtype}, {declared} bytes, but it "
                                 f"holds {len(data) - stream.tell()}")
        return np.lib.format.read_array(io.BytesIO(data), allow_pickle=False)
    except (ValueError, SyntaxError, TypeError) as error:
        # numpy's refusal of a pickled (object) array suggests enabling pickles, advice rulec must never pass on.
        detail = "it holds Python objects, which rulec never unpickles" if "pickle" in str(error) else str(error)
        raise file_error(path, f"cannot read `{name}` in the {what}: {detail}", hint, code) from None
