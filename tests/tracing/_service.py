"""A tiny HTTP service run as a separate process by the cross-process tests.

``python -m tests.tracing._service PORT OTLP_ENDPOINT``: continues the caller's trace from
the request headers, exports its span over OTLP, flushes, answers with its own ids.
"""

from __future__ import annotations

import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from berrys_monitoring.tracing import (
    SpanKind,
    configure_tracing,
    extract_context_from_headers,
    force_flush,
    shutdown_tracing,
    tracer,
)


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path == "/ready":
            body = b"{}"
        else:
            ctx = extract_context_from_headers(self.headers)
            with tracer.start_as_current_span(
                "GET /work", context=ctx, kind=SpanKind.SERVER
            ) as span:
                span.set_attribute("http.route", "/work")
                sc = span.get_span_context()
            force_flush(timeout=10)
            body = json.dumps(
                {"trace_id": f"{sc.trace_id:032x}", "span_id": f"{sc.span_id:016x}"}
            ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


def main() -> None:
    port, endpoint = int(sys.argv[1]), sys.argv[2]
    configure_tracing("downstream", endpoint=endpoint)
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    try:
        server.serve_forever()
    finally:
        shutdown_tracing()


if __name__ == "__main__":
    main()
