"""The two output formats: JSON lines for production, a readable line for development."""

from __future__ import annotations

import logging
from typing import Any

import orjson

from berrys_monitoring.logging._jsonline import _OPTS, _default, render_json
from berrys_monitoring.logging._render import render

__all__ = ["ConsoleFormatter", "JSONFormatter"]


class JSONFormatter(logging.Formatter):
    """Formats any record, ours or a third party's, as one redacted JSON object.

    Example::

        import logging, sys
        from berrys_monitoring.logging import JSONFormatter
        handler = logging.StreamHandler(sys.stdout)
        handler.setFormatter(JSONFormatter())
    """

    def format(self, record: logging.LogRecord) -> str:
        # Several handlers (console + file) share one rendering of the record.
        d = record.__dict__
        line = d.get("_berrys_json")
        if line is None:
            line = d["_berrys_json"] = render_json(record)
        return str(line)


_COLOURS = {
    "debug": "\x1b[2m",
    "info": "\x1b[32m",
    "warning": "\x1b[33m",
    "error": "\x1b[31m",
    "critical": "\x1b[1;41m",
}
_RESET = "\x1b[0m"
_DIM = "\x1b[2m"
_HEAD = ("timestamp", "level", "logger", "message", "exception", "stack")


def _show(v: Any) -> str:
    if isinstance(v, str):
        return v if v and " " not in v and '"' not in v else orjson.dumps(v).decode()
    try:
        return orjson.dumps(v, default=_default, option=_OPTS).decode()
    except Exception:
        return repr(v)


class ConsoleFormatter(logging.Formatter):
    """A human line: ``time level logger: message key=value …``, coloured on a terminal.

    The same fields and the same redaction as the JSON format.

    Example::

        import logging, sys
        from berrys_monitoring.logging import ConsoleFormatter
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(ConsoleFormatter(colour=sys.stderr.isatty()))
    """

    def __init__(self, colour: bool = False) -> None:
        super().__init__()
        self.colour = colour

    def format(self, record: logging.LogRecord) -> str:
        ev = render(record)
        level = ev["level"]
        ts = ev["timestamp"].replace("T", " ")[:-1]
        rest = " ".join(f"{k}={_show(v)}" for k, v in ev.items() if k not in _HEAD)
        if self.colour:
            c = _COLOURS.get(level, "")
            line = f"{_DIM}{ts}{_RESET} {c}{level:<8}{_RESET} {ev['logger']}: {ev['message']}"
            if rest:
                line += f"  {_DIM}{rest}{_RESET}"
        else:
            line = f"{ts} {level:<8} {ev['logger']}: {ev['message']}"
            if rest:
                line += f"  {rest}"
        exc = ev.get("exception")
        if exc:
            line += "\n" + exc["stack"].rstrip("\n")
        if "stack" in ev:
            line += "\n" + str(ev["stack"]).rstrip("\n")
        return line
