"""``configure_logging``: the root logger, our handlers, and the servers' own loggers."""

from __future__ import annotations

import logging
import os
import re
import sys
import threading
from collections.abc import Iterable, Mapping
from typing import IO, Any

from berrys_monitoring._internal import HUB_URL_ENV, hub_auth_headers
from berrys_monitoring._shutdown import flush_on_sigterm, on_flush
from berrys_monitoring.logging._formatters import ConsoleFormatter, JSONFormatter
from berrys_monitoring.logging._handlers import SafeFileHandler, SafeStreamHandler, guard_handlers
from berrys_monitoring.logging._levels import LogLevel, parse_level
from berrys_monitoring.logging._redact import DEFAULT_ALLOW_KEYS, DEFAULT_REDACT_KEYS, Redactor
from berrys_monitoring.logging._render import Settings, install
from berrys_monitoring.logging._servers import adopt_server_loggers

__all__ = ["configure_logging", "flush_logging", "is_configured"]

# The handlers the last configure_logging() installed on the root logger; replaced on
# the next call so reconfiguring never duplicates lines. Handlers added by others
# (pytest's caplog, a user's own) are left alone.
_installed: list[logging.Handler] = []
_lock = threading.Lock()
# configure_logging(log_to_console=False) with no file is still "configured".
_configured_without_handlers = [False]
# Loggers whose level the last call set (``levels=``): reset before the next one applies.
_leveled: list[str] = []


def configure_logging(
    level: LogLevel | int | str = LogLevel.INFO,
    json_format: bool = True,
    log_to_console: bool = True,
    log_file: str | os.PathLike[str] | None = None,
    service_name: str | None = None,
    environment: str | None = None,
    version: str | None = None,
    *,
    stream: IO[str] | None = None,
    colour: bool | None = None,
    max_bytes: int = 10 * 1024 * 1024,
    backup_count: int = 5,
    redact: bool = True,
    redact_keys: Iterable[str] = (),
    redact_patterns: Iterable[str | re.Pattern[str]] = (),
    allow_keys: Iterable[str] = (),
    levels: Mapping[str, LogLevel | int | str] | None = None,
    static_fields: Mapping[str, Any] | None = None,
    include_caller: bool = False,
    adopt_servers: bool = True,
    capture_warnings: bool = True,
    otlp_endpoint: str | None = None,
    otlp_headers: Mapping[str, str] | None = None,
    otlp_timeout: float = 5.0,
) -> None:
    """Configure logging for the whole process (the stdlib root logger).

    Every logger, ours and third-party ones, then writes the same format. Calling it
    again replaces the previous configuration (no duplicated lines). Invalid settings
    raise ``ValueError`` here, never later when logging.

    * ``json_format``: JSON lines on the console (production); ``False`` prints a human
      line, coloured when the stream is a terminal (``colour=`` forces it). Files are
      always JSON lines: they are read by machines.
    * ``log_file``: also append JSON lines to this file, rotated at ``max_bytes``
      (``0``: never) keeping ``backup_count`` old files; reopened if removed.
    * ``service_name`` (default ``$OTEL_SERVICE_NAME``), ``environment``, ``version``
      and ``static_fields`` are written on every line.
    * ``stream``: the console stream (default ``sys.stdout``).
    * ``redact`` (on by default), ``redact_keys`` / ``redact_patterns`` (added to the
      defaults), ``allow_keys`` (field names never redacted).
    * ``levels``: per-logger levels, e.g. ``{"httpx": "warning"}``.
    * ``include_caller``: add ``caller`` (module:function:line); costs a stack walk.
    * ``adopt_servers``: route uvicorn/gunicorn loggers through this configuration.
    * ``capture_warnings``: ``warnings.warn`` messages become log lines.
    * ``otlp_endpoint``: also send every line as an OTLP log record to this collector
      (e.g. ``http://127.0.0.1:4318``; ``/v1/logs`` is appended), with ``otlp_headers``;
      by default the hub's ``$BERRYS_MONITORING_HUB_URL`` when it is set;
      ``otlp_timeout`` bounds each export (seconds, retries included).

    Example::

        from berrys_monitoring.logging import configure_logging, LogLevel
        configure_logging(level=LogLevel.INFO, json_format=True, service_name="api-gateway")
    """
    if otlp_endpoint is None:
        otlp_endpoint = os.environ.get(HUB_URL_ENV) or None
        if otlp_endpoint and otlp_headers is None:
            otlp_headers = hub_auth_headers()
    lvl = parse_level(level)
    per_logger = {name: parse_level(v) for name, v in (levels or {}).items()}
    if max_bytes < 0 or backup_count < 0:
        raise ValueError("max_bytes and backup_count must be >= 0")
    if otlp_timeout <= 0:
        raise ValueError("otlp_timeout must be > 0 seconds")
    if stream is not None and not callable(getattr(stream, "write", None)):
        raise ValueError(f"stream must be a writable text stream, got {stream!r}")
    if isinstance(redact_keys, str) or isinstance(allow_keys, str):
        raise ValueError("redact_keys and allow_keys take a list of names, not one string")
    if isinstance(redact_patterns, (str, re.Pattern)):
        redact_patterns = [redact_patterns]
    redactor = Redactor(
        keys=(*DEFAULT_REDACT_KEYS, *redact_keys),
        patterns=redact_patterns,
        allow_keys=(*DEFAULT_ALLOW_KEYS, *allow_keys),
        enabled=redact,
    )
    static: dict[str, Any] = {
        "service": service_name or os.environ.get("OTEL_SERVICE_NAME") or "unknown_service"
    }
    if environment:
        static["environment"] = environment
    if version:
        static["version"] = version
    for k, v in (static_fields or {}).items():
        static.setdefault(k, v)
    static = redactor.fields(static)

    # Build every new handler before touching the old ones: a bad log_file leaves the
    # previous configuration working.
    handlers: list[logging.Handler] = []
    if log_to_console:
        out = stream if stream is not None else sys.stdout
        console = SafeStreamHandler(out)
        if json_format:
            console.setFormatter(JSONFormatter())
        else:
            tty = colour if colour is not None else _isatty(out)
            console.setFormatter(ConsoleFormatter(colour=tty))
        handlers.append(console)
    if log_file is not None:
        fh = SafeFileHandler(log_file, max_bytes=max_bytes, backup_count=backup_count)
        fh.setFormatter(JSONFormatter())
        handlers.append(fh)
    if otlp_endpoint is not None:
        from berrys_monitoring.logging._otlp import OTLPLogHandler, resolve_logs_endpoint

        resolve_logs_endpoint(otlp_endpoint)  # a malformed URL raises before any change
        resource = {"service.name": str(static["service"])}
        if environment:
            resource["deployment.environment.name"] = environment
            resource["deployment.environment"] = environment  # the pre-1.27 semconv name
        if version:
            resource["service.version"] = version
        try:
            handlers.append(
                OTLPLogHandler(
                    otlp_endpoint, resource=resource, headers=otlp_headers, timeout=otlp_timeout
                )
            )
        except BaseException:
            for h in handlers:
                _retire(h)
            raise

    root = logging.getLogger()
    with _lock:
        # New handlers go in before the old ones leave, so a line logged by another
        # thread meanwhile is never lost to the stdlib's bare "last resort" handler.
        old, _installed[:] = list(_installed), handlers
        _configured_without_handlers[0] = not handlers
        install(Settings(static=static, redactor=redactor, include_caller=include_caller))
        for h in handlers:
            root.addHandler(h)
        for h in old:
            root.removeHandler(h)
            _retire(h)
        root.setLevel(lvl)
        for name in _leveled:
            logging.getLogger(name).setLevel(logging.NOTSET)
        _leveled[:] = per_logger
        for name, v in per_logger.items():
            logging.getLogger(name).setLevel(v)
        if adopt_servers:
            adopt_server_loggers()
        logging.captureWarnings(capture_warnings)
    guard_handlers()
    if otlp_endpoint is not None:
        flush_on_sigterm()


def is_configured() -> bool:
    """True once :func:`configure_logging` has installed its handlers in this process.

    Lets integrations (``setup_monitoring``) configure logging only when the application
    has not done it itself.

    Example::

        >>> from berrys_monitoring.logging import is_configured
        >>> isinstance(is_configured(), bool)
        True
    """
    return bool(_installed) or _configured_without_handlers[0]


def _retire(handler: logging.Handler) -> None:
    """A handler of ours that is being replaced: closed for good (the OTLP handler's
    ``close`` keeps sending, see there)."""
    getattr(handler, "shutdown", handler.close)()


def flush_logging(timeout: float = 5.0) -> None:
    """Write out everything buffered: streams, files, and pending OTLP log records.

    Call it before a short-lived process exits (a CLI, a job, a serverless handler).

    Example::

        >>> from berrys_monitoring.logging import flush_logging
        >>> flush_logging()
    """
    for h in list(_installed):
        try:
            if type(h).__name__ == "OTLPLogHandler":
                h.flush(timeout)  # type: ignore[call-arg]
            else:
                h.flush()
        except Exception:
            pass


@on_flush
def _flush_before_stop() -> None:
    # Bounded like the tracing hook: a dead collector must not hold up the exit.
    flush_logging(timeout=2.0)


def _isatty(stream: Any) -> bool:
    try:
        return bool(stream.isatty()) and os.environ.get("NO_COLOR") is None
    except Exception:
        return False
