"""Metric samples as compressed chunks: one blob per series and time range, never a row
per sample.

Timestamps are stored as delta-of-deltas and values as the XOR of consecutive float64
bit patterns (the Gorilla idea, vectorised with numpy), then deflated: regular scrape
intervals and slowly changing values become runs of zero bytes.
"""

from __future__ import annotations

import struct
import zlib

import numpy as np
import numpy.typing as npt

__all__ = ["decode_chunk", "encode_chunk"]

_HEADER = struct.Struct("<BI")  # format version, sample count
_VERSION = 1


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
    if version != _VERSION:
        raise ValueError(f"unknown chunk format {version}")
    raw = zlib.decompress(blob[_HEADER.size :])
    dod = np.frombuffer(raw, dtype="<i8", count=n)
    xored = np.frombuffer(raw, dtype="<u8", count=n, offset=8 * n)
    ts = np.cumsum(np.cumsum(dod)).astype(np.int64)
    values = np.bitwise_xor.accumulate(xored).view("<f8").astype(np.float64)
    return ts, values
