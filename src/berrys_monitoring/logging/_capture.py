"""``capture_logs()``: the lines your code writes, as dicts, for your tests."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import orjson

from berrys_monitoring.logging._formatters import JSONFormatter
from berrys_monitoring.logging._levels import LogLevel, parse_level

__all__ = ["capture_logs"]


class _CaptureHandler(logging.Handler):
    def __init__(self, sink: list[dict[str, Any]]) -> None:
        super().__init__()
        self.sink = sink
        self.setFormatter(JSONFormatter())

    def emit(self, record: logging.LogRecord) -> None:
        # Through the real formatter and back: what is captured is exactly what a JSON
        # line would hold, redaction included.
        self.sink.append(orjson.loads(self.format(record)))


@contextmanager
def capture_logs(level: LogLevel | int | str | None = None) -> Iterator[list[dict[str, Any]]]:
    """Collect every line written in the block, as the dicts the JSON format would write.

    Records reach it through the root logger, so loggers with ``propagate=False`` are not
    seen. ``level`` lowers the root level for the block (e.g. ``"debug"``); by default
    the configured levels apply.

    Example::

        >>> from berrys_monitoring.logging import capture_logs, get_logger
        >>> with capture_logs(level="info") as lines:
        ...     get_logger("shop").info("paid", extra={"amount": 3})
        >>> lines[0]["message"], lines[0]["amount"]
        ('paid', 3)
    """
    root = logging.getLogger()
    sink: list[dict[str, Any]] = []
    handler = _CaptureHandler(sink)
    old = root.level
    if level is not None:
        root.setLevel(parse_level(level))
    root.addHandler(handler)
    try:
        yield sink
    finally:
        root.removeHandler(handler)
        if level is not None:
            root.setLevel(old)
