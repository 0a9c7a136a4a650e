"""Durations as Prometheus and Alertmanager write them: ``1h30m``, ``5m``, ``250ms``."""

from __future__ import annotations

import re

__all__ = ["format_duration", "parse_duration"]

_PART = re.compile(r"(\d+)(ms|y|w|d|h|m|s)")
_UNITS = {
    "y": 365 * 86400.0,
    "w": 7 * 86400.0,
    "d": 86400.0,
    "h": 3600.0,
    "m": 60.0,
    "s": 1.0,
    "ms": 0.001,
}
_ORDER = list(_UNITS)


def parse_duration(text: object) -> float:
    """Seconds in a Prometheus duration; units from largest to smallest, each once.
    ``ValueError`` names what is wrong.

    Example::

        >>> parse_duration("1h30m"), parse_duration("250ms"), parse_duration("0")
        (5400.0, 0.25, 0.0)
    """
    s = str(text).strip()
    if s == "0":
        return 0.0
    pos, total, last = 0, 0.0, -1
    for m in _PART.finditer(s):
        if m.start() != pos:
            break
        rank = _ORDER.index(m.group(2))
        if rank <= last:
            raise ValueError(f"not a valid duration string: {s!r} (units out of order)")
        last, pos = rank, m.end()
        total += int(m.group(1)) * _UNITS[m.group(2)]
    if pos != len(s) or not s:
        raise ValueError(f"not a valid duration string: {s!r} (examples: 30s, 5m, 1h30m)")
    return total


def format_duration(seconds: float) -> str:
    """The shortest Prometheus duration for ``seconds`` (as Prometheus prints them).

    Example::

        >>> format_duration(5400), format_duration(0.25), format_duration(0)
        ('1h30m', '250ms', '0s')
    """
    ms = round(seconds * 1000)
    if ms == 0:
        return "0s"
    out = []
    for unit in _ORDER:
        size = round(_UNITS[unit] * 1000)
        if ms >= size:
            out.append(f"{ms // size}{unit}")
            ms %= size
    return "".join(out)
