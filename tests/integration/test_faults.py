"""Monitoring must never fail a request: with the OTLP collector down, the StatsD host
unreachable, a health check that hangs and log handlers that raise, real uvicorn and
gunicorn servers answer every request correctly."""

from __future__ import annotations

import tempfile
from pathlib import Path

import httpx
import pytest
from tests.integration._services import gunicorn_cmd, metric_value, uvicorn_cmd
from tests.support.servers import REPO, free_port, run_server

pytestmark = pytest.mark.slow

COMMON = """
import logging
import time

from berrys_monitoring.health import register_health_check
from berrys_monitoring.logging import configure_logging, get_logger
from berrys_monitoring.metrics import MetricsBackend, configure_metrics, increment_counter
from berrys_monitoring.tracing import configure_tracing, trace

# The collector is down: nothing listens on this port.
configure_tracing("faulty", exporter="otlp", endpoint="http://127.0.0.1:{dead_port}")
# The StatsD host is unreachable (no route from a loopback-only machine).
configure_metrics(
    backend=[MetricsBackend.PROMETHEUS, MetricsBackend.STATSD],
    statsd_host="10.255.255.1",
    statsd_port=8125,
)
# Every log line also goes to a file on a full disk (/dev/full: ENOSPC on each write).
configure_logging(service_name="faulty", log_file="/dev/full", max_bytes=0)


class Exploding(logging.Handler):
    def emit(self, record):
        raise OSError("log sink exploded")


# A broken handler on the access logger itself.
logging.getLogger("berrys_monitoring.access").addHandler(Exploding())


@register_health_check("hangs", critical=True, timeout=0.5)
def hangs():
    time.sleep(30)
    return True, "never"


log = get_logger("faulty")


@trace("work")
def work(n):
    increment_counter("work_done_total", {{"kind": "fault-test"}})
    log.info("working", extra={{"n": n}})
    return n * 2
"""

FASTAPI_APP = (
    COMMON
    + """
from fastapi import FastAPI
from berrys_monitoring.middleware.fastapi import setup_monitoring

app = FastAPI()


@app.get("/double/{{n}}")
async def double(n: int):
    return {{"result": work(n)}}


setup_monitoring(app, service_name="faulty")
"""
)

FLASK_APP = (
    COMMON
    + """
from flask import Flask
from berrys_monitoring.middleware.flask import setup_monitoring

app = Flask(__name__)


@app.get("/double/<int:n>")
def double(n):
    return {{"result": work(n)}}


setup_monitoring(app, service_name="faulty")
"""
)


def serve_source(source: str) -> Path:
    folder = Path(tempfile.mkdtemp(prefix="faulty-"))
    (folder / "faulty.py").write_text(source.format(dead_port=free_port()))
    return folder


def exercise(base: str, route: str) -> None:
    with httpx.Client(timeout=10) as client:
        for n in range(40):
            r = client.get(f"{base}/double/{n}")
            assert r.status_code == 200 and r.json() == {"result": n * 2}
        # The hanging check times out: the probe answers (503, naming it) well within the
        # client's timeout instead of hanging for the check's 30 s.
        health = client.get(f"{base}/health")
        assert health.status_code == 503
        assert "hangs" in health.text
        # Liveness has no dependency checks: still fine.
        assert client.get(f"{base}/health/live").status_code == 200
        text = client.get(f"{base}/metrics").text
    assert metric_value(text, "http_requests_total", route=route, status="200") == 40
    assert metric_value(text, "work_done_total") == 40
    # The faults were real, and absorbed: counted as internal errors, not raised.
    errors = "berrys_monitoring_internal_errors_total"
    # /dev/full, and the exploding handler (guarded: its lines dropped, counted).
    assert metric_value(text, errors, component="logging") > 40


@pytest.mark.parametrize("strict", ["1", "0"], ids=["strict", "production"])
def test_fastapi_under_uvicorn_answers_every_request_while_monitoring_fails(strict: str) -> None:
    folder = serve_source(FASTAPI_APP)
    port = free_port()
    with run_server(
        uvicorn_cmd("faulty", folder, port),
        env={"PYTHONPATH": str(REPO), "BERRYS_MONITORING_STRICT": strict},
        ready_url=f"http://127.0.0.1:{port}/health/live",
    ) as server:
        try:
            exercise(f"http://127.0.0.1:{port}", "/double/{n}")
        except AssertionError:
            print(server.output()[-4000:])
            raise


@pytest.mark.parametrize("strict", ["1", "0"], ids=["strict", "production"])
def test_flask_under_gunicorn_answers_every_request_while_monitoring_fails(strict: str) -> None:
    folder = serve_source(FLASK_APP)
    port = free_port()
    with run_server(
        gunicorn_cmd("faulty", folder, port, "--worker-class", "gthread", "--threads", "4"),
        env={"PYTHONPATH": str(REPO), "BERRYS_MONITORING_STRICT": strict},
        ready_url=f"http://127.0.0.1:{port}/health/live",
    ) as server:
        try:
            exercise(f"http://127.0.0.1:{port}", "/double/<int:n>")
        except AssertionError:
            print(server.output()[-4000:])
            raise


ROOT_HANDLER_APP = """
import logging

from berrys_monitoring.logging import get_logger

{framework_setup}


class Exploding(logging.Handler):
    def emit(self, record):
        raise OSError("log sink exploded")


# Added after setup_monitoring, on the root: every line of every logger reaches it,
# the server's own start-up lines included.
logging.getLogger().addHandler(Exploding())
log = get_logger("app")
std = logging.getLogger("app.std")
"""

ROOT_FASTAPI = """
from fastapi import FastAPI
from berrys_monitoring.middleware.fastapi import setup_monitoring

app = FastAPI()
setup_monitoring(app, service_name="rooted")


@app.get("/hello")
def hello():
    log.info("hello")
    std.warning("plain stdlib line")
    return {"ok": True}
"""

ROOT_FLASK = """
from flask import Flask
from berrys_monitoring.middleware.flask import setup_monitoring

app = Flask(__name__)
setup_monitoring(app, service_name="rooted")


@app.get("/hello")
def hello():
    log.info("hello")
    std.warning("plain stdlib line")
    return {"ok": True}
"""


@pytest.mark.parametrize("server", ["uvicorn", "gunicorn"])
def test_a_raising_handler_on_the_root_logger_breaks_neither_server_nor_request(
    server: str,
) -> None:
    framework = ROOT_FASTAPI if server == "uvicorn" else ROOT_FLASK
    source = ROOT_HANDLER_APP.replace("{framework_setup}", "") + framework
    folder = Path(tempfile.mkdtemp(prefix="rooted-"))
    (folder / "rooted.py").write_text(source)
    port = free_port()
    cmd = (
        uvicorn_cmd("rooted", folder, port)
        if server == "uvicorn"
        else gunicorn_cmd("rooted", folder, port, "--workers", "2")
    )
    with run_server(
        cmd,
        env={"PYTHONPATH": str(REPO), "BERRYS_MONITORING_STRICT": "1"},
        ready_url=f"http://127.0.0.1:{port}/health/live",
    ) as proc:
        with httpx.Client(timeout=10) as client:
            for _ in range(20):
                r = client.get(f"http://127.0.0.1:{port}/hello")
                assert r.status_code == 200, proc.output()[-3000:]
            text = client.get(f"http://127.0.0.1:{port}/metrics").text
        out = proc.output()
    # The line still reached our handler, the failure was reported once and counted.
    assert '"message":"hello"' in out
    assert out.count("the log handler Exploding raised") >= 1
    assert "Traceback" not in out, out[-3000:]
    assert metric_value(text, "berrys_monitoring_internal_errors_total", component="logging") > 0
    assert "Worker failed to boot" not in out and "exited with code" not in out
