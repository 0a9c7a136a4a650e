"""Hand-built OTLP requests for the hub's tests."""

from __future__ import annotations

import os
import time

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord, ResourceLogs, ScopeLogs
from opentelemetry.proto.resource.v1.resource_pb2 import Resource
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span

PROTOBUF = {"Content-Type": "application/x-protobuf"}


def kv(key: str, value: str) -> KeyValue:
    return KeyValue(key=key, value=AnyValue(string_value=value))


def resource(service: str) -> Resource:
    return Resource(attributes=[kv("service.name", service)])


def spans_request(
    service: str, n: int = 3, *, trace_id: bytes | None = None, error: bool = False
) -> ExportTraceServiceRequest:
    """One trace of ``n`` spans: a root and its children, 10 ms each."""
    tid = trace_id or os.urandom(16)
    now = time.time_ns()
    root = os.urandom(8)
    spans = []
    for i in range(n):
        span = Span(
            trace_id=tid,
            span_id=root if i == 0 else os.urandom(8),
            parent_span_id=b"" if i == 0 else root,
            name="GET /orders" if i == 0 else f"query-{i}",
            kind=Span.SPAN_KIND_SERVER if i == 0 else Span.SPAN_KIND_INTERNAL,
            start_time_unix_nano=now + i * 1000,
            end_time_unix_nano=now + i * 1000 + 10_000_000,
            attributes=[kv("http.route", "/orders")] if i == 0 else [],
        )
        if error and i == n - 1:
            span.status.code = 2
            span.status.message = "boom"
        spans.append(span)
    return ExportTraceServiceRequest(
        resource_spans=[
            ResourceSpans(resource=resource(service), scope_spans=[ScopeSpans(spans=spans)])
        ]
    )


def logs_request(service: str, bodies: list[str], *, severity: int = 9) -> ExportLogsServiceRequest:
    now = time.time_ns()
    records = [
        LogRecord(
            time_unix_nano=now + i,
            severity_number=severity,  # type: ignore[arg-type]
            body=AnyValue(string_value=body),
            attributes=[kv("seq", str(i))],
        )
        for i, body in enumerate(bodies)
    ]
    return ExportLogsServiceRequest(
        resource_logs=[
            ResourceLogs(resource=resource(service), scope_logs=[ScopeLogs(log_records=records)])
        ]
    )
