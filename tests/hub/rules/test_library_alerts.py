"""Alerts raised with the library (``trigger_alert`` and its notifiers) pointed at the hub
land in the same alert store as the rules' alerts, marked ``source: library``."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from tests.hub.conftest import RunningHub
from tests.support.servers import wait_for

from berrys_monitoring.alerts import AlertManager, AlertmanagerNotifier, AlertSeverity, HubNotifier


def _alerts(c: httpx.Client, **params: str) -> list[dict[str, Any]]:
    return list(c.get("/api/v1/alerts", params=params).json()["data"]["alerts"])


def test_trigger_alert_reaches_the_hubs_alert_list(hub: RunningHub, client: httpx.Client) -> None:
    manager = AlertManager(notifiers=[AlertmanagerNotifier(hub.url)])
    try:
        alert_id = manager.trigger(
            "Queue stuck", "no progress for 10 min", AlertSeverity.ERROR, {"queue": "lib-mail"}
        )
        assert manager.flush(10)
        [alert] = wait_for(lambda: _alerts(client, label="queue=lib-mail", state="firing"))
        assert alert["source"] == "library" and alert["labels"]["alertname"] == "Queue stuck"
        assert alert["annotations"]["alert_id"] == alert_id
        manager.resolve(alert_id, "drained")
        assert manager.flush(10)
        wait_for(lambda: _alerts(client, label="queue=lib-mail", state="resolved"))
    finally:
        manager.shutdown(5)


def test_the_hub_notifier_finds_the_hub_from_the_services_setting(
    hub: RunningHub, client: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``HubNotifier()`` takes the hub's address from ``BERRYS_MONITORING_HUB_URL``, the
    setting that already sends the service's spans and logs there."""
    monkeypatch.setenv("BERRYS_MONITORING_HUB_URL", hub.url)
    manager = AlertManager(notifiers=[HubNotifier()])
    try:
        alert_id = manager.trigger("Disk almost full", "92 %", AlertSeverity.WARNING,
                                   {"volume": "hub-notifier"})  # fmt: skip
        assert manager.flush(10)
        [alert] = wait_for(lambda: _alerts(client, label="volume=hub-notifier", state="firing"))
        assert alert["source"] == "library" and alert["annotations"]["alert_id"] == alert_id
        manager.resolve(alert_id, "cleaned up")
        assert manager.flush(10)
        wait_for(lambda: _alerts(client, label="volume=hub-notifier", state="resolved"))
    finally:
        manager.shutdown(5)


def test_the_hub_notifier_says_what_it_needs_without_a_hub(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("BERRYS_MONITORING_HUB_URL", raising=False)
    with pytest.raises(ValueError, match="BERRYS_MONITORING_HUB_URL"):
        HubNotifier()
