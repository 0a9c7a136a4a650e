"""RFC 3339 timestamps to Unix nanoseconds, exactly (no float rounding), on every Python
the package supports (3.10's ``fromisoformat`` takes neither ``Z`` nor nanoseconds)."""

from __future__ import annotations

import datetime as dt
import re

__all__ = ["format_rfc3339_ns", "rfc3339_ns"]

_RFC3339 = re.compile(
    r"^(\d{4}-\d{2}-\d{2})[Tt ](\d{2}:\d{2}:\d{2})(?:\.(\d+))?([Zz]|[+-]\d{2}:\d{2})?$"
)
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)


def rfc3339_ns(value: str) -> int:
    """``2024-12-03T10:00:00.123456789Z`` in nanoseconds since the epoch (UTC when no
    offset is given); ``ValueError`` for anything else.

    Example::

        >>> rfc3339_ns("1970-01-01T00:00:01.000000002Z")
        1000000002
        >>> rfc3339_ns("1970-01-01T01:00:00+01:00")
        0
    """
    m = _RFC3339.match(value.strip())
    if m is None:
        raise ValueError(f"{value[:40]!r} is not an RFC 3339 time")
    date, clock, fraction, zone = m.groups()
    if zone in (None, "Z", "z"):
        zone = "+00:00"
    moment = dt.datetime.fromisoformat(f"{date}T{clock}{zone}")
    whole = (moment - _EPOCH) // dt.timedelta(seconds=1)
    nanos = int((fraction or "0")[:9].ljust(9, "0"))
    return int(whole * 10**9 + nanos)


def format_rfc3339_ns(ns: int) -> str:
    """Nanoseconds since the epoch as Go's RFC3339Nano (how Prometheus and Alertmanager
    write times), exact to the nanosecond.

    Example::

        >>> format_rfc3339_ns(1_704_067_200_123_456_789), format_rfc3339_ns(10**9)
        ('2024-01-01T00:00:00.123456789Z', '1970-01-01T00:00:01Z')
    """
    seconds, nanos = divmod(int(ns), 10**9)
    text = (_EPOCH + dt.timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%S")
    fraction = f"{nanos:09d}".rstrip("0")
    return f"{text}.{fraction}Z" if fraction else f"{text}Z"
