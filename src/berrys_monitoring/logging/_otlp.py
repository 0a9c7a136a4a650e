"""Optional OTLP export: the same (redacted) lines as OpenTelemetry log records.

``configure_logging(otlp_endpoint="http://127.0.0.1:4318")`` adds a handler that sends
every line, over OTLP/HTTP, to an OpenTelemetry Collector, Loki's OTLP endpoint or the
hub, alongside the JSON lines. Export runs on the SDK's batch worker thread: a slow or
dead collector costs the application only the records it drops, and failures are
counted and reported once, never raised.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

import orjson

from berrys_monitoring._compat.opentelemetry import logs_sdk
from berrys_monitoring._internal import (
    after_fork_in_child,
    quiet_otlp_exporter_logs,
    report_internal_error,
)
from berrys_monitoring.logging._render import render

__all__ = ["OTLPLogHandler", "resolve_logs_endpoint"]

_SEVERITY = {10: 5, 20: 9, 30: 13, 40: 17, 50: 21}  # OTel SeverityNumber DEBUG..FATAL
# Fields that are the log record's own parts (or resource attributes), not attributes.
_NOT_ATTRIBUTES = frozenset(
    {"timestamp", "level", "message", "service", "environment", "version"}
    | {"trace_id", "span_id", "exception", "logger"}
)


def resolve_logs_endpoint(endpoint: str) -> str:
    """The full ``/v1/logs`` URL for a collector base URL; ``ValueError`` if malformed."""
    parts = urlsplit(endpoint)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(
            f"otlp_endpoint must be an http(s) URL such as 'http://127.0.0.1:4318', got {endpoint!r}"
        )
    if parts.path.rstrip("/").endswith("/v1/logs"):
        return endpoint
    return endpoint.rstrip("/") + "/v1/logs"


def _attribute(v: Any) -> Any:
    if isinstance(v, (str, bool, int, float)):
        return v
    if isinstance(v, list) and all(isinstance(x, str) for x in v):
        return v
    return orjson.dumps(v, default=str).decode()  # OTLP attributes are flat


class _SafeExporter:
    """The OTLP exporter, re-created after fork, its failures counted and reported once."""

    def __init__(self, factory: Callable[[], Any], url: str) -> None:
        self._factory = factory
        self._url = url
        self._inner = factory()
        after_fork_in_child(self._after_fork)

    def _after_fork(self) -> None:
        try:
            self._inner = self._factory()  # its HTTP connections belong to the parent
        except Exception as exc:
            report_internal_error("logging", exc, "cannot re-create the OTLP log exporter")

    def export(self, batch: Sequence[Any]) -> Any:
        try:
            result = self._inner.export(batch)
        except Exception as exc:
            report_internal_error("logging", exc, f"OTLP log export to {self._url} raised")
            return logs_sdk().LogRecordExportResult.FAILURE
        if result != logs_sdk().LogRecordExportResult.SUCCESS:
            report_internal_error(
                "logging", None, f"OTLP log export to {self._url} failed", key="otlp-export"
            )
        return result

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return True

    def shutdown(self) -> None:
        try:
            self._inner.shutdown()
        except Exception:
            pass


class OTLPLogHandler(logging.Handler):
    """Sends records as OTLP log records (body, severity, attributes, trace context).

    Installed by ``configure_logging(otlp_endpoint=...)``.

    Example::

        from berrys_monitoring.logging import configure_logging
        configure_logging(service_name="api", otlp_endpoint="http://127.0.0.1:4318")
    """

    never_raises = True  # left alone by guard_handlers()

    def __init__(
        self,
        endpoint: str,
        *,
        resource: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float = 5.0,
        schedule_delay: float = 1.0,
    ) -> None:
        super().__init__()
        from opentelemetry.sdk.resources import Resource

        sdk = logs_sdk()
        OTLPLogExporter = sdk.OTLPLogExporter
        if OTLPLogExporter is None:  # pragma: no cover - the extra is installed in tests
            raise ImportError(
                "otlp_endpoint needs the OTLP exporter: pip install 'berrys-monitoring[otlp]'"
            )
        quiet_otlp_exporter_logs("logging")
        url = resolve_logs_endpoint(endpoint)
        hdrs = dict(headers) if headers else None
        self._record_type = sdk.LogRecord
        self._provider = sdk.LoggerProvider(resource=Resource.create(dict(resource or {})))
        exporter = _SafeExporter(
            lambda: OTLPLogExporter(endpoint=url, headers=hdrs, timeout=timeout), url
        )
        self._provider.add_log_record_processor(
            sdk.BatchLogRecordProcessor(
                exporter,  # type: ignore[arg-type]
                schedule_delay_millis=schedule_delay * 1000,
            )
        )
        self._logger = self._provider.get_logger("berrys_monitoring.logging")

    def emit(self, record: logging.LogRecord) -> None:
        if record.name.startswith("opentelemetry"):
            return  # the exporter's own complaints must not feed the exporter
        try:
            ev = render(record)
            attrs = {k: _attribute(v) for k, v in ev.items() if k not in _NOT_ATTRIBUTES}
            attrs["logger.name"] = record.name
            exc = ev.get("exception")
            if exc:
                attrs["exception.type"] = exc["type"]
                attrs["exception.message"] = exc["message"]
                attrs["exception.stacktrace"] = exc["stack"]
            trace_id = span_id = None
            flags = None
            trace = record.__dict__.get("_berrys_trace")
            if trace is not None:
                from opentelemetry.trace import TraceFlags

                trace_id, span_id = int(trace[0], 16), int(trace[1], 16)
                flags = TraceFlags(TraceFlags.SAMPLED if trace[2] else TraceFlags.DEFAULT)
            self._logger.emit(
                self._record_type(
                    timestamp=int(record.created * 1e9),
                    observed_timestamp=time.time_ns(),
                    trace_id=trace_id,
                    span_id=span_id,
                    trace_flags=flags,
                    severity_text=record.levelname,
                    severity_number=_severity(record.levelno),
                    body=ev["message"],
                    attributes=attrs,
                )
            )
        except Exception as exc:
            report_internal_error("logging", exc, "cannot queue an OTLP log record", key="otlp")

    def flush(self, timeout: float = 5.0) -> None:
        try:
            self._provider.force_flush(int(timeout * 1000))
        except Exception as exc:
            report_internal_error("logging", exc, "cannot flush OTLP log records", key="otlp")

    def close(self) -> None:
        """Flush, but keep sending: the stdlib closes every handler it knows when anyone
        calls ``logging.config.dictConfig`` (``uvicorn.run`` does, after our set-up) and
        the handler stays on the root logger. :meth:`shutdown` is the real end."""
        self.flush()
        super().close()

    def shutdown(self) -> None:
        """Send what is queued and stop the exporter (``configure_logging`` replacing
        this handler)."""
        try:
            self._provider.shutdown()
        except Exception:
            pass
        super().close()


def _severity(levelno: int) -> Any:
    n = _SEVERITY.get(levelno)
    if n is None:  # custom levels: the nearest standard one below
        n = max((v for k, v in _SEVERITY.items() if k <= levelno), default=1)
    return logs_sdk().SeverityNumber(n)
