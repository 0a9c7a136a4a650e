"""OTLP/HTTP ingest into a real hub process: the official exporters, hand-written
OTLP/JSON, gzip, and the refusals (400, 413, 415, 503) the OTLP specification asks for."""

from __future__ import annotations

import gzip
import logging
import sqlite3
import threading
import time
import uuid
import zlib
from pathlib import Path

import httpx
import pytest
from google.rpc import status_pb2
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse
from opentelemetry.sdk._logs import LoggerProvider, LoggingHandler
from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import (
    AggregationTemporality,
    PeriodicExportingMetricReader,
)
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace import Status, StatusCode
from tests.hub.conftest import RunningHub, start_hub
from tests.hub.otlp import PROTOBUF, spans_request
from tests.support.servers import free_port, wait_for


def _service() -> str:
    return f"svc-{uuid.uuid4().hex[:8]}"


def _resource(service: str) -> Resource:
    return Resource.create({"service.name": service, "service.instance.id": "i-1", "team": "web"})


def test_official_span_exporter_traces_come_back_from_the_query_api(
    hub: RunningHub, client: httpx.Client
) -> None:
    service = _service()
    provider = TracerProvider(resource=_resource(service))
    provider.add_span_processor(
        SimpleSpanProcessor(OTLPSpanExporter(endpoint=f"{hub.url}/v1/traces"))
    )
    tracer = provider.get_tracer("test")
    with tracer.start_as_current_span("POST /pay") as root:
        root.set_attribute("order.id", "42")
        with tracer.start_as_current_span("charge card") as child:
            child.set_status(Status(StatusCode.ERROR, "declined"))
            child.add_event("retry", {"attempt": 2})
    provider.shutdown()
    trace_id = format(root.get_span_context().trace_id, "032x")

    found = client.get("/api/v1/traces", params={"service": service}).json()["traces"]
    assert [t["trace_id"] for t in found] == [trace_id]
    summary = found[0]
    assert summary["root_operation"] == "POST /pay"
    assert summary["span_count"] == 2 and summary["error_count"] == 1
    assert summary["services"] == [service]

    spans = client.get(f"/api/v1/traces/{trace_id}").json()["spans"]
    by_name = {s["name"]: s for s in spans}
    assert by_name["POST /pay"]["attributes"] == {"order.id": "42"}
    assert by_name["POST /pay"]["parent_span_id"] is None
    assert by_name["charge card"]["parent_span_id"] == by_name["POST /pay"]["span_id"]
    assert by_name["charge card"]["status"] == {"code": "ERROR", "message": "declined"}
    assert by_name["charge card"]["events"][0]["name"] == "retry"
    assert by_name["charge card"]["resource"]["team"] == "web"


def test_official_log_exporter_records_are_searchable(
    hub: RunningHub, client: httpx.Client
) -> None:
    service = _service()
    provider = LoggerProvider(resource=_resource(service))
    provider.add_log_record_processor(
        SimpleLogRecordProcessor(OTLPLogExporter(endpoint=f"{hub.url}/v1/logs"))
    )
    logger = logging.getLogger(f"hub-test-{service}")
    logger.propagate = False
    logger.setLevel(logging.INFO)
    logger.addHandler(LoggingHandler(logger_provider=provider))
    logger.info("cart loaded")
    logger.error("payment gateway timed out", extra={"gateway": "acme"})
    provider.shutdown()

    logs = client.get("/api/v1/logs", params={"service": service}).json()["logs"]
    assert [r["body"] for r in logs] == ["payment gateway timed out", "cart loaded"]  # newest first
    errors = client.get(
        "/api/v1/logs", params={"service": service, "level": "error", "q": "gateway"}
    ).json()["logs"]
    assert len(errors) == 1 and errors[0]["attributes"]["gateway"] == "acme"
    assert errors[0]["severity_text"] == "ERROR"


@pytest.mark.parametrize("temporality", ["cumulative", "delta"])
def test_official_metric_exporter_samples_follow_the_prometheus_names(
    hub: RunningHub, client: httpx.Client, temporality: str
) -> None:
    service = _service()
    preferred = AggregationTemporality.DELTA if temporality == "delta" else None
    exporter = OTLPMetricExporter(
        endpoint=f"{hub.url}/v1/metrics",
        preferred_temporality=(
            {kind: preferred for kind in _instrument_types()} if preferred else None
        ),
    )
    reader = PeriodicExportingMetricReader(exporter, export_interval_millis=3_600_000)
    provider = MeterProvider(resource=_resource(service), metric_readers=[reader])
    meter = provider.get_meter("shop", "1.2")
    orders = meter.create_counter("shop.orders", unit="{order}")
    latency = meter.create_histogram("http.server.duration", unit="ms")
    orders.add(2, {"region": "eu"})
    latency.record(7, {"route": "/pay"})
    provider.force_flush()
    orders.add(3, {"region": "eu"})
    latency.record(700, {"route": "/pay"})
    provider.force_flush()
    provider.shutdown()

    def series(name: str) -> list[dict[str, object]]:
        return client.get(
            "/api/v1/metrics/samples", params={"name": name, "label": f"job={service}"}
        ).json()["series"]

    [counter] = series("shop_orders_total")
    assert counter["labels"] == {
        "__name__": "shop_orders_total",
        "job": service,
        "instance": "i-1",
        "region": "eu",
        "otel_scope_name": "shop",
        "otel_scope_version": "1.2",
    }
    assert [v for _, v in counter["samples"]][-1] == 5.0  # cumulative either way

    buckets = series("http_server_duration_milliseconds_bucket")
    last = {s["labels"]["le"]: s["samples"][-1][1] for s in buckets}
    assert last["+Inf"] == 2.0 and last["10.0"] == 1.0 and last["5.0"] == 0.0
    [count] = series("http_server_duration_milliseconds_count")
    [total] = series("http_server_duration_milliseconds_sum")
    assert count["samples"][-1][1] == 2.0 and total["samples"][-1][1] == 707.0
    [info] = series("target_info")
    assert info["labels"]["team"] == "web"

    services = {s["name"]: s for s in client.get("/api/v1/services").json()["services"]}
    assert services[service]["sample_count"] > 0


def _instrument_types() -> list[type]:
    from opentelemetry.sdk.metrics import Counter, Histogram

    return [Counter, Histogram]


HAND_WRITTEN_JSON = """{
  "resourceSpans": [{
    "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "%(service)s"}}]},
    "scopeSpans": [{
      "scope": {"name": "curl"},
      "spans": [{
        "traceId": "5B8EFFF798038103D269B633813FC60C",
        "spanId": "EEE19B7EC3C1B174",
        "name": "checkout",
        "kind": 2,
        "startTimeUnixNano": "%(start)d",
        "endTimeUnixNano": "%(end)d",
        "attributes": [{"key": "items", "value": {"intValue": "3"}}],
        "status": {"code": 2, "message": "out of stock"}
      }]
    }]
  }]
}"""


def test_hand_written_otlp_json_with_hex_ids_and_string_int64s(client: httpx.Client) -> None:
    service = _service()
    now = time.time_ns()
    body = HAND_WRITTEN_JSON % {"service": service, "start": now, "end": now + 5_000_000}
    r = client.post("/v1/traces", content=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/json")
    assert r.json() == {}

    spans = client.get("/api/v1/traces/5b8efff798038103d269b633813fc60c").json()["spans"]
    assert spans[0]["span_id"] == "eee19b7ec3c1b174"
    assert spans[0]["attributes"] == {"items": 3}
    assert spans[0]["duration_ns"] == 5_000_000
    assert spans[0]["status"]["code"] == "ERROR"


def test_gzip_protobuf_is_accepted_and_answered_in_protobuf(client: httpx.Client) -> None:
    service = _service()
    body = gzip.compress(spans_request(service, 4).SerializeToString())
    r = client.post("/v1/traces", content=body, headers={**PROTOBUF, "Content-Encoding": "gzip"})
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/x-protobuf"
    ExportTraceServiceResponse.FromString(r.content)
    [summary] = client.get("/api/v1/traces", params={"service": service}).json()["traces"]
    assert summary["span_count"] == 4


def test_invalid_spans_are_rejected_alone_in_partial_success(client: httpx.Client) -> None:
    service = _service()
    request = spans_request(service, 3)
    bad = request.resource_spans[0].scope_spans[0].spans.add()
    bad.CopyFrom(request.resource_spans[0].scope_spans[0].spans[1])
    bad.trace_id = b"short"
    r = client.post("/v1/traces", content=request.SerializeToString(), headers=PROTOBUF)
    assert r.status_code == 200
    response = ExportTraceServiceResponse.FromString(r.content)
    assert response.partial_success.rejected_spans == 1
    assert "trace_id" in response.partial_success.error_message
    [summary] = client.get("/api/v1/traces", params={"service": service}).json()["traces"]
    assert summary["span_count"] == 3


@pytest.mark.parametrize(
    ("body", "headers"),
    [
        pytest.param(b"\xff\xff\xff\xff", PROTOBUF, id="garbage-protobuf"),
        pytest.param(
            spans_request("x", 5).SerializeToString()[:-7], PROTOBUF, id="truncated-protobuf"
        ),
        pytest.param(
            b'{"resourceSpans": 5}', {"Content-Type": "application/json"}, id="wrong-type"
        ),
        pytest.param(b'{"resourceSpans": [', {"Content-Type": "application/json"}, id="bad-json"),
        pytest.param(b"[1, 2]", {"Content-Type": "application/json"}, id="json-array"),
        pytest.param(
            b'{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"zz"}]}]}]}',
            {"Content-Type": "application/json"},
            id="non-hex-id",
        ),
        pytest.param(b"not gzip at all", {**PROTOBUF, "Content-Encoding": "gzip"}, id="bad-gzip"),
        pytest.param(
            gzip.compress(b"x" * 1000)[:20], {**PROTOBUF, "Content-Encoding": "gzip"}, id="cut-gzip"
        ),
    ],
)
def test_malformed_payloads_get_a_400_with_a_status_message(
    client: httpx.Client, body: bytes, headers: dict[str, str]
) -> None:
    r = client.post("/v1/traces", content=body, headers=headers)
    assert r.status_code == 400, r.text
    if headers["Content-Type"] == "application/x-protobuf":
        assert status_pb2.Status.FromString(r.content).message
    else:
        assert r.json()["message"]


def test_unknown_media_types_get_a_415(client: httpx.Client) -> None:
    assert (
        client.post("/v1/logs", content=b"x", headers={"Content-Type": "text/plain"}).status_code
        == 415
    )
    r = client.post("/v1/logs", content=b"x", headers={**PROTOBUF, "Content-Encoding": "br"})
    assert r.status_code == 415


@pytest.fixture(scope="module")
def small_hub(tmp_path_factory: pytest.TempPathFactory):
    """A hub configured by a YAML file: a 1 MiB body limit and a write queue of 2."""
    data = tmp_path_factory.mktemp("small-hub")
    config = data / "hub.yaml"
    config.write_text("max-body-size: 1MiB\nqueue_size: 2\nlog-level: warning\n")
    with start_hub(data / "store", "--config", str(config)) as running:
        yield running


def test_oversized_bodies_get_a_413(small_hub: RunningHub) -> None:
    with small_hub.client() as client:
        r = client.post("/v1/logs", content=b"\0" * (1024 * 1024 + 1), headers=PROTOBUF)
        assert r.status_code == 413
        assert "larger than 1048576" in status_pb2.Status.FromString(r.content).message
        ok = client.post("/v1/logs", content=b"", headers=PROTOBUF)
        assert ok.status_code == 200


def test_a_gzip_bomb_is_stopped_at_the_limit(small_hub: RunningHub) -> None:
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    zeros = b"\0" * (1 << 20)
    bomb = b"".join(compressor.compress(zeros) for _ in range(256)) + compressor.flush()
    assert len(bomb) < 300_000  # 256 MiB once inflated
    with small_hub.client() as client:
        r = client.post(
            "/v1/traces", content=bomb, headers={**PROTOBUF, "Content-Encoding": "gzip"}
        )
        assert r.status_code == 413
        assert client.get("/health").status_code == 200


def test_a_saturated_writer_answers_503_with_retry_after(small_hub: RunningHub) -> None:
    # Another process holding SQLite's write lock stalls the hub's writer for real; the
    # queue of 2 fills up behind the batch it holds, and the next export is refused.
    db = sqlite3.connect(small_hub.data_dir / "hub.sqlite3", isolation_level=None, timeout=10)
    db.execute("BEGIN IMMEDIATE")
    results: list[int] = []

    def send(i: int) -> None:
        with small_hub.client() as c:
            body = spans_request(f"stall-{i}", 1).SerializeToString()
            results.append(c.post("/v1/traces", content=body, headers=PROTOBUF).status_code)

    threads = [threading.Thread(target=send, args=(i,)) for i in range(3)]

    def gauges(c: httpx.Client) -> tuple[str, str]:
        text = c.get("/metrics").text
        return tuple(  # type: ignore[return-value]
            next(line.split()[-1] for line in text.splitlines() if line.startswith(name + " "))
            for name in ("hub_ingest_pending_batches", "hub_ingest_queue_depth")
        )

    try:
        with small_hub.client() as c:
            threads[0].start()  # the writer takes it and stalls on the lock
            wait_for(lambda: gauges(c) == ("1.0", "0.0"), what="the writer to stall")
            threads[1].start()
            threads[2].start()
            wait_for(lambda: gauges(c) == ("3.0", "2.0"), what="a full queue")
            r = c.post(
                "/v1/traces",
                content=spans_request("stall-x", 1).SerializeToString(),
                headers=PROTOBUF,
            )
            assert r.status_code == 503
            assert int(r.headers["Retry-After"]) > 0
    finally:
        db.execute("ROLLBACK")
        db.close()
        for t in threads:
            if t.ident is not None:
                t.join(30)
    assert results == [200, 200, 200]


def test_the_hubs_own_metrics_count_ingest(hub: RunningHub, client: httpx.Client) -> None:
    client.post(
        "/v1/traces", content=spans_request(_service(), 2).SerializeToString(), headers=PROTOBUF
    )
    text = client.get("/metrics").text
    assert 'hub_ingest_items_total{signal="traces"}' in text
    assert 'hub_ingest_requests_total{code="200",signal="traces"}' in text
    assert "hub_store_size_bytes" in text


def test_the_hub_does_not_export_its_own_telemetry_to_itself(tmp_path: Path) -> None:
    # Even with the standard OTel variables pointing at the hub itself, nothing it logs or
    # measures arrives in its store.
    port = free_port()
    env = {"OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{port}", "OTEL_SERVICE_NAME": "self"}
    with start_hub(tmp_path, port=port, env=env) as running, running.client() as c:
        c.get("/api/v1/logs", params={"bogus": "1"})
        c.post("/v1/logs", content=b"\xff", headers=PROTOBUF)
        assert c.get("/api/v1/services").json()["services"] == []
