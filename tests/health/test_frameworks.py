"""check_health() from a Flask view (WSGI, threaded server) and check_health_async() from
a FastAPI endpoint under uvicorn, both over real sockets."""

from __future__ import annotations

import asyncio
import json
import sys
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
from tests.support.servers import free_port, run_server

from berrys_monitoring.health import HealthRegistry, check_health, register_health_check


@pytest.fixture
def flask_url(registry: HealthRegistry) -> Iterator[str]:
    from flask import Flask, Response
    from werkzeug.serving import make_server

    app = Flask(__name__)

    @app.get("/health")
    def health() -> Response:
        report = check_health()
        return Response(
            json.dumps(report.to_health_json()),
            status=report.http_status,
            content_type=report.content_type,
        )

    server = make_server("127.0.0.1", 0, app, threaded=True)
    # A short poll interval: shutdown() waits for one.
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
    )
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(5)


def test_flask_view_serves_sync_and_async_checks(flask_url: str, redis_url: str) -> None:
    from berrys_monitoring.health import check_redis_connection

    register_health_check("redis")(check_redis_connection(redis_url))

    @register_health_check("search")
    async def search() -> tuple[bool, str]:
        await asyncio.sleep(0)
        return True, "index open"

    # Concurrent requests: each view thread runs the checks (joining runs in flight).
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(5) as pool:
        responses = list(pool.map(lambda _: httpx.get(f"{flask_url}/health"), range(10)))
    for r in responses:
        assert r.status_code == 200
        assert r.headers["content-type"] == "application/health+json"
        body = r.json()
        assert body["status"] == "pass"
        assert set(body["checks"]) == {"redis:responseTime", "search:responseTime"}


def test_flask_view_answers_503_when_a_critical_check_fails(
    flask_url: str, refused_port: int
) -> None:
    from berrys_monitoring.health import check_postgres

    register_health_check("database")(
        check_postgres(f"postgresql://postgres@127.0.0.1:{refused_port}/postgres")
    )
    r = httpx.get(f"{flask_url}/health")
    assert r.status_code == 503
    assert r.json()["checks"]["database:responseTime"][0]["status"] == "fail"


FASTAPI_APP = """
import asyncio, threading
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from berrys_monitoring.health import check_health_async, register_health_check

app = FastAPI()
never = threading.Event()
register_health_check("hung", timeout=0.5)(lambda: never.wait(60))

@register_health_check("pool")
async def pool():
    await asyncio.sleep(0)
    return True, "pool ok"

@app.get("/health")
async def health():
    report = await check_health_async()
    return JSONResponse(report.to_health_json(), status_code=report.http_status,
                        media_type="application/health+json")

@app.get("/ping")
async def ping():
    return {"pong": True}
"""


def test_uvicorn_app_keeps_serving_while_a_check_hangs(tmp_path) -> None:
    (tmp_path / "health_app.py").write_text(FASTAPI_APP)
    port = free_port()
    cmd = [sys.executable, "-m", "uvicorn", "health_app:app", "--port", str(port)]
    with run_server(cmd, cwd=tmp_path, ready_url=f"http://127.0.0.1:{port}/ping"):

        async def scenario() -> tuple[httpx.Response, list[httpx.Response]]:
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
                health = asyncio.create_task(client.get("/health", timeout=5))
                await asyncio.sleep(0.1)
                # While /health waits on the hung check, the event loop still serves.
                pings = [await client.get("/ping") for _ in range(3)]
                assert not health.done()
                return await health, pings

        health, pings = asyncio.run(scenario())
    assert all(p.status_code == 200 for p in pings)
    assert health.status_code == 503
    body = health.json()
    assert body["checks"]["hung:responseTime"][0]["output"] == "timed out after 0.5s"
    assert body["checks"]["pool:responseTime"][0]["status"] == "pass"


HUNG_FLASK_APP = """
import threading
from flask import Flask
from berrys_monitoring.health import register_health_check
from berrys_monitoring.middleware.flask import setup_monitoring

app = Flask(__name__)
setup_monitoring(app, service_name="hung-flask", enable_tracing=False, log_requests=False)
never = threading.Event()
calls = []

@register_health_check("hung", timeout=TIMEOUT)
def hung():
    calls.append(1)
    never.wait(60)  # a dependency that accepted the connection and never answers
    return True

@app.get("/calls")
def count():
    return {"calls": len(calls)}
"""


def test_concurrent_health_calls_under_threaded_flask_share_one_bounded_evaluation(
    tmp_path,
) -> None:
    # Four server threads, eight concurrent /health calls, a check that hangs. Each call
    # used to wait a full timeout of its own on the hung run, so the second four (queued
    # behind the first) answered after two timeouts. Now every caller shares the run's
    # deadline: all eight answer within about one timeout, and the check runs once.
    from concurrent.futures import ThreadPoolExecutor

    from tests.support.servers import require_binary

    require_binary("gunicorn", "pip install gunicorn")
    # Long enough that the old behaviour (two timeouts, 3 s) and the bound below (2.5 s)
    # stay a second apart on a loaded machine.
    timeout = 1.5
    (tmp_path / "hung_flask.py").write_text(HUNG_FLASK_APP.replace("TIMEOUT", repr(timeout)))
    port = free_port()
    cmd = [sys.executable, "-m", "gunicorn", "-w", "1", "-k", "gthread", "--threads", "4"]
    cmd += ["-b", f"127.0.0.1:{port}", "hung_flask:app"]
    base = f"http://127.0.0.1:{port}"
    with run_server(cmd, cwd=tmp_path, ready_url=f"{base}/calls"):

        def timed_get(_: int) -> tuple[float, httpx.Response]:
            t0 = time.monotonic()
            r = httpx.get(f"{base}/health", timeout=10)
            return time.monotonic() - t0, r

        t0 = time.monotonic()
        with ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(timed_get, range(8)))
        total = time.monotonic() - t0
        calls = httpx.get(f"{base}/calls").json()["calls"]
    for _, r in answers:
        assert r.status_code == 503
        assert r.json()["checks"]["hung:responseTime"][0]["output"] == "timed out after 1.5s"
    assert calls == 1, "the hung check was started again instead of joined"
    slowest = max(latency for latency, _ in answers)
    assert slowest < timeout + 1.0, f"a caller waited {slowest:.2f}s (timeout {timeout}s)"
    assert total < timeout + 1.0
