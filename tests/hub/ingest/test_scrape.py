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


def test_targets_from_prometheus_scrape_configs_are_scraped(tmp_path: Path) -> None:
    folder = Path(tempfile.mkdtemp(prefix="scraped-"))
    (folder / "catalog.py").write_text(SERVICE)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    # The scrape section of a Prometheus configuration, pasted as it is (relabelling and
    # all: what the hub does not use is ignored), beside the hub's own settings.
    config = tmp_path / "hub.yaml"
    config.write_text(
        "hub:\n"
        "  scrape-interval: 0.3s\n"
        "scrape_configs:\n"
        "  - job_name: catalog-static\n"
        "    scrape_interval: 15s\n"
        "    metrics_path: /metrics\n"
        "    relabel_configs: []\n"
        "    static_configs:\n"
        f"      - targets: ['127.0.0.1:{port}']\n"
        "        labels: {team: shop}\n"
    )
    env = {"PYTHONPATH": str(REPO)}
    with run_server(uvicorn_cmd("catalog", folder, port), env=env, ready_url=f"{base}/items"):
        with start_hub(tmp_path / "data", "--config", str(config)) as hub, hub.client() as c:
            labels = {"job": "catalog-static", "instance": f"127.0.0.1:{port}", "team": "shop"}
            wait_for(lambda: _latest(c, "up", **labels) == 1.0, what="the configured target")
            (target,) = c.get("/api/v1/targets").json()["targets"]
            assert target["source"] == "config" and target["labels"] == {"team": "shop"}
