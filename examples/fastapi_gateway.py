"""The API gateway: a FastAPI service that calls the Flask user service.

It uses everything: ``setup_monitoring`` (health, metrics, access logs, request ids,
server spans), custom metrics, the logging context, a ``@trace``'d function, health checks
and trace propagation to the user service. Routes: ``/`` (fast), ``/users`` and
``/users/{user_id}`` (through the user service), ``/slow`` (slow), ``/fail`` (raises),
``/stream`` (a streamed body) and ``/report`` (work in a background task).

Run::

    USERS_SERVICE_URL=http://127.0.0.1:8001 uvicorn fastapi_gateway:app --app-dir examples \
        --port 8000 --no-access-log
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import httpx
from _knobs import (
    EXTRA_LATENCY_S,
    FAIL_HEALTH,
    PLAIN,
    USERS_SERVICE_URL,
    VERSION,
    inject_error,
)
from fastapi import BackgroundTasks, Depends, FastAPI, HTTPException, Request
from fastapi.responses import StreamingResponse

SERVICE = "api-gateway"


async def knobs(request: Request) -> None:
    """The EXAMPLE_* knobs, as a dependency of every route: they act after routing, so
    injected latency and errors are measured under the route's own template (and probes,
    answered before routing, are never affected)."""
    if request.url.path == "/health":  # the plain (EXAMPLE_PLAIN) health route
        return
    if EXTRA_LATENCY_S:
        await asyncio.sleep(EXTRA_LATENCY_S)
    if inject_error():
        raise HTTPException(status_code=500, detail="injected failure")


app = FastAPI(
    title="berrys-monitoring example gateway", version=VERSION, dependencies=[Depends(knobs)]
)

if PLAIN:
    # A service without monitoring (a baseline for the CI/CD tests): no /metrics.
    @app.get("/health")
    async def plain_health() -> dict[str, str]:
        return {"status": "ok"}

else:
    from berrys_monitoring.health import check_external_service, register_health_check
    from berrys_monitoring.logging import bind_context, configure_logging, get_context, get_logger
    from berrys_monitoring.metrics import histogram, increment_counter
    from berrys_monitoring.middleware.fastapi import setup_monitoring
    from berrys_monitoring.tracing import (
        inject_context_into_headers,
        instrument_http_clients,
        trace,
    )

    # httpx logs every outgoing request at INFO; the client spans already record them.
    configure_logging(
        service_name=SERVICE, version=VERSION, json_format=True, levels={"httpx": "warning"}
    )
    log = get_logger("gateway")

    # The user service matters to us but is not ours to restart: non-critical (warn).
    register_health_check("users-service", critical=False, timeout=2.0)(
        check_external_service(f"{USERS_SERVICE_URL}/health/live")
    )
    if FAIL_HEALTH:

        @register_health_check("config", critical=True)
        def check_config() -> tuple[bool, str]:
            return False, "EXAMPLE_FAIL_HEALTH is set"


_client: httpx.AsyncClient | None = None


def client() -> httpx.AsyncClient:
    global _client
    if _client is None:
        _client = httpx.AsyncClient(base_url=USERS_SERVICE_URL, timeout=5.0)
    return _client


async def users_get(path: str) -> httpx.Response:
    """GET from the user service, carrying the trace context (W3C traceparent)."""
    headers: dict[str, str] = {}
    if not PLAIN:
        inject_context_into_headers(headers)
        # One request id across services: the user service adopts the gateway's.
        request_id = get_context().get("request_id")
        if request_id:
            headers["X-Request-ID"] = request_id
    return await client().get(path, headers=headers)


@app.get("/")
async def index() -> dict[str, Any]:
    """Fast: answers at once."""
    return {"service": SERVICE, "version": VERSION}


@app.get("/users/{user_id}")
async def get_user(user_id: int) -> Any:
    """One user, fetched from the user service."""
    if not PLAIN:
        bind_context(user_id=str(user_id))
        increment_counter("gateway_user_lookups_total", {"source": "users-service"})
    r = await users_get(f"/users/{user_id}")
    if r.status_code == 404:
        raise HTTPException(status_code=404, detail="user not found")
    if r.status_code >= 400:
        raise HTTPException(status_code=502, detail=f"user service answered {r.status_code}")
    return enrich(r.json())


@app.get("/users")
async def list_users() -> Any:
    """All users, fetched from the user service."""
    r = await users_get("/users")
    if r.status_code >= 400:
        raise HTTPException(status_code=502, detail=f"user service answered {r.status_code}")
    return r.json()


@app.get("/slow")
async def slow(ms: int = 250) -> dict[str, int]:
    """Slow: sleeps ``ms`` milliseconds (at most 5 s)."""
    await asyncio.sleep(min(max(ms, 0), 5000) / 1000.0)
    return {"slept_ms": ms}


@app.get("/fail")
async def fail() -> None:
    """Failing: an unhandled exception (the framework answers 500)."""
    raise RuntimeError("the gateway failed on purpose")


@app.get("/stream")
async def stream(chunks: int = 5) -> StreamingResponse:
    """A streamed response: the request is timed to its last chunk."""

    async def body() -> AsyncIterator[bytes]:
        for i in range(min(chunks, 100)):
            await asyncio.sleep(0.01)
            yield f"chunk {i}\n".encode()

    return StreamingResponse(body(), media_type="text/plain")


@app.get("/report")
async def report(background: BackgroundTasks) -> dict[str, str]:
    """Queues work in a background task; its log line keeps the request id."""
    background.add_task(build_report)
    return {"status": "queued"}


def build_report() -> None:
    if not PLAIN:
        log.info("report built in the background")


if not PLAIN:

    @trace("enrich_user")
    def enrich(user: dict[str, Any]) -> dict[str, Any]:
        """Traced as its own span inside the request's server span."""
        histogram("gateway_user_name_length", len(str(user.get("name", ""))))
        return {**user, "via": SERVICE}

    instrument_http_clients()
    setup_monitoring(app, service_name=SERVICE, version=VERSION)
    log.info("gateway ready", extra={"users_service": USERS_SERVICE_URL})
else:

    def enrich(user: dict[str, Any]) -> dict[str, Any]:
        return {**user, "via": SERVICE}
