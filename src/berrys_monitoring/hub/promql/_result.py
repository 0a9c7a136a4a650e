"""A query's answer in Prometheus's JSON shape, with Prometheus's number formatting."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np

__all__ = ["QueryResult", "format_value", "format_values"]


@dataclasses.dataclass
class QueryResult:
    """``data`` is exactly the ``data`` object of Prometheus's query API response;
    ``warnings`` go next to it.

    Example::

        >>> QueryResult({"resultType": "vector", "result": []}).data["resultType"]
        'vector'
    """

    data: dict[str, Any]
    warnings: list[str] = dataclasses.field(default_factory=list)


def format_value(v: float) -> str:
    """A float the way Prometheus writes it (Go's ``FormatFloat(v, 'f', -1, 64)``).

    Example::

        >>> [format_value(x) for x in (1.0, 0.1, 1e21, float("nan"), float("-inf"))]
        ['1', '0.1', '1000000000000000000000', 'NaN', '-Inf']
    """
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "+Inf" if v > 0 else "-Inf"
    text = repr(v)
    if "e" in text:
        return np.format_float_positional(v, unique=True, trim="-")
    return text[:-2] if text.endswith(".0") else text


def format_values(values: list[float]) -> list[str]:
    """:func:`format_value` for many: ``repr`` is already Go's shortest form for the
    usual numbers, only its ``.0``, exponents and specials need fixing.

    Example::

        >>> format_values([2.0, 0.5, float("inf")])
        ['2', '0.5', '+Inf']
    """
    out = [repr(v) for v in values]
    for i, text in enumerate(out):
        if text.endswith(".0"):
            out[i] = text[:-2]
        elif "e" in text or "n" in text:
            out[i] = format_value(values[i])
    return out
