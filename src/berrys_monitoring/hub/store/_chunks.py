"""Metric samples as compressed chunks: one blob per series and time range, never a row
per sample.

Timestamps are stored as delta-of-deltas and values as the XOR of consecutive float64
bit patterns (the Gorilla idea, vectorised with numpy), then deflated: regular scrape
intervals and slowly changing values become runs of zero bytes.
"""

from __future__ import annotations

import struct
import sys
import zlib
from array import array
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

__all__ = ["decode_chunk", "encode_chunk", "encode_open_chunk"]

_HEADER = struct.Struct("<BI")  # format version, sample count
_RAW = 0  # an open (head) chunk: plain little-endian arrays, cheap to rewrite at every commit
_VERSION = 1  # a closed chunk: delta-of-deltas and XORed values, deflated


def encode_open_chunk(timestamps: Sequence[int], values: Sequence[float]) -> bytes:
    """A head chunk as it is mirrored to disk at every commit: no compression, so that
    rewriting it costs a copy, not an encoding of every sample again.

    Example::

        >>> ts, vs = decode_chunk(encode_open_chunk([1000, 2000], [1.5, 2.5]))
        >>> ts.tolist(), vs.tolist()
        ([1000, 2000], [1.5, 2.5])
    """
    ts = array("q", timestamps)
    vs = array("d", values)
    if sys.byteorder != "little":  # pragma: no cover - the store is little-endian everywhere
        ts.byteswap()
        vs.byteswap()
    return _HEADER.pack(_RAW, len(ts)) + ts.tobytes() + vs.tobytes()


def encode_chunk(timestamps: npt.NDArray[np.int64], values: npt.NDArray[np.float64]) -> bytes:
    """Pack sorted millisecond ``timestamps`` and their ``values`` into one blob.

    Example::

        >>> import numpy as np
        >>> blob = encode_chunk(np.array([1000, 16000, 31000]), np.array([1.0, 2.0, 2.0]))
        >>> ts, vs = decode_chunk(blob)
        >>> ts.tolist(), vs.tolist()
        ([1000, 16000, 31000], [1.0, 2.0, 2.0])
    """
    ts = np.ascontiguousarray(timestamps, dtype="<i8")
    vs = np.ascontiguousarray(values, dtype="<f8")
    n = len(ts)
    dod = np.diff(ts, n=2, prepend=[0, 0]) if n else ts
    bits = vs.view("<u8")
    xored = np.bitwise_xor(bits, np.concatenate(([np.uint64(0)], bits[:-1]))) if n else bits
    return _HEADER.pack(_VERSION, n) + zlib.compress(dod.tobytes() + xored.tobytes(), 6)


def decode_chunk(blob: bytes) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    version, n = _HEADER.unpack_from(blob)
    if version == _RAW:
        body = memoryview(blob)[_HEADER.size :]
        return (
            np.frombuffer(body, dtype="<i8", count=n).astype(np.int64),
            np.frombuffer(body, dtype="<f8", count=n, offset=8 * n).astype(np.float64),
        )
    if version != _VERSION:
        raise ValueError(f"unknown chunk format {version}")
    raw = zlib.decompress(blob[_HEADER.size :])
    dod = np.frombuffer(raw, dtype="<i8", count=n)
    xored = np.frombuffer(raw, dtype="<u8", count=n, offset=8 * n)
    ts = np.cumsum(np.cumsum(dod)).astype(np.int64)
    values = np.bitwise_xor.accumulate(xored).view("<f8").astype(np.float64)
    return ts, values
