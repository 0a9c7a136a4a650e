"""A real OTLP/HTTP traces receiver on 127.0.0.1, decoding protobuf with opentelemetry.proto.

It is what a collector is to the exporter: a socket that accepts ``POST /v1/traces``.
Spans are flattened to plain dicts so tests can assert on ids, attributes and resource.
"""

from __future__ import annotations

import gzip
import threading
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import (
    ExportLogsServiceRequest,
    ExportLogsServiceResponse,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue


def _value(v: AnyValue) -> Any:
    kind = v.WhichOneof("value")
    if kind == "array_value":
        return [_value(x) for x in v.array_value.values]
    return getattr(v, kind) if kind else None


@dataclass
class ReceivedSpan:
    name: str
    trace_id: str
    span_id: str
    parent_span_id: str
    kind: int
    status_code: int
    status_message: str
    attributes: dict[str, Any]
    resource: dict[str, Any]
    scope: str
    events: list[dict[str, Any]] = field(default_factory=list)


class OTLPReceiver:
    """Collects spans (and log record bodies at ``/v1/logs``); ``fail_next`` makes the next N requests answer 503."""

    def __init__(self, port: int = 0) -> None:
        self.spans: list[ReceivedSpan] = []
        self.log_bodies: list[Any] = []
        self.requests = 0
        self.content_types: list[str] = []
        self.headers: list[dict[str, str]] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                enc = (self.headers.get("Content-Encoding") or "").lower()
                if enc == "gzip":
                    body = gzip.decompress(body)
                elif enc == "deflate":
                    body = zlib.decompress(body)
                if self.path == "/v1/logs":
                    receiver._ingest_logs(body)
                    out = ExportLogsServiceResponse().SerializeToString()
                elif self.path == "/v1/traces":
                    receiver.headers.append({k.lower(): v for k, v in self.headers.items()})
                    receiver._ingest(body, self.headers.get("Content-Type", ""))
                    out = ExportTraceServiceResponse().SerializeToString()
                else:
                    self.send_response(404)
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def _ingest(self, body: bytes, content_type: str) -> None:
        req = ExportTraceServiceRequest()
        req.ParseFromString(body)
        spans: list[ReceivedSpan] = []
        for rs in req.resource_spans:
            resource = {a.key: _value(a.value) for a in rs.resource.attributes}
            for ss in rs.scope_spans:
                for s in ss.spans:
                    spans.append(
                        ReceivedSpan(
                            name=s.name,
                            trace_id=s.trace_id.hex(),
                            span_id=s.span_id.hex(),
                            parent_span_id=s.parent_span_id.hex(),
                            kind=s.kind,
                            status_code=s.status.code,
                            status_message=s.status.message,
                            attributes={a.key: _value(a.value) for a in s.attributes},
                            resource=resource,
                            scope=ss.scope.name,
                            events=[
                                {
                                    "name": e.name,
                                    **{a.key: _value(a.value) for a in e.attributes},
                                }
                                for e in s.events
                            ],
                        )
                    )
        with self._lock:
            self.requests += 1
            self.content_types.append(content_type)
            self.spans.extend(spans)

    def _ingest_logs(self, body: bytes) -> None:
        req = ExportLogsServiceRequest()
        req.ParseFromString(body)
        bodies = [
            _value(r.body)
            for rl in req.resource_logs
            for sl in rl.scope_logs
            for r in sl.log_records
        ]
        with self._lock:
            self.log_bodies.extend(bodies)

    def named(self, name: str) -> list[ReceivedSpan]:
        with self._lock:
            return [s for s in self.spans if s.name == name]

    def start(self) -> OTLPReceiver:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@contextmanager
def otlp_receiver() -> Iterator[OTLPReceiver]:
    r = OTLPReceiver().start()
    try:
        yield r
    finally:
        r.stop()
