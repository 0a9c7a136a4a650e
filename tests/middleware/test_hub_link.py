"""``hub_url`` / ``BERRYS_MONITORING_HUB_URL``: a real service under uvicorn or gunicorn
registers itself with the hub and sends it its spans and log records; a bad URL fails at
configuration time; without the setting nothing is sent anywhere."""

from __future__ import annotations

import json
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from tests.integration._services import gunicorn_cmd, uvicorn_cmd
from tests.support.servers import REPO, free_port, run_server, wait_for
from tests.tracing._receiver import OTLPReceiver

from berrys_monitoring.middleware.fastapi import setup_monitoring

pytestmark = pytest.mark.slow


class HubDouble(OTLPReceiver):
    """The hub's two doors a service uses: OTLP (the receiver's) and ``/api/v1/targets``,
    whose registrations are kept with their headers."""

    def __init__(self) -> None:
        super().__init__()
        self.registrations: list[tuple[dict[str, Any], dict[str, str]]] = []
        inner = self.server.RequestHandlerClass
        outer = self

        class Handler(inner):  # type: ignore[misc, valid-type]
            def do_POST(self) -> None:
                if self.path != "/api/v1/targets":
                    super().do_POST()
                    return
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                outer.registrations.append((body, {k.lower(): v for k, v in self.headers.items()}))
                self.send_response(201)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server.RequestHandlerClass = Handler


@contextmanager
def hub_double() -> Iterator[HubDouble]:
    hub = HubDouble().start()
    try:
        yield hub
    finally:
        hub.stop()


SERVICE = """
from fastapi import FastAPI
from berrys_monitoring.logging import get_logger
from berrys_monitoring.middleware.fastapi import setup_monitoring

app = FastAPI()
setup_monitoring(app, service_name="orders")
log = get_logger("orders")


@app.get("/orders/{{n}}")
def order(n: int):
    log.info("order looked up")
    return {{"n": n}}
"""

FLASK_SERVICE = """
from flask import Flask
from berrys_monitoring.middleware.flask import setup_monitoring

app = Flask(__name__)
setup_monitoring(app, service_name="users")


@app.get("/users/<int:n>")
def user(n):
    return {{"n": n}}
"""


def _folder(source: str, name: str) -> Path:
    folder = Path(tempfile.mkdtemp(prefix="hub-link-"))
    (folder / f"{name}.py").write_text(source.format())
    return folder


def test_a_service_under_uvicorn_registers_and_sends_spans_and_logs_to_the_hub() -> None:
    with hub_double() as hub:
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        env = {
            "PYTHONPATH": str(REPO),
            "BERRYS_MONITORING_HUB_URL": hub.endpoint,
            "BERRYS_MONITORING_TOKEN": "s3cret",
        }
        with run_server(
            uvicorn_cmd("orders", _folder(SERVICE, "orders"), port),
            env=env,
            ready_url=f"{base}/health/live",
        ) as server:
            # The first request tells the service its own address; it registers at once.
            trace_id = httpx.get(f"{base}/orders/7").headers["X-Trace-Id"]
            wait_for(lambda: hub.registrations, what="a registration")
            body, headers = hub.registrations[0]
            assert body == {
                "url": base,
                "job": "orders",
                "metrics_path": "/metrics",
                "health_path": "/health",
            }
            assert headers["authorization"] == "Bearer s3cret"
            server.stop()  # the lifespan shutdown flushes spans and logs to the hub
        assert [s.trace_id for s in hub.spans if s.name == "GET /orders/{n}"] == [trace_id]
        assert "order looked up" in hub.log_bodies


def test_a_flask_service_with_a_service_url_registers_before_any_request() -> None:
    with hub_double() as hub:
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        env = {
            "PYTHONPATH": str(REPO),
            "BERRYS_MONITORING_HUB_URL": hub.endpoint,
            "BERRYS_MONITORING_SERVICE_URL": base,
        }
        with run_server(
            gunicorn_cmd("users", _folder(FLASK_SERVICE, "users"), port),
            env=env,
            ready_port=port,
        ):
            wait_for(lambda: hub.registrations, what="a registration")
            assert hub.registrations[0][0]["url"] == base
            assert hub.registrations[0][0]["job"] == "users"
            assert "authorization" not in hub.registrations[0][1]


def test_a_malformed_hub_url_fails_at_configuration_time(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValueError, match="hub_url"):
        setup_monitoring(FastAPI(), service_name="x", hub_url="hub:4318", configure_defaults=False)
    monkeypatch.setenv("BERRYS_MONITORING_HUB_URL", "ftp://hub")
    with pytest.raises(ValueError, match="BERRYS_MONITORING_HUB_URL"):
        setup_monitoring(FastAPI(), service_name="x", configure_defaults=False)


def test_without_a_hub_nothing_registers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BERRYS_MONITORING_HUB_URL", raising=False)
    before = {t.name for t in threading.enumerate()}
    observer = setup_monitoring(FastAPI(), service_name="x", configure_defaults=False)
    assert observer.hub is None
    assert "berrys-hub-registration" not in {t.name for t in threading.enumerate()} - before
