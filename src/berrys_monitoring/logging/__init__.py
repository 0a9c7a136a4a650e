"""Structured logging: JSON lines with context, trace correlation and redaction.

Built on the stdlib ``logging`` module, so libraries and servers (uvicorn, gunicorn,
httpx, sqlalchemy) write the same format as the application.

Example::

    from berrys_monitoring.logging import configure_logging, get_logger, LogLevel
    configure_logging(level=LogLevel.INFO, json_format=True, service_name="api-gateway")
    get_logger(__name__).info("Processing request", extra={"request_id": "123"})
"""

from __future__ import annotations

from berrys_monitoring.logging._capture import capture_logs
from berrys_monitoring.logging._config import configure_logging, flush_logging, is_configured
from berrys_monitoring.logging._context import (
    ContextToken,
    bind_context,
    bound_context,
    clear_context,
    get_context,
    reset_context,
    run_in_executor,
    unbind_context,
    wrap_context,
)
from berrys_monitoring.logging._formatters import ConsoleFormatter, JSONFormatter
from berrys_monitoring.logging._handlers import SafeFileHandler, SafeStreamHandler, guard_handlers
from berrys_monitoring.logging._levels import LogLevel
from berrys_monitoring.logging._logger import Logger, get_logger, get_request_logger
from berrys_monitoring.logging._redact import MASK, Redactor
from berrys_monitoring.logging._servers import adopt_server_loggers, uvicorn_log_config

__all__ = [
    "MASK",
    "ConsoleFormatter",
    "ContextToken",
    "JSONFormatter",
    "LogLevel",
    "Logger",
    "Redactor",
    "SafeFileHandler",
    "SafeStreamHandler",
    "adopt_server_loggers",
    "bind_context",
    "bound_context",
    "capture_logs",
    "clear_context",
    "configure_logging",
    "flush_logging",
    "get_context",
    "get_logger",
    "get_request_logger",
    "guard_handlers",
    "is_configured",
    "reset_context",
    "run_in_executor",
    "unbind_context",
    "uvicorn_log_config",
    "wrap_context",
]
