"""OTLP log export, received by a real OTLP/HTTP endpoint on loopback."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.sdk.trace import TracerProvider
from tests.logging.conftest import Lines
from tests.support.servers import free_port

from berrys_monitoring import internal_error_counts
from berrys_monitoring.logging import (
    bind_context,
    configure_logging,
    flush_logging,
    get_logger,
)


class _Receiver(ThreadingHTTPServer):
    def __init__(self, port: int) -> None:
        self.requests: list[tuple[str, str, bytes]] = []
        super().__init__(("127.0.0.1", port), _Handler)


class _Handler(BaseHTTPRequestHandler):
    server: _Receiver

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.server.requests.append((self.path, self.headers.get("Content-Type", ""), body))
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.end_headers()
        self.wfile.write(b"")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[_Receiver]:
    server = _Receiver(free_port())
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    yield server
    server.shutdown()
    server.server_close()


def _records(receiver: _Receiver) -> tuple[list[object], list[ExportLogsServiceRequest]]:
    reqs = []
    for path, ctype, body in receiver.requests:
        assert path == "/v1/logs" and ctype == "application/x-protobuf"
        req = ExportLogsServiceRequest()
        req.ParseFromString(body)
        reqs.append(req)
    recs = [
        lr for r in reqs for rl in r.resource_logs for sl in rl.scope_logs for lr in sl.log_records
    ]
    return recs, reqs


def test_lines_are_exported_as_otlp_log_records_with_trace_context(
    receiver: _Receiver, lines: Lines
) -> None:
    port = receiver.server_address[1]
    configure_logging(
        stream=lines,
        service_name="otlp-svc",
        environment="test",
        version="9.9",
        otlp_endpoint=f"http://127.0.0.1:{port}",
        adopt_servers=False,
    )
    bind_context(request_id="r-otlp")
    log = get_logger("exporter.test")
    tracer = TracerProvider().get_tracer("t")
    with tracer.start_as_current_span("op") as span:
        log.warning("disk %s", "low", extra={"free_mb": 12, "meta": {"a": 1}, "password": "pw-1"})
    try:
        raise ValueError("boom")
    except ValueError:
        log.exception("failed")
    flush_logging()
    recs, reqs = _records(receiver)
    assert len(recs) == 2
    res = {a.key: a.value.string_value for a in reqs[0].resource_logs[0].resource.attributes}
    assert res["service.name"] == "otlp-svc"
    assert res["deployment.environment.name"] == "test" and res["service.version"] == "9.9"
    warn, err = recs
    assert warn.body.string_value == "disk low"
    assert warn.severity_text == "WARNING" and warn.severity_number == 13
    attrs = {a.key: a.value for a in warn.attributes}
    assert attrs["request_id"].string_value == "r-otlp"
    assert attrs["free_mb"].int_value == 12
    assert attrs["meta"].string_value == '{"a":1}'
    assert attrs["password"].string_value == "[REDACTED]"
    assert attrs["logger.name"].string_value == "exporter.test"
    ctx = span.get_span_context()
    assert warn.trace_id == ctx.trace_id.to_bytes(16, "big")
    assert warn.span_id == ctx.span_id.to_bytes(8, "big")
    assert err.severity_number == 17
    err_attrs = {a.key: a.value.string_value for a in err.attributes}
    assert err_attrs["exception.type"] == "ValueError"
    assert "Traceback" in err_attrs["exception.stacktrace"]
    assert b"pw-1" not in b"".join(body for _, _, body in receiver.requests)


def test_a_dead_otlp_endpoint_never_breaks_logging(lines: Lines) -> None:
    port = free_port()  # nothing listens here
    configure_logging(
        stream=lines,
        otlp_endpoint=f"http://127.0.0.1:{port}",
        otlp_timeout=0.5,
        adopt_servers=False,
    )
    for i in range(20):
        get_logger("dead").info("still logging", extra={"i": i})
    flush_logging(timeout=10)
    assert len([r for r in lines.records() if r["logger"] == "dead"]) == 20
    assert internal_error_counts().get("logging", 0) >= 1


def test_a_malformed_otlp_endpoint_is_a_configuration_error() -> None:
    with pytest.raises(ValueError, match="otlp_endpoint must be an http"):
        configure_logging(otlp_endpoint="127.0.0.1:4318")
