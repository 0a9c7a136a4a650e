"""What ``/health`` shows, and to whom, under setup_monitoring: free text redacted as in
the logs, and with ``health_auth`` the details only for an authorized caller. Real
FastAPI (uvicorn) and Flask (werkzeug) servers on loopback."""

from __future__ import annotations

import base64
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

import httpx
import pytest
from prometheus_client import CollectorRegistry
from tests.support.servers import uvicorn_in_thread

from berrys_monitoring.health import CheckResult, HealthRegistry, HealthStatus

SECRETS = ("hunter2", "sk_live_51HxQ", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl")


def _register_leaky_checks(registry: HealthRegistry) -> None:
    @registry.register("database")
    def database() -> bool:
        # A driver error quoting the connection settings, secrets and all.
        raise ConnectionError("login failed: user=app password=hunter2 host=db")

    @registry.register("payments", critical=False)
    def payments() -> CheckResult:
        return CheckResult(
            HealthStatus.DEGRADED,
            f"provider slow with api_key={SECRETS[1]}",
            details={"authorization": f"Bearer {SECRETS[2]}", "region": "eu-west-1"},
        )

    registry.register("process", lambda: (True, "alive"), probes=("liveness", "readiness"))


@contextmanager
def _fastapi(**options: Any) -> Iterator[str]:
    from fastapi import FastAPI

    from berrys_monitoring.middleware.fastapi import setup_monitoring

    app = FastAPI()
    setup_monitoring(
        app, service_name="svc", registry=CollectorRegistry(), configure_defaults=False, **options
    )
    with uvicorn_in_thread(app, http="h11", lifespan="off", log_config=None) as port:
        yield f"http://127.0.0.1:{port}"


@contextmanager
def _flask(**options: Any) -> Iterator[str]:
    from flask import Flask
    from werkzeug.serving import make_server

    from berrys_monitoring.middleware.flask import setup_monitoring

    app = Flask(__name__)
    setup_monitoring(
        app, service_name="svc", registry=CollectorRegistry(), configure_defaults=False, **options
    )
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
    )
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(5)


SERVERS: dict[str, Callable[..., AbstractContextManager[str]]] = {
    "fastapi": _fastapi,
    "flask": _flask,
}


@pytest.mark.parametrize("server", SERVERS)
def test_health_redacts_secrets_in_messages_and_details(
    server: str, registry: HealthRegistry
) -> None:
    _register_leaky_checks(registry)
    with SERVERS[server]() as url:
        r = httpx.get(f"{url}/health")
    assert r.status_code == 503
    for secret in SECRETS:
        assert secret not in r.text, f"{secret!r} leaked in /health"
    checks = r.json()["checks"]
    db = checks["database:responseTime"][0]["output"]
    assert db == "ConnectionError: login failed: user=app password=[REDACTED] host=db"
    assert checks["payments:responseTime"][0]["output"] == "provider slow with api_key=[REDACTED]"


@pytest.mark.parametrize(
    ("server", "auth", "credentials"),
    [
        ("fastapi", "probe-token", "Bearer probe-token"),
        ("flask", ("ops", "pw"), "Basic " + base64.b64encode(b"ops:pw").decode()),
    ],
)
def test_health_auth_shows_details_only_to_an_authorized_caller(
    server: str, auth: object, credentials: str, registry: HealthRegistry
) -> None:
    _register_leaky_checks(registry)
    with SERVERS[server](health_auth=auth) as url:
        anonymous = httpx.get(f"{url}/health")
        wrong = httpx.get(f"{url}/health", headers={"Authorization": "Bearer nope"})
        live = httpx.get(f"{url}/health/live")
        ready = httpx.get(f"{url}/health/ready")
        authorized = httpx.get(f"{url}/health", headers={"Authorization": credentials})
    # Everyone else gets the status code and the minimal health+json body.
    for r, code, status in (
        (anonymous, 503, "fail"),
        (wrong, 503, "fail"),
        (live, 200, "pass"),
        (ready, 503, "fail"),
    ):
        assert r.status_code == code
        assert r.headers["content-type"] == "application/health+json"
        assert r.json() == {"status": status}
    # The authorized caller sees every check, still redacted.
    assert authorized.status_code == 503
    doc = authorized.json()
    assert set(doc["checks"]) == {
        "database:responseTime",
        "payments:responseTime",
        "process:responseTime",
    }
    assert doc["serviceId"] == "svc"
    assert "hunter2" not in authorized.text and "[REDACTED]" in authorized.text


@pytest.mark.parametrize("bad", ["", ("user",), ("user", ""), 42])
def test_a_malformed_health_auth_is_refused_at_setup(bad: object) -> None:
    from berrys_monitoring.middleware._options import build_options

    with pytest.raises(ValueError, match="health_auth must be"):
        build_options("svc", {"health_auth": bad})
