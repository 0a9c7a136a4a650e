"""Telemetry for the trace and dashboard page tests: traces sent with the official
OpenTelemetry SDK and OTLP exporter (their log lines as OTLP/JSON), and request metrics
sent with the SDK's OTLP metric exporter."""

from __future__ import annotations

import logging
from typing import Any

import httpx


def send_trace(
    hub_url: str,
    *,
    spans: int = 6,
    fanout: int = 100,
    service: str = "checkout",
    names: dict[int, str] | None = None,
    attributes: dict[int, dict[str, Any]] | None = None,
    logs: bool = True,
) -> str:
    """One trace of ``spans`` spans over three services, sent by the official OTLP/HTTP
    exporter (and its log records by the OTLP log exporter); returns its trace id.

    Span ``k`` (0 is the root) is a child of span ``(k - 1) // fanout``, so a large trace
    is a wide, two- or three-level tree as a real fan-out request makes."""
    from opentelemetry import trace as trace_api
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    names = names or {}
    attributes = attributes or {}
    services = [service, "users", "db"]
    providers = {
        s: TracerProvider(
            resource=Resource.create({"service.name": s, "deployment.environment": "test"})
        )
        for s in services
    }
    for provider in providers.values():
        provider.add_span_processor(
            BatchSpanProcessor(
                OTLPSpanExporter(endpoint=f"{hub_url}/v1/traces"), max_export_batch_size=2048,
                max_queue_size=max(4096, spans * 2),
            )
        )  # fmt: skip
    records: list[dict[str, Any]] = []
    import time

    t0 = time.time_ns() - 5_000_000_000
    made: list[Any] = []
    for k in range(spans):
        svc = services[0] if k == 0 else services[1 + (k % 2)]
        tracer = providers[svc].get_tracer("webtrace-tests")
        parent = made[(k - 1) // fanout] if k else None
        ctx = trace_api.set_span_in_context(parent) if parent is not None else None
        start = t0 + k * 200_000
        kind = trace_api.SpanKind.SERVER if k == 0 else trace_api.SpanKind.CLIENT
        span = tracer.start_span(
            names.get(k, f"op-{k}" if k else "POST /checkout"),
            context=ctx,
            kind=kind,
            start_time=start,
            attributes={"k": k, **attributes.get(k, {})},
        )
        if k == 3:
            span.add_event("cache miss", {"key": "user:42"}, timestamp=start + 10_000)
            span.record_exception(ValueError("card declined"), timestamp=start + 20_000)
            span.set_status(trace_api.Status(trace_api.StatusCode.ERROR, "card declined"))
        made.append(span)
        if logs and k in (0, 3):
            sc = span.get_span_context()
            error = k == 3
            records.append(
                {
                    "timeUnixNano": str(start + 30_000),
                    "traceId": format(sc.trace_id, "032x"),
                    "spanId": format(sc.span_id, "016x"),
                    "severityText": "ERROR" if error else "INFO",
                    "severityNumber": 17 if error else 9,
                    "body": {
                        "stringValue": f"log line of span {k}: "
                        + ("payment failed" if error else "checkout started")
                    },
                    "attributes": [{"key": "k", "value": {"intValue": str(k)}}],
                }
            )
    # end children before parents, each inside its parent's time
    for k in range(spans - 1, -1, -1):
        end = (
            t0 + k * 200_000 + 150_000 + (spans - k) * 1_000
            if k
            else t0 + spans * 200_000 + 500_000
        )
        made[k].end(end_time=end)
    trace_id = format(made[0].get_span_context().trace_id, "032x")
    for provider in providers.values():
        provider.force_flush()
        provider.shutdown()
    if records:  # log records as OTLP/JSON, the protocol's documented encoding
        resource = {"attributes": [{"key": "service.name", "value": {"stringValue": service}}]}
        body = {"resourceLogs": [{"resource": resource, "scopeLogs": [{"logRecords": records}]}]}
        httpx.post(f"{hub_url}/v1/logs", json=body, timeout=30).raise_for_status()
    logging.getLogger(__name__).debug("sent trace %s", trace_id)
    return trace_id


def send_metrics(
    hub_url: str, services: tuple[str, ...] = ("checkout", "users"), rounds: int = 4
) -> None:
    """Request counters and duration histograms, as the middleware names them, sent by the
    official OTLP metric exporter a few times a second apart, so that rate() has points."""
    import time

    from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
    from opentelemetry.sdk.resources import Resource

    providers = []
    instruments = []
    for service in services:
        reader = PeriodicExportingMetricReader(
            OTLPMetricExporter(endpoint=f"{hub_url}/v1/metrics"), export_interval_millis=3_600_000
        )
        provider = MeterProvider(
            resource=Resource.create({"service.name": service}), metric_readers=[reader]
        )
        meter = provider.get_meter("webtrace-tests")
        requests = meter.create_counter("http_requests", unit="{request}")
        duration = meter.create_histogram(
            "http_request_duration",
            unit="s",
            explicit_bucket_boundaries_advisory=[0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0],
        )
        providers.append(provider)
        instruments.append((requests, duration))
    for r in range(rounds):
        for n, (requests, duration) in enumerate(instruments):
            for i in range(20 + 10 * n):
                status = "500" if i % 10 == 0 else "200"
                route = ["/checkout", "/users/{id}", "/health"][i % 3]
                requests.add(1, {"method": "GET", "route": route, "status": status})
                duration.record(0.005 * (1 + i % 7) * (1 + n), {"method": "GET", "route": route})
        for provider in providers:
            provider.force_flush()
        if r < rounds - 1:
            time.sleep(1.0)
    for provider in providers:
        provider.shutdown()
