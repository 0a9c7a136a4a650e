"""Scraping and probing registered targets: a real service under uvicorn registers with a
real hub (``BERRYS_MONITORING_HUB_URL``), which scrapes its /metrics and probes its
/health on a shrunk interval; when the service goes away, ``up`` drops to 0."""

from __future__ import annotations

import tempfile
from pathlib import Path

import httpx
import pytest
from tests.hub.conftest import start_hub
from tests.integration._services import uvicorn_cmd
from tests.support.servers import REPO, free_port, run_server, wait_for

pytestmark = pytest.mark.slow

SERVICE = """
from fastapi import FastAPI
from berrys_monitoring.health import register_health_check
from berrys_monitoring.middleware.fastapi import setup_monitoring

app = FastAPI()
setup_monitoring(app, service_name="catalog")


@register_health_check("warehouse", critical=False)
def warehouse():
    return True, "reachable"


@app.get("/items")
def items():
    return []
"""


def _latest(client: httpx.Client, name: str, **labels: str) -> float | None:
    params = {"name": name, "label": [f"{k}={v}" for k, v in labels.items()]}
    series = client.get("/api/v1/metrics/samples", params=params).json()["series"]
    if not series:
        return None
    return float(series[0]["samples"][-1][1])


def test_a_registered_service_is_scraped_probed_and_marked_down_when_gone(
    tmp_path: Path,
) -> None:
    config = tmp_path / "hub.yaml"
    config.write_text("scrape_interval: 0.3s\n")
    with start_hub(tmp_path / "data", "--config", str(config)) as hub, hub.client() as client:
        folder = Path(tempfile.mkdtemp(prefix="scraped-"))
        (folder / "catalog.py").write_text(SERVICE)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        env = {
            "PYTHONPATH": str(REPO),
            "BERRYS_MONITORING_HUB_URL": hub.url,
            "BERRYS_MONITORING_SERVICE_URL": base,
        }
        job = {"job": "catalog", "instance": f"127.0.0.1:{port}"}
        with run_server(uvicorn_cmd("catalog", folder, port), env=env, ready_url=f"{base}/items"):
            for _ in range(5):
                httpx.get(f"{base}/items")
            # The service's own request counter, with the target's job and instance.
            wait_for(
                lambda: (_latest(client, "http_requests_total", route="/items", **job) or 0) >= 5,
                what="the scraped request counter",
            )
            assert _latest(client, "up", **job) == 1.0
            assert (_latest(client, "scrape_samples_scraped", **job) or 0) > 10
            assert _latest(client, "berrys_health_status", **job) == 1.0
            check = _latest(client, "berrys_health_check_status", check="warehouse", **job)
            assert check == 1.0
            (target,) = client.get("/api/v1/targets").json()["targets"]
            assert target["scrape"]["up"] is True and target["scrape"]["health"] == "pass"
        # The service stopped: the next scrape fails and says why.
        wait_for(lambda: _latest(client, "up", **job) == 0.0, what="up to drop to 0")
        (target,) = client.get("/api/v1/targets").json()["targets"]
        assert target["scrape"]["up"] is False
        assert "ConnectError" in target["scrape"]["last_error"]
