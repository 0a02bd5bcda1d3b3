"""The IDX file format of the original MNIST files (LeCun et al.), raw or gzip-compressed.

An IDX file is a big-endian header, then the data in C order:

    bytes 0-1   zero
    byte  2     type code (0x08 = unsigned byte; the only type MNIST uses)
    byte  3     number of dimensions d
    4·d bytes   the size of each dimension, big-endian uint32
    the rest    prod(sizes) values

So the magic number, bytes 0-3 as one big-endian integer, is 2049 (0x00000801) for a label
file and 2051 (0x00000803) for an image file.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np


class IDXFormatError(ValueError):
    """The file is not a well-formed IDX file of unsigned bytes."""


def read_idx(path: str | Path) -> np.ndarray:
    """The array stored in an IDX file of unsigned bytes (``.gz`` files are decompressed)."""
    path = Path(path)
    with open(path, "rb") as stream:
        raw = stream.read()
    if raw[:2] == b"\x1f\x8b":  # gzip's magic bytes, whatever the file is called
        raw = gzip.decompress(raw)
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise IDXFormatError(
            f"{path}: bad IDX magic number {raw[:4].hex() or 'empty'} "
            "(expected 00 00 08 0d): not an IDX file of unsigned bytes"
        )
    ndim = raw[3]
    header = 4 + 4 * ndim
    shape = tuple(int(s) for s in np.frombuffer(raw[4:header], dtype=">u4"))
    expected = int(np.prod(shape)) if shape else 0
    if len(shape) != ndim or len(raw) - header != expected:
        raise IDXFormatError(
            f"{path}: the header promises shape {shape} ({expected} bytes) but "
            f"{len(raw) - header} bytes follow: the file is truncated or corrupted"
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(shape).copy()
