"""Fixtures for the alerting tests: a fresh default manager and real HTTP receivers."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from berrys_monitoring.alerts import AlertManager, configure_alerts


@pytest.fixture(autouse=True)
def fresh_default_manager() -> Iterator[AlertManager]:
    """Each test starts with an empty in-memory default manager."""
    manager = configure_alerts()
    yield manager
    configure_alerts().shutdown(1.0)
    manager.shutdown(1.0)


@dataclass
class Receiver:
    """A real HTTP server on 127.0.0.1 recording each POST; the first ``fail_first``
    requests are answered ``fail_status``."""

    fail_first: int = 0
    fail_status: int = 500
    ok_status: int = 200
    requests: list[dict[str, Any]] = field(default_factory=list)
    attempts: int = 0
    url: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock)

    def bodies(self) -> list[Any]:
        with self.lock:
            return [r["json"] for r in self.requests]


@pytest.fixture
def http_receiver() -> Iterator[Any]:
    servers: list[ThreadingHTTPServer] = []

    def start(**kwargs: Any) -> Receiver:
        rec = Receiver(**kwargs)

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                raw = self.rfile.read(length)
                with rec.lock:
                    rec.attempts += 1
                    failing = rec.attempts <= rec.fail_first
                    if not failing:
                        rec.requests.append(
                            {
                                "path": self.path,
                                "headers": dict(self.headers),
                                "json": json.loads(raw or b"null"),
                            }
                        )
                status = rec.fail_status if failing else rec.ok_status
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"status":"ok"}')

            def log_message(self, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        rec.url = f"http://127.0.0.1:{server.server_address[1]}"
        return rec

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()
