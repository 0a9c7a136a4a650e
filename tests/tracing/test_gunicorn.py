"""Forking servers: spans from every gunicorn worker reach the collector, and nothing
queued is lost when the server shuts down."""

from __future__ import annotations

import signal
import textwrap
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from tests.support.servers import REPO, free_port, require_binary, run_server, wait_for
from tests.tracing._receiver import OTLPReceiver

APP = """
import os, time
from berrys_monitoring.tracing import SpanKind, configure_tracing, tracer

# Configured at import: with --preload that is in the gunicorn master, before the fork.
configure_tracing(
    "gunicorn-app",
    endpoint=os.environ["TEST_OTLP_ENDPOINT"],
    schedule_delay_millis=float(os.environ["TEST_SCHEDULE_DELAY_MS"]),
)

def app(environ, start_response):
    if environ["PATH_INFO"] == "/ready":
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]
    with tracer.start_as_current_span("GET /slow", kind=SpanKind.SERVER) as span:
        span.set_attribute("worker.pid", os.getpid())
        time.sleep(0.2)  # keeps a worker busy so concurrent requests reach the other
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [str(os.getpid()).encode()]
"""

# The documented hook: each worker drains its own queue as it exits.
CONFIG = """
from berrys_monitoring.tracing import shutdown_tracing

def worker_exit(server, worker):
    shutdown_tracing(timeout=10)
"""


def _serve(tmp_path: Path, receiver: OTLPReceiver, delay_ms: int, *, hook: bool):
    gunicorn = require_binary("gunicorn", "pip install 'berrys-monitoring[flask]'")
    (tmp_path / "traced_app.py").write_text(textwrap.dedent(APP))
    cmd = [gunicorn, "--preload", "-w", "2", "-b", f"127.0.0.1:{port_of(tmp_path)}"]
    if hook:
        (tmp_path / "gunicorn_conf.py").write_text(textwrap.dedent(CONFIG))
        cmd += ["-c", str(tmp_path / "gunicorn_conf.py")]
    cmd += ["--chdir", str(tmp_path), "traced_app:app"]
    env = {
        "TEST_OTLP_ENDPOINT": receiver.endpoint,
        "TEST_SCHEDULE_DELAY_MS": str(delay_ms),
        "PYTHONPATH": str(REPO / "src"),
    }
    return run_server(cmd, env=env, ready_url=f"http://127.0.0.1:{port_of(tmp_path)}/ready")


_ports: dict[Path, int] = {}


def port_of(tmp_path: Path) -> int:
    return _ports.setdefault(tmp_path, free_port())


def _drive(base: str, n: int) -> set[str]:
    with ThreadPoolExecutor(4) as pool:
        pids = pool.map(lambda _: httpx.get(base + "/slow", timeout=10).text, range(n))
        return set(pids)


@pytest.mark.slow
def test_spans_from_both_workers_are_exported_while_running(
    tmp_path: Path, receiver: OTLPReceiver
) -> None:
    with _serve(tmp_path, receiver, delay_ms=100, hook=False) as server:
        pids = _drive(f"http://127.0.0.1:{port_of(tmp_path)}", 12)
        assert len(pids) == 2, server.output()
        # The batch workers of the forked children are alive: spans arrive while the
        # server is still running, without any flush or shutdown.
        wait_for(lambda: len(receiver.named("GET /slow")) == 12, what="12 spans")
    exported = {str(s.attributes["worker.pid"]) for s in receiver.named("GET /slow")}
    assert exported == pids
    # process.pid in the resource is the worker's own, not the master's.
    assert {str(s.resource["process.pid"]) for s in receiver.named("GET /slow")} == pids


@pytest.mark.slow
@pytest.mark.parametrize("hook", [True, False], ids=["worker_exit-hook", "atexit-only"])
def test_nothing_queued_is_lost_when_gunicorn_stops(
    tmp_path: Path, receiver: OTLPReceiver, hook: bool
) -> None:
    # A one-minute schedule delay: every span is still queued when the server stops.
    with _serve(tmp_path, receiver, delay_ms=60_000, hook=hook) as server:
        pids = _drive(f"http://127.0.0.1:{port_of(tmp_path)}", 10)
        assert len(pids) == 2
        assert receiver.named("GET /slow") == []
        server.proc.send_signal(signal.SIGTERM)  # graceful stop, as an orchestrator does
        server.proc.wait(30)
    spans = receiver.named("GET /slow")
    assert len(spans) == 10, server.output()[-3000:]
    assert {str(s.attributes["worker.pid"]) for s in spans} == pids
