"""Distributed tracing on OpenTelemetry: a decorator, a tracer, W3C propagation, OTLP export.

Example::

    from berrys_monitoring.tracing import configure_tracing, trace, tracer, SpanKind

    configure_tracing("api-gateway", exporter="otlp", endpoint="http://127.0.0.1:4318")

    @trace("process_request")
    def process_request(request_data): ...

    with tracer.start_as_current_span("operation_name", kind=SpanKind.SERVER) as span:
        span.set_attribute("key", "value")
"""

from __future__ import annotations

from opentelemetry.trace import SpanKind, get_current_span

from berrys_monitoring.tracing._configure import (
    configure_tracing,
    force_flush,
    is_configured,
    shutdown_tracing,
)
from berrys_monitoring.tracing._decorator import trace
from berrys_monitoring.tracing._http_clients import (
    instrument_http_clients,
    uninstrument_http_clients,
)
from berrys_monitoring.tracing._propagation import (
    extract_context_from_headers,
    inject_context_into_headers,
)
from berrys_monitoring.tracing._switch import tracer
from berrys_monitoring.tracing._testing import CapturedSpans, capture_spans

__all__ = [
    "CapturedSpans",
    "SpanKind",
    "capture_spans",
    "configure_tracing",
    "extract_context_from_headers",
    "force_flush",
    "get_current_span",
    "inject_context_into_headers",
    "instrument_http_clients",
    "is_configured",
    "shutdown_tracing",
    "trace",
    "tracer",
    "uninstrument_http_clients",
]
