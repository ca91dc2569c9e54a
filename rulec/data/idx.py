"""Reads IDX files (the format of MNIST, EMNIST and Fashion-MNIST), gzipped or plain, and checks them.

Layout: two zero bytes, a type code (0x08 unsigned byte, 0x09 signed byte, 0x0B short, 0x0C int, 0x0D float,
0x0E double), the number of dimensions, then each dimension as a big-endian 32-bit integer, then the data.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np

from rulec.data.errors import DataError

_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path: str | Path) -> np.ndarray:
    """The array in an IDX file. Raises DataError naming the file and what is wrong with it."""
    path = Path(path)
    try:
        raw = path.read_bytes()
        if raw[:2] == b"\x1f\x8b":
            raw = gzip.decompress(raw)
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except (OSError, EOFError, gzip.BadGzipFile) as error:
        raise DataError(f"{path}: cannot read it: {error}") from None
    if len(raw) < 4 or raw[:2] != b"\x00\x00" or raw[2] not in _TYPES:
        raise DataError(f"{path}: not an IDX file (it should start with two zero bytes and a type code)",
                        "IDX files are the format of MNIST and Fashion-MNIST, such as train-images-idx3-ubyte.gz")
    dtype = np.dtype(_TYPES[raw[2]])
    ndim = raw[3]
    header = 4 + 4 * ndim
    if ndim == 0 or len(raw) < header:
        raise DataError(f"{path}: the IDX header is truncated")
    shape = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    expected = int(np.prod(shape)) * dtype.itemsize
    if len(raw) - header != expected:
        raise DataError(f"{path}: the header promises {shape} ({expected} bytes of data) but the file holds "
                        f"{len(raw) - header}", "the file is truncated or corrupt; download it again")
    return np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="))
