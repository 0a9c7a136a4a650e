"""A small real service for the cicd tests, with the example services' env knobs.

Used until/unless examples/flask_users.py is available: ``/users``, ``/health``
(application/health+json) and ``/metrics`` (Prometheus text, the request metrics that
``setup_monitoring`` exposes). Knobs, read at startup:

* EXAMPLE_EXTRA_LATENCY_MS: added to every non-probe request
* EXAMPLE_ERROR_RATE: this exact fraction of requests answered 500 (deterministic spacing,
  so a test never depends on luck)
* EXAMPLE_FAIL_HEALTH=1: the critical ``database`` check fails
* EXAMPLE_PLAIN=1: no /metrics; /health answers a plain 200 JSON
"""

from __future__ import annotations

import asyncio
import json
import os
import time

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

EXTRA_MS = float(os.environ.get("EXAMPLE_EXTRA_LATENCY_MS", "0") or 0)
ERROR_RATE = float(os.environ.get("EXAMPLE_ERROR_RATE", "0") or 0)
FAIL_HEALTH = os.environ.get("EXAMPLE_FAIL_HEALTH") == "1"
PLAIN = os.environ.get("EXAMPLE_PLAIN") == "1"

registry = CollectorRegistry()
REQUESTS = Counter("http_requests", "requests", ("method", "route", "status"), registry=registry)
DURATION = Histogram(
    "http_request_duration_seconds", "latency", ("method", "route"), registry=registry
)
_count = 0


async def _send(send, status: int, body: bytes, ctype: str) -> None:
    headers = [(b"content-type", ctype.encode()), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _health() -> tuple[int, dict]:
    if PLAIN:
        return 200, {"ok": True}
    db = {"componentType": "datastore", "status": "fail" if FAIL_HEALTH else "pass"}
    if FAIL_HEALTH:
        db["output"] = "connection refused"
    checks = {
        "database:connections": [db],
        "cache:responseTime": [{"componentType": "datastore", "status": "pass"}],
    }
    status = "fail" if FAIL_HEALTH else "pass"
    return (503 if FAIL_HEALTH else 200), {"status": status, "checks": checks}


async def app(scope, receive, send) -> None:
    global _count
    if scope["type"] != "http":
        return
    path = scope["path"]
    if path == "/health":
        code, body = _health()
        return await _send(send, code, json.dumps(body).encode(), "application/health+json")
    if path == "/metrics" and not PLAIN:
        return await _send(
            send, 200, generate_latest(registry), "text/plain; version=0.0.4; charset=utf-8"
        )
    t0 = time.perf_counter()
    if EXTRA_MS:
        await asyncio.sleep(EXTRA_MS / 1000)
    i = _count
    _count += 1
    if int((i + 1) * ERROR_RATE) > int(i * ERROR_RATE):
        code, body = 500, b'{"error": "injected"}'
    elif path == "/users":
        code, body = 200, json.dumps([{"id": n, "name": f"user{n}"} for n in range(5)]).encode()
    else:
        code, body = 404, b'{"error": "not found"}'
    route = path if code != 404 else "<unmatched>"
    REQUESTS.labels(scope["method"], route, str(code)).inc()
    DURATION.labels(scope["method"], route).observe(time.perf_counter() - t0)
    await _send(send, code, body, "application/json")
