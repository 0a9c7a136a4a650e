"""check_health() from a Flask view (WSGI, threaded server) and check_health_async() from
a FastAPI endpoint under uvicorn, both over real sockets."""

from __future__ import annotations

import asyncio
import json
import sys
import threading
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
