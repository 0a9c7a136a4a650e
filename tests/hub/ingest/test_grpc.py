"""OTLP/gRPC ingest into a real hub process, through the official gRPC exporters."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from opentelemetry.exporter.otlp.proto.grpc._log_exporter import OTLPLogExporter
from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import OTLPMetricExporter
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk._logs import LoggerProvider, LoggingHandler
from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExportResult
from tests.hub.conftest import RunningHub, start_hub
from tests.support.servers import free_port

TOKEN = "grpc-test-token"


@pytest.fixture(scope="module")
def grpc_hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningHub]:
    port = free_port()
    with start_hub(tmp_path_factory.mktemp("grpc-hub"), grpc_port=port, token=TOKEN) as hub:
        hub.grpc_port = port  # type: ignore[attr-defined]
        yield hub


def _endpoint(hub: RunningHub) -> str:
    return f"127.0.0.1:{hub.grpc_port}"  # type: ignore[attr-defined]


AUTH = (("authorization", f"Bearer {TOKEN}"),)


def test_grpc_exporters_send_traces_logs_and_metrics(grpc_hub: RunningHub) -> None:
    service = f"grpc-{uuid.uuid4().hex[:8]}"
    resource = Resource.create({"service.name": service})

    tracer_provider = TracerProvider(resource=resource)
    tracer_provider.add_span_processor(
        SimpleSpanProcessor(
            OTLPSpanExporter(endpoint=_endpoint(grpc_hub), insecure=True, headers=AUTH)
        )
    )
    with tracer_provider.get_tracer("t").start_as_current_span("GET /grpc") as span:
        trace_id = format(span.get_span_context().trace_id, "032x")
        logger_provider = LoggerProvider(resource=resource)
        logger_provider.add_log_record_processor(
            SimpleLogRecordProcessor(
                OTLPLogExporter(endpoint=_endpoint(grpc_hub), insecure=True, headers=AUTH)
            )
        )
        logger = logging.getLogger(f"grpc-{service}")
        logger.propagate = False
        logger.addHandler(LoggingHandler(logger_provider=logger_provider))
        logger.warning("sent over gRPC")
    tracer_provider.shutdown()
    logger_provider.shutdown()

    reader = PeriodicExportingMetricReader(
        OTLPMetricExporter(endpoint=_endpoint(grpc_hub), insecure=True, headers=AUTH),
        export_interval_millis=3_600_000,
    )
    meter_provider = MeterProvider(resource=resource, metric_readers=[reader])
    meter_provider.get_meter("m").create_counter("grpc.calls").add(4)
    meter_provider.shutdown()

    with grpc_hub.client() as client:
        spans = client.get(f"/api/v1/traces/{trace_id}").json()["spans"]
        assert [s["name"] for s in spans] == ["GET /grpc"]
        [record] = client.get("/api/v1/logs", params={"service": service}).json()["logs"]
        assert record["body"] == "sent over gRPC" and record["trace_id"] == trace_id
        [series] = client.get(
            "/api/v1/metrics/samples",
            params={"name": "grpc_calls_total", "label": f"job={service}"},
        ).json()["series"]
        assert series["samples"][-1][1] == 4.0
        assert 'code="grpc_OK"' in client.get("/metrics").text


def _one_span() -> ReadableSpan:
    provider = TracerProvider()
    with provider.get_tracer("t").start_as_current_span("x") as span:
        pass
    return span  # type: ignore[return-value]


def test_grpc_needs_the_token_too(grpc_hub: RunningHub) -> None:
    without = OTLPSpanExporter(endpoint=_endpoint(grpc_hub), insecure=True, timeout=5)
    assert without.export([_one_span()]) == SpanExportResult.FAILURE
    wrong = OTLPSpanExporter(
        endpoint=_endpoint(grpc_hub), insecure=True, headers=(("authorization", "Bearer no"),)
    )
    assert wrong.export([_one_span()]) == SpanExportResult.FAILURE
    right = OTLPSpanExporter(endpoint=_endpoint(grpc_hub), insecure=True, headers=AUTH)
    assert right.export([_one_span()]) == SpanExportResult.SUCCESS
    with grpc_hub.client() as client:
        assert 'code="grpc_UNAUTHENTICATED"' in client.get("/metrics").text


def test_a_grpc_port_in_use_stops_the_hub_at_start(tmp_path: Path) -> None:
    import socket
    import subprocess
    import sys

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = subprocess.run(
            [sys.executable, "-m", "berrys_monitoring", "hub", "--port", str(free_port()),
             "--grpc-port", str(port), "--data-dir", str(tmp_path)],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
    assert proc.returncode != 0
    assert f"cannot listen for OTLP/gRPC on 127.0.0.1:{port}" in proc.stderr


def test_a_malformed_grpc_request_is_invalid_argument(grpc_hub: RunningHub) -> None:
    import grpc

    with grpc.insecure_channel(_endpoint(grpc_hub)) as channel:
        export = channel.unary_unary("/opentelemetry.proto.collector.trace.v1.TraceService/Export")
        with pytest.raises(grpc.RpcError) as info:
            export(b"\xff\xff\xff", metadata=AUTH, timeout=10)
        assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "ExportTraceServiceRequest" in info.value.details()
