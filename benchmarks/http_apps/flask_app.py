"""The Flask benchmark app (run with gunicorn, 1 gthread worker); variant from BENCH_VARIANT."""

from __future__ import annotations

import time
from typing import Any

from flask import Flask, Response, g, jsonify, request

from benchmarks.http_apps._variant import (
    PAYLOAD,
    VARIANT,
    combo_tracer_provider,
    configure_ours,
    ours_options,
)

app = Flask(__name__)


@app.get("/hello")
def hello() -> Any:
    return jsonify(PAYLOAD)


def _prometheus_hooks(flask_app: Flask) -> None:
    """What a Flask user writes by hand with prometheus_client (there is no maintained
    instrumentator for Flask): a counter and a histogram fed from request hooks."""
    from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest

    requests_total = Counter(
        "http_requests_total", "HTTP requests.", ["method", "endpoint", "status"]
    )
    duration = Histogram(
        "http_request_duration_seconds", "HTTP request duration.", ["method", "endpoint"]
    )

    @flask_app.before_request
    def _start() -> None:
        g._bench_start = time.perf_counter()

    @flask_app.after_request
    def _record(response: Response) -> Response:
        endpoint = request.url_rule.rule if request.url_rule else "<unmatched>"
        requests_total.labels(request.method, endpoint, str(response.status_code)).inc()
        duration.labels(request.method, endpoint).observe(time.perf_counter() - g._bench_start)
        return response

    @flask_app.get("/metrics")
    def _metrics() -> Response:
        return Response(generate_latest(), mimetype=CONTENT_TYPE_LATEST)


if VARIANT in ("ours", "ours10"):
    from berrys_monitoring.middleware.flask import setup_monitoring

    configure_ours("bench-flask")
    setup_monitoring(app, service_name="bench-flask", **ours_options())  # type: ignore[arg-type]
elif VARIANT == "combo":
    from opentelemetry.instrumentation.flask import FlaskInstrumentor

    _prometheus_hooks(app)
    FlaskInstrumentor().instrument_app(app, tracer_provider=combo_tracer_provider("bench-flask"))
elif VARIANT == "floor":
    raise SystemExit("BENCH_VARIANT=floor is a FastAPI variant (http_apps/floor.py is ASGI)")
