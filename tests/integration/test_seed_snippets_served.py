"""The guide's "Getting Started" snippets, verbatim (prefix changed), served by real
uvicorn and gunicorn processes: /health, /metrics and request metrics over real HTTP."""

from __future__ import annotations

import tempfile
from pathlib import Path

import httpx
import pytest
from tests.integration._services import gunicorn_cmd, metric_value, uvicorn_cmd
from tests.support.servers import REPO, free_port, run_server

pytestmark = pytest.mark.slow

SEED_FASTAPI = """
from fastapi import FastAPI
from berrys_monitoring.middleware.fastapi import setup_monitoring

app = FastAPI()

# Set up monitoring with default settings
setup_monitoring(app, service_name="your-service-name")
"""

SEED_FLASK = """
from flask import Flask
from berrys_monitoring.middleware.flask import setup_monitoring

app = Flask(__name__)

# Set up monitoring with default settings
setup_monitoring(app, service_name="your-service-name")
"""

# The seed snippets define no route; the tests add one after them (not part of the seed)
# so there is a request to count.
FASTAPI_ROUTE = """

@app.get("/items/{item_id}")
async def read_item(item_id: int):
    return {"item_id": item_id}
"""

FLASK_ROUTE = """

@app.get("/items/<int:item_id>")
def read_item(item_id):
    return {"item_id": item_id}
"""


def write_app(source: str) -> Path:
    folder = Path(tempfile.mkdtemp(prefix="seed-app-"))
    (folder / "service.py").write_text(source)
    return folder


def check_service(base: str, route: str) -> None:
    for item in (1, 2, 3):
        r = httpx.get(f"{base}/items/{item}")
        assert r.status_code == 200 and r.json() == {"item_id": item}
        assert r.headers["x-request-id"]
    assert httpx.get(f"{base}/no-such-page").status_code == 404

    health = httpx.get(f"{base}/health")
    assert health.status_code == 200
    assert health.headers["content-type"] == "application/health+json"
    assert health.json()["status"] == "pass"
    assert health.json()["serviceId"] == "your-service-name"
    assert httpx.get(f"{base}/health/live").status_code == 200
    assert httpx.get(f"{base}/health/ready").status_code == 200

    metrics = httpx.get(f"{base}/metrics")
    assert metrics.status_code == 200
    assert metrics.headers["content-type"].startswith("text/plain")
    text = metrics.text
    assert metric_value(text, "http_requests_total", method="GET", route=route, status="200") == 3
    assert metric_value(text, "http_requests_total", route="<unmatched>", status="404") == 1
    assert metric_value(text, "http_request_duration_seconds_count", route=route) == 3
    assert metric_value(text, "http_requests_total", route="/health") == 0


def test_seed_fastapi_snippet_served_by_uvicorn() -> None:
    folder = write_app(SEED_FASTAPI + FASTAPI_ROUTE)
    port = free_port()
    with run_server(
        uvicorn_cmd("service", folder, port),
        env={"PYTHONPATH": str(REPO)},
        ready_url=f"http://127.0.0.1:{port}/health",
    ) as server:
        try:
            check_service(f"http://127.0.0.1:{port}", "/items/{item_id}")
        except AssertionError:
            print(server.output()[-4000:])  # the server's side of a failure
            raise


def test_seed_flask_snippet_served_by_gunicorn() -> None:
    folder = write_app(SEED_FLASK + FLASK_ROUTE)
    port = free_port()
    with run_server(
        gunicorn_cmd("service", folder, port, "--workers", "2", "--worker-class", "gthread"),
        env={"PYTHONPATH": str(REPO)},
        ready_url=f"http://127.0.0.1:{port}/health",
    ) as server:
        try:
            check_service(f"http://127.0.0.1:{port}", "/items/<int:item_id>")
        except AssertionError:
            print(server.output()[-4000:])
            raise
