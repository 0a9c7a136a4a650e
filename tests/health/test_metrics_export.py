"""With metrics=True, check results become gauges in the real Prometheus registry, where
alert rules (metrics.current_value) and scrapes (/metrics) see them."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from prometheus_client import CollectorRegistry

from berrys_monitoring.health import HealthRegistry, configure_health, get_health_registry
from berrys_monitoring.metrics import (
    configure_metrics,
    current_value,
    metrics_exposition,
    reset_metrics,
)


@pytest.fixture
def prom() -> Iterator[CollectorRegistry]:
    reg = CollectorRegistry()
    configure_metrics(registry=reg)
    yield reg
    reset_metrics(reg)


def test_check_results_are_exported_as_status_and_duration_gauges(prom: CollectorRegistry) -> None:
    health = HealthRegistry(metrics=True)
    health.register("db", lambda: (False, "down"))
    health.register("cache", lambda: "warn", critical=False)
    health.register("queue", lambda: True)
    never = threading.Event()
    health.register("hung", lambda: never.wait(5), timeout=0.1)
    try:
        health.check_health()
    finally:
        never.set()
    assert current_value("health_check_status", {"check": "db"}) == 0.0
    assert current_value("health_check_status", {"check": "cache"}) == 0.5
    assert current_value("health_check_status", {"check": "queue"}) == 1.0
    assert current_value("health_check_status", {"check": "hung"}) == 0.0
    assert current_value("health_check_duration_seconds", {"check": "hung"}) == 0.1
    text = metrics_exposition(registry=prom)[0].decode()
    assert 'health_check_status{check="db"} 0.0' in text


def test_metrics_export_is_off_by_default_and_switchable(prom: CollectorRegistry) -> None:
    health = HealthRegistry()
    health.register("db", lambda: True)
    health.check_health()
    assert current_value("health_check_status", {"check": "db"}) is None
    health.configure(metrics=True)
    health.check_health()
    assert current_value("health_check_status", {"check": "db"}) == 1.0


def test_configure_health_turns_on_export_for_the_default_registry(
    registry: HealthRegistry, prom: CollectorRegistry
) -> None:
    configure_health(metrics=True, service_id="users")
    assert get_health_registry().metrics and registry.service_id == "users"
    registry.register("db", lambda: True)
    registry.check_health()
    assert current_value("health_check_status", {"check": "db"}) == 1.0
