"""start_metrics_server serves the exposition over real HTTP, negotiating the format."""

from __future__ import annotations

import httpx
import pytest
from prometheus_client import CollectorRegistry

from berrys_monitoring import internal_error_counts
from berrys_monitoring.metrics import (
    configure_metrics,
    increment_counter,
    metrics_exposition,
    start_metrics_server,
)


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


class _BrokenCollector:
    def collect(self) -> list[object]:
        raise RuntimeError("backing store unavailable")


def test_a_raising_collector_is_skipped_and_every_other_metric_is_still_served(
    registry: CollectorRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Production behaviour (the test suite's strict mode re-raises internal errors).
    monkeypatch.setenv("BERRYS_MONITORING_STRICT", "0")
    increment_counter("before_total")
    registry.register(_BrokenCollector())  # type: ignore[arg-type]
    increment_counter("after_total")
    body, _ = metrics_exposition(registry=registry)
    assert "before_total 1.0" in body.decode() and "after_total 1.0" in body.decode()
    with start_metrics_server(0, registry=registry) as server:
        r = httpx.get(server.url, headers={"Accept": "application/openmetrics-text"})
        assert r.status_code == 200
        assert "before_total 1.0" in r.text and r.text.rstrip().endswith("# EOF")
    assert internal_error_counts()["metrics"] == 2  # one per scrape
    # The self-metrics are collected before the broken collector: the second scrape
    # shows the failure of the first.
    assert 'berrys_monitoring_internal_errors_total{component="metrics"} 1.0' in r.text


def test_a_raising_collector_surfaces_in_strict_mode(registry: CollectorRegistry) -> None:
    registry.register(_BrokenCollector())  # type: ignore[arg-type]
    with pytest.raises(RuntimeError, match="backing store unavailable"):
        metrics_exposition(registry=registry)
