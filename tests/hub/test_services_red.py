"""``GET /api/v1/services`` carries each service's RED figures and health, read with
PromQL from what the hub scraped: a real service under uvicorn registers with a real hub
that scrapes it on a shrunk interval, and the figures follow the traffic the test sends."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.hub.conftest import start_hub
from tests.integration._services import uvicorn_cmd
from tests.support.servers import REPO, free_port, run_server, wait_for

pytestmark = pytest.mark.slow

SERVICE = """
from fastapi import FastAPI, HTTPException
from berrys_monitoring.middleware.fastapi import setup_monitoring

app = FastAPI()
setup_monitoring(app, service_name="ledger")


@app.get("/entries")
def entries():
    return []


@app.get("/boom")
def boom():
    raise HTTPException(503, "down for maintenance")
"""


def _service(client: httpx.Client, name: str, **params: str) -> dict[str, Any] | None:
    body = client.get("/api/v1/services", params=params).json()
    return next((s for s in body["services"] if s["name"] == name), None)


def test_services_list_request_rate_errors_latency_and_health(tmp_path: Path) -> None:
    config = tmp_path / "hub.yaml"
    config.write_text("scrape_interval: 0.3s\n")
    with start_hub(tmp_path / "data", "--config", str(config)) as hub, hub.client() as client:
        folder = Path(tempfile.mkdtemp(prefix="red-"))
        (folder / "ledger.py").write_text(SERVICE)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        env = {
            "PYTHONPATH": str(REPO),
            "BERRYS_MONITORING_HUB_URL": hub.url,
            "BERRYS_MONITORING_SERVICE_URL": base,
        }
        started = time.time()
        with run_server(uvicorn_cmd("ledger", folder, port), env=env, ready_url=f"{base}/entries"):

            def figures() -> dict[str, Any] | None:
                for _ in range(3):
                    httpx.get(f"{base}/entries")
                httpx.get(f"{base}/boom")
                s = _service(client, "ledger", window="10s")
                if s and s["request_rate"] and s["error_rate"] and s["health"]:
                    return s
                return None

            s = wait_for(figures, what="the ledger's RED figures", timeout=60, interval=0.5)
            assert s is not None
            assert s["request_rate"] > 0
            # a quarter of the requests fail with a 503 (the hub's own probes add 2xx)
            assert 0.0 < s["error_rate"] <= 0.25 + 1e-9
            assert 0 < s["p50_seconds"] <= s["p95_seconds"] <= s["p99_seconds"]
            assert s["health"]["status"] == "pass"
            assert started - 60 <= s["health"]["since"] <= time.time()
        # A malformed window is a 400 that says what a window looks like.
        bad = client.get("/api/v1/services", params={"window": "five minutes"})
        assert bad.status_code == 400 and "PromQL duration" in bad.text
