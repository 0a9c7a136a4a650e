"""Alerts raised with the library (``trigger_alert`` and its notifiers) pointed at the hub
land in the same alert store as the rules' alerts, marked ``source: library``."""

from __future__ import annotations

from typing import Any

import httpx
from tests.hub.conftest import RunningHub
from tests.support.servers import wait_for

from berrys_monitoring.alerts import AlertManager, AlertmanagerNotifier, AlertSeverity


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
