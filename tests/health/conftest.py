"""Fixtures for the health tests: a fresh default registry, a fake clock, and real local
servers (an HTTP server with good and bad endpoints, a TCP server that accepts and never
answers, a port with nothing listening)."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from tests.support.servers import free_port

from berrys_monitoring.health import HealthRegistry, set_health_registry


@pytest.fixture
def registry() -> Iterator[HealthRegistry]:
    """A fresh registry installed as the module default, restored afterwards."""
    fresh = HealthRegistry()
    old = set_health_registry(fresh)
    try:
        yield fresh
    finally:
        set_health_registry(old)


class FakeClock:
    """A monotonic clock that moves only when a test says so: cache expiry, staleness and
    durations are tested by advancing it, never by sleeping."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self._lock = threading.Lock()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        with self._lock:
            self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def refused_port() -> int:
    """A local port with nothing listening (connections are refused)."""
    return free_port()


class HungServer:
    """Accepts TCP connections and never sends or reads a byte."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.accepted: list[socket.socket] = []
        self._stop = False
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        self.sock.settimeout(0.1)
        while not self._stop:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.accepted.append(conn)

    def close(self) -> None:
        self._stop = True
        self._thread.join(2)
        for c in self.accepted:
            c.close()
        self.sock.close()


@pytest.fixture
def hung_server() -> Iterator[HungServer]:
    server = HungServer()
    try:
        yield server
    finally:
        server.close()


class _Handler(BaseHTTPRequestHandler):
    release: threading.Event

    def log_message(self, format: str, *args: object) -> None:  # keep test output quiet
        pass

    def _send(self, code: int, body: dict[str, object], ctype: str = "application/json") -> None:
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        if self.path == "/health":
            self._send(200, {"status": "pass"}, "application/health+json")
        elif self.path == "/health-warn":
            self._send(200, {"status": "warn"}, "application/health+json")
        elif self.path == "/broken":
            self._send(500, {"error": "boom"})
        elif self.path == "/created":
            self._send(201, {"ok": True})
        elif self.path == "/slow":
            self.release.wait(10)
            self._send(200, {"status": "pass"})
        else:
            self._send(404, {"error": "not found"})


class HTTPTestServer:
    def __init__(self) -> None:
        self.release = threading.Event()
        handler = type("Handler", (_Handler,), {"release": self.release})
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        # A short poll interval: shutdown() waits for one, and every test stops a server.
        self._thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()

    def close(self) -> None:
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        self._thread.join(2)


@pytest.fixture
def http_server() -> Iterator[HTTPTestServer]:
    server = HTTPTestServer()
    try:
        yield server
    finally:
        server.close()
