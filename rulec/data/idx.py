"""Reads IDX files (the format of MNIST, EMNIST and Fashion-MNIST), gzipped or plain, and checks them.

Layout: two zero bytes, a type code (0x08 unsigned byte, 0x09 signed byte, 0x0B short, 0x0C int, 0x0D float,
0x0E double), the number of dimensions, then each dimension as a big-endian 32-bit integer, then the data.
"""

from __future__ import annotations

import gzip
import math
import os
import stat
import zlib
from pathlib import Path

import numpy as np

from rulec.data.errors import DataError
from rulec.memory import usable_bytes

_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
# The largest data an IDX file may declare (EMNIST's largest split is about 550 MB). A gzipped file is inflated
# only up to what its header declares, so a small file cannot claim more memory than this.
MAX_IDX_BYTES = 2**30


def read_idx(path: str | Path, held_as: np.dtype | None = None) -> np.ndarray:
    """The array in an IDX file. Raises DataError naming the file and what is wrong with it.

    `held_as` is the dtype the caller converts the values to: images of bytes become float32, four times their
    size. The file is refused before its data is read when the data and that copy would not fit in the memory
    this process may take (rulec/memory.py)."""
    path = Path(path)
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            raise DataError(f"{path}: not a regular file", "give the path of an IDX file")
        with open(path, "rb") as plain:
            compressed = plain.read(2) == b"\x1f\x8b"
        with (gzip.open if compressed else open)(path, "rb") as handle:
            head = handle.read(4)
            dtype, ndim = _check_magic(path, head)
            dims = handle.read(4 * ndim)
            if len(dims) < 4 * ndim:
                raise DataError(f"{path}: the IDX header is truncated")
            shape = tuple(int.from_bytes(dims[4 * i: 4 + 4 * i], "big") for i in range(ndim))
            expected = math.prod(shape) * dtype.itemsize  # Python integers: no overflow
            if expected > MAX_IDX_BYTES:
                raise DataError(f"{path}: the header promises {shape} ({expected} bytes of data), more than the "
                                f"{MAX_IDX_BYTES} rulec reads", "the file is corrupt, or not an image data set")
            _refuse_unheld(path, shape, expected, held_as)
            raw = handle.read(expected + 1)
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except (OSError, EOFError, zlib.error) as error:
        raise DataError(f"{path}: cannot read it: {error}") from None
    if len(raw) != expected:
        held = f"{len(raw)}" if len(raw) <= expected else "more"
        raise DataError(f"{path}: the header promises {shape} ({expected} bytes of data) but the file holds {held}",
                        "the file is truncated or corrupt; download it again")
    return np.frombuffer(raw, dtype=dtype).reshape(shape).astype(dtype.newbyteorder("="))


def _refuse_unheld(path: Path, shape: tuple[int, ...], size: int, held_as: np.dtype | None) -> None:
    needed = size + math.prod(shape) * np.dtype(held_as).itemsize if held_as is not None else size
    usable = usable_bytes()
    if needed > usable:
        raise DataError(f"{path}: its data {shape} takes {needed} bytes once read and converted to "
                        f"{np.dtype(held_as or np.uint8).name}, more than the {usable} this process may use",
                        "use a smaller data set, or free memory (see also `ulimit -v`)")


def _check_magic(path: Path, head: bytes) -> tuple[np.dtype, int]:
    if len(head) < 4 or head[:2] != b"\x00\x00" or head[2] not in _TYPES:
        raise DataError(f"{path}: not an IDX file (it should start with two zero bytes and a type code)",
                        "IDX files are the format of MNIST and Fashion-MNIST, such as train-images-idx3-ubyte.gz")
    if head[3] == 0:
        raise DataError(f"{path}: the IDX header is truncated")
    return np.dtype(_TYPES[head[2]]), head[3]
