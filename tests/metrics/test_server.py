"""start_metrics_server serves the exposition over real HTTP, negotiating the format."""

from __future__ import annotations

import httpx
from prometheus_client import CollectorRegistry

from berrys_monitoring.metrics import configure_metrics, increment_counter, start_metrics_server


def test_metrics_server_serves_text_and_openmetrics(registry: CollectorRegistry) -> None:
    with start_metrics_server(0, registry=registry) as server:
        assert server.host == "127.0.0.1"
        increment_counter("served_total", {"route": "/a"})
        r = httpx.get(server.url)
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/plain; version=0.0.4")
        assert 'served_total{route="/a"} 1.0' in r.text
        r = httpx.get(server.url, headers={"Accept": "application/openmetrics-text"})
        assert r.headers["content-type"].startswith("application/openmetrics-text")
        assert r.text.rstrip().endswith("# EOF")


def test_metrics_server_follows_a_later_configuration() -> None:
    with start_metrics_server(0) as server:
        reg = CollectorRegistry()
        configure_metrics(registry=reg, prefix="late")
        increment_counter("hits")
        assert "late_hits_total 1.0" in httpx.get(server.url).text
