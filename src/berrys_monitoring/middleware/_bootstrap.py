"""Defaults for a service that called ``setup_monitoring`` and nothing else.

Whatever the user configured first is kept: we only fill in what is missing, so calling
``configure_logging``/``configure_tracing`` yourself (before or after) always wins.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from berrys_monitoring._internal import hub_auth_headers, report_internal_error
from berrys_monitoring.middleware._hub import HUB_ENV, check_url
from berrys_monitoring.middleware._options import MonitoringOptions

__all__ = ["configure_defaults", "silence_server_access_logs", "tracing_configured"]

_OTLP_ENV = ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT")


def tracing_configured() -> bool:
    """True when someone (us or the user) installed a real tracer provider."""
    from berrys_monitoring.tracing import is_configured

    return is_configured()


def logging_configured() -> bool:
    """True when the process already has logging set up (root handlers exist)."""
    try:
        from berrys_monitoring import logging as blog

        probe = getattr(blog, "is_configured", None)
        if callable(probe):
            return bool(probe())
    except ImportError:  # pragma: no cover
        pass
    return bool(logging.getLogger().handlers)


def default_exporter() -> str:
    """``OTEL_TRACES_EXPORTER`` when set; else OTLP when the standard endpoint variables
    say where; else "none".

    Without a configured collector, spans are still created (trace ids reach the logs and
    the ``X-Trace-Id`` header, and propagate to downstream services) but nothing is sent:
    exporting by default to a collector that is not there would only cost CPU.
    """
    if os.environ.get("OTEL_TRACES_EXPORTER"):
        return os.environ["OTEL_TRACES_EXPORTER"]  # checked by configure_tracing
    return "otlp" if any(os.environ.get(k) for k in _OTLP_ENV) else "none"


def configure_defaults(opts: MonitoringOptions) -> None:
    """Configure logging and tracing for ``opts.service_name`` unless already configured;
    with a hub (``hub_url`` or its variable), both send to it over OTLP."""
    hub = opts.hub_url or os.environ.get(HUB_ENV) or None
    hub_headers = hub_auth_headers() if hub else None
    if not logging_configured():
        from berrys_monitoring.logging import configure_logging

        kwargs: dict[str, Any] = {
            "json_format": True,
            "log_to_console": True,
            "service_name": opts.service_name,
        }
        if opts.environment:
            kwargs["environment"] = opts.environment
        if opts.version:
            kwargs["version"] = opts.version
        if hub:
            kwargs["otlp_endpoint"] = check_url("hub_url", hub)
            kwargs["otlp_headers"] = hub_headers
        configure_logging(**kwargs)
    if opts.enable_tracing and not tracing_configured():
        from berrys_monitoring.tracing import configure_tracing

        configure_tracing(
            opts.service_name,
            exporter="otlp" if hub else default_exporter(),
            endpoint=check_url("hub_url", hub) if hub else None,
            headers=hub_headers,
            sample_rate=1.0 if opts.sample_rate is None else opts.sample_rate,
            environment=opts.environment,
            version=opts.version,
        )


def silence_server_access_logs() -> None:
    """Keep uvicorn's and gunicorn's access lines out, so each request logs once."""
    try:
        from berrys_monitoring.logging._servers import silence_access_logger

        for name in ("uvicorn.access", "gunicorn.access"):
            silence_access_logger(name)
    except Exception as exc:  # pragma: no cover - defensive
        report_internal_error("middleware", exc, "cannot silence server access logs")
