"""The user service: a Flask app behind the gateway, served by gunicorn.

It uses everything: ``setup_monitoring``, custom metrics, the logging context, a
``@trace``'d function and health checks. Routes: ``/users`` and ``/users/<int:user_id>``
(route template ``/users/<int:user_id>``), ``/slow``, ``/fail`` and ``/stream``.

Run::

    gunicorn -c examples/gunicorn_conf.py --chdir examples flask_users:app --bind 127.0.0.1:8001
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _knobs import EXTRA_LATENCY_S, FAIL_HEALTH, PLAIN, VERSION, inject_error
from flask import Flask, Response, abort, jsonify, request

SERVICE = "user-service"
USERS: dict[int, dict[str, Any]] = {
    1: {"id": 1, "name": "Ada Lovelace", "email": "ada@example.com"},
    2: {"id": 2, "name": "Grace Hopper", "email": "grace@example.com"},
    3: {"id": 3, "name": "Alan Turing", "email": "alan@example.com"},
    4: {"id": 4, "name": "Barbara Liskov", "email": "barbara@example.com"},
    5: {"id": 5, "name": "Edsger Dijkstra", "email": "edsger@example.com"},
}

app = Flask(__name__)

if PLAIN:

    @app.get("/health")
    def plain_health() -> Any:
        return jsonify(status="ok")

else:
    from berrys_monitoring.health import check_sqlite, register_health_check
    from berrys_monitoring.logging import bind_context, configure_logging, get_logger
    from berrys_monitoring.metrics import gauge, increment_counter
    from berrys_monitoring.middleware.flask import setup_monitoring
    from berrys_monitoring.tracing import trace

    configure_logging(service_name=SERVICE, version=VERSION, json_format=True)
    log = get_logger("users")

    register_health_check("user-store", component_type="datastore")(check_sqlite(":memory:"))
    if FAIL_HEALTH:

        @register_health_check("config", critical=True)
        def check_config() -> tuple[bool, str]:
            return False, "EXAMPLE_FAIL_HEALTH is set"


@app.before_request
def knobs() -> Any:
    # Probes are answered by the monitoring middleware before Flask: never delayed here.
    if EXTRA_LATENCY_S:
        time.sleep(EXTRA_LATENCY_S)
    if inject_error():
        return jsonify(error="injected failure"), 500
    return None


def lookup(user_id: int) -> dict[str, Any] | None:
    return USERS.get(user_id)


if not PLAIN:
    lookup = trace("lookup_user")(lookup)


@app.get("/users")
def list_users() -> Any:
    if not PLAIN:
        gauge("users_known", len(USERS))
    return jsonify(list(USERS.values()))


@app.get("/users/<int:user_id>")
def get_user(user_id: int) -> Any:
    if not PLAIN:
        bind_context(user_id=str(user_id))
    user = lookup(user_id)
    if user is None:
        if not PLAIN:
            increment_counter("user_lookups_total", {"result": "missing"})
            log.info("user not found")
        abort(404)
    if not PLAIN:
        increment_counter("user_lookups_total", {"result": "found"})
    return jsonify(user)


@app.get("/slow")
def slow() -> Any:
    ms = min(max(request.args.get("ms", 250, type=int), 0), 5000)
    time.sleep(ms / 1000.0)
    return jsonify(slept_ms=ms)


@app.get("/fail")
def fail() -> Any:
    raise RuntimeError("the user service failed on purpose")


@app.get("/stream")
def stream() -> Response:
    def body() -> Iterator[bytes]:
        for i in range(5):
            time.sleep(0.01)
            yield f"chunk {i}\n".encode()

    return Response(body(), mimetype="text/plain")


if not PLAIN:
    setup_monitoring(app, service_name=SERVICE, version=VERSION)
