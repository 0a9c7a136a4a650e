"""Our OTLP/HTTP sender against a real HTTP collector that answers as told: retries on
429/502/503/504 (honouring Retry-After), none on other errors, partial success counted,
and the standard environment variables honoured."""

from __future__ import annotations

import gzip
import itertools
import os
import shutil
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

from berrys_monitoring._internal import event_counts
from berrys_monitoring.tracing import configure_tracing, force_flush, tracer
from berrys_monitoring.tracing._otlp_http import retry_after, sender_settings


class Collector:
    """Answers each POST with the next scripted (status, headers, body); 200 after that."""

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        self.script: list[tuple[int, dict[str, str], bytes]] = []
        self.requests: list[tuple[float, dict[str, str], list[str]]] = []
        collector = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                headers = {k.lower(): v for k, v in self.headers.items()}
                if headers.get("content-encoding") == "gzip":
                    body = gzip.decompress(body)
                names = [
                    s.name
                    for rs in ExportTraceServiceRequest.FromString(body).resource_spans
                    for ss in rs.scope_spans
                    for s in ss.spans
                ]
                collector.requests.append((time.monotonic(), headers, names))
                status, extra, out = (
                    collector.script.pop(0)
                    if collector.script
                    else (200, {}, ExportTraceServiceResponse().SerializeToString())
                )
                self.send_response(status)
                for k, v in extra.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        scheme = "http"
        if tls is not None:
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
            scheme = "https"
        self.endpoint = f"{scheme}://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def delivered(self) -> list[str]:
        return [n for _, _, names in self.requests for n in names]


@pytest.fixture
def collector() -> Iterator[Collector]:
    c = Collector()
    yield c
    c.server.shutdown()
    c.server.server_close()


def _one_span(name: str) -> None:
    with tracer.start_as_current_span(name):
        pass


@pytest.mark.parametrize("status", [429, 502, 503, 504])
def test_a_retryable_answer_is_retried_after_the_delay_the_collector_asks(
    collector: Collector, status: int
) -> None:
    collector.script = [(status, {"Retry-After": "1"}, b"busy")]
    configure_tracing("svc", endpoint=collector.endpoint, timeout=10)
    before = event_counts().get(("tracing", "export_retries"), 0)
    _one_span("retried")
    assert force_flush(timeout=10)
    (first, _, _), (second, _, names) = collector.requests
    assert names == ["retried"]
    assert second - first >= 0.95  # Retry-After: 1
    assert event_counts()[("tracing", "export_retries")] == before + 1
    assert event_counts().get(("tracing", "spans_dropped_export_failed"), 0) == 0


def test_without_retry_after_the_backoff_grows_and_the_timeout_bounds_it(
    collector: Collector,
) -> None:
    collector.script = [(503, {}, b"")] * 20
    configure_tracing("svc", endpoint=collector.endpoint, timeout=2.5)
    _one_span("never-accepted")
    started = time.monotonic()
    assert force_flush(timeout=10)
    assert time.monotonic() - started < 3.5  # the export's timeout covers its retries
    times = [t for t, _, _ in collector.requests]
    gaps = [b - a for a, b in itertools.pairwise(times)]
    # Exponential with jitter: 0.25-0.5 s, then 0.5-1 s.
    assert len(times) >= 3 and 0.2 < gaps[0] < 0.7 and gaps[1] >= 0.49
    assert event_counts()[("tracing", "spans_dropped_export_failed")] >= 1


def test_an_error_that_retrying_cannot_fix_drops_the_batch_at_once(collector: Collector) -> None:
    collector.script = [(400, {}, b"bad request")]
    configure_tracing("svc", endpoint=collector.endpoint, timeout=10)
    _one_span("refused")
    assert force_flush(timeout=10)
    assert len(collector.requests) == 1
    assert event_counts()[("tracing", "spans_dropped_export_failed")] == 1


def test_spans_a_collector_rejects_in_a_partial_success_are_counted(
    collector: Collector,
) -> None:
    answer = ExportTraceServiceResponse()
    answer.partial_success.rejected_spans = 2
    answer.partial_success.error_message = "too old"
    collector.script = [(200, {}, answer.SerializeToString())]
    configure_tracing("svc", endpoint=collector.endpoint, schedule_delay_millis=60_000)
    for i in range(3):
        _one_span(f"s{i}")
    assert force_flush(timeout=10)
    assert event_counts()[("tracing", "spans_rejected")] == 2


def test_the_standard_variables_choose_headers_compression_and_timeout(
    collector: Collector, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", collector.endpoint)
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_HEADERS", "api-key=a%20b,x-tenant=generic")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_HEADERS", "x-tenant=acme")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_COMPRESSION", "gzip")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TIMEOUT", "3")
    assert sender_settings().timeout_s == 3.0
    configure_tracing("svc")
    _one_span("from-env")
    assert force_flush(timeout=10)
    [(_, headers, names)] = collector.requests
    assert names == ["from-env"]
    assert headers["x-tenant"] == "acme"  # the traces variable wins, as a whole
    assert "api-key" not in headers
    assert headers["content-encoding"] == "gzip"
    assert headers["content-type"] == "application/x-protobuf"


@pytest.mark.parametrize(
    ("var", "value"),
    [
        ("OTEL_EXPORTER_OTLP_HEADERS", "no-equals-sign"),
        ("OTEL_EXPORTER_OTLP_TRACES_COMPRESSION", "brotli"),
        ("OTEL_EXPORTER_OTLP_TIMEOUT", "soon"),
        ("OTEL_EXPORTER_OTLP_CERTIFICATE", "/nonexistent/ca.pem"),
    ],
)
def test_a_malformed_variable_raises_at_configure_time_naming_it(
    var: str, value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(var, value)
    with pytest.raises(ValueError, match=var):
        configure_tracing("svc")


def test_retry_after_reads_seconds_and_http_dates() -> None:
    assert retry_after("7") == 7.0
    assert retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0) == 10.0
    assert retry_after("later") is None


def _certificates(tmp: Path) -> tuple[Path, Path, Path]:
    """A CA, and a certificate for 127.0.0.1 signed by it, made with the openssl tool."""
    if shutil.which("openssl") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("openssl is needed for the TLS test")
        pytest.skip("openssl is not installed")

    def run(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=tmp, check=True, capture_output=True)

    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=test CA",
        "-keyout", "ca.key", "-out", "ca.pem")  # fmt: skip
    run("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1",
        "-keyout", "server.key", "-out", "server.csr")  # fmt: skip
    (tmp / "san.ext").write_text("subjectAltName=IP:127.0.0.1\n")
    run("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
        "-CAcreateserial", "-days", "1", "-extfile", "san.ext", "-out", "server.pem")  # fmt: skip
    return tmp / "ca.pem", tmp / "server.pem", tmp / "server.key"


def test_otel_exporter_otlp_certificate_names_the_ca_a_tls_collector_is_trusted_by(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ca, cert, key = _certificates(tmp_path)
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(cert, key)
    collector = Collector(tls)
    try:
        # Without the variable the private CA is not trusted: the batch is dropped.
        configure_tracing("svc", endpoint=collector.endpoint, timeout=2)
        _one_span("untrusted")
        assert force_flush(timeout=10)
        assert collector.delivered() == []
        assert event_counts()[("tracing", "spans_dropped_export_failed")] == 1
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE", str(ca))
        configure_tracing("svc", endpoint=collector.endpoint, timeout=2)
        _one_span("over-tls")
        assert force_flush(timeout=10)
        assert collector.delivered() == ["over-tls"]
    finally:
        collector.server.shutdown()
        collector.server.server_close()


def test_httpx_does_not_log_our_exports_but_still_logs_the_applications_requests(
    collector: Collector,
) -> None:
    # httpx logs every request at INFO; a service logging at INFO would get one
    # "HTTP Request: POST …/v1/traces" line per export, fed back into its log pipeline.
    import logging

    import httpx

    seen: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(record.getMessage())

    httpx_log = logging.getLogger("httpx")
    keep, level = Keep(), httpx_log.level
    httpx_log.addHandler(keep)
    httpx_log.setLevel(logging.INFO)
    try:
        configure_tracing("svc", endpoint=collector.endpoint)
        _one_span("exported")
        assert force_flush(timeout=10)
        httpx.post(f"{collector.endpoint}/app-call", content=b"")
    finally:
        httpx_log.removeHandler(keep)
        httpx_log.setLevel(level)
    assert collector.delivered() == ["exported"]
    assert not [m for m in seen if "/v1/traces" in m], seen
    assert [m for m in seen if "/app-call" in m], "the application's own request is logged"
