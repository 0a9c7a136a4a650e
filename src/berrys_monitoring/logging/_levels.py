"""Log levels: the seed's ``LogLevel`` and the one place that parses a level setting."""

from __future__ import annotations

import logging
from enum import IntEnum

__all__ = ["LogLevel", "level_name", "parse_level"]


class LogLevel(IntEnum):
    """The log levels, equal to the stdlib's numbers so both can be mixed freely.

    Example::

        >>> from berrys_monitoring.logging import LogLevel
        >>> LogLevel.INFO == 20
        True
    """

    DEBUG = logging.DEBUG
    INFO = logging.INFO
    WARNING = logging.WARNING
    ERROR = logging.ERROR
    CRITICAL = logging.CRITICAL


# Lower-case names are what Loki/Grafana and most JSON log pipelines detect as a level.
_NAMES = {
    logging.DEBUG: "debug",
    logging.INFO: "info",
    logging.WARNING: "warning",
    logging.ERROR: "error",
    logging.CRITICAL: "critical",
}


def level_name(levelno: int) -> str:
    """The lower-case name written in the ``level`` field of a line."""
    name = _NAMES.get(levelno)
    if name is None:
        name = logging.getLevelName(levelno).lower().replace(" ", "_")
    return name


def parse_level(level: LogLevel | int | str) -> int:
    """A level number from a ``LogLevel``, an int or a name; ``ValueError`` otherwise.

    Raised at configuration time so a typo such as ``"inf"`` fails loudly, not silently.
    """
    if isinstance(level, bool):
        raise ValueError(f"invalid log level {level!r}")
    if isinstance(level, int):
        if level < 0:
            raise ValueError(f"invalid log level {level!r}: must be >= 0")
        return int(level)
    if isinstance(level, str):
        key = level.strip().upper()
        if key == "WARN":
            key = "WARNING"
        if key in LogLevel.__members__:
            return int(LogLevel[key])
        if key.isdigit():
            return int(key)
    raise ValueError(
        f"invalid log level {level!r}: use LogLevel.DEBUG/INFO/WARNING/ERROR/CRITICAL, "
        "a level name such as 'info', or a number"
    )
