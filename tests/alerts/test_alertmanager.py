"""AlertmanagerNotifier against a real Prometheus Alertmanager, checked through its own
API, with Alertmanager routing our alert on to a real webhook receiver."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from tests.support.servers import free_port, require_binary, run_server, wait_for

from berrys_monitoring import internal_error_counts
from berrys_monitoring.alerts import AlertManager, AlertmanagerNotifier, AlertSeverity

pytestmark = pytest.mark.slow


@pytest.fixture
def alertmanager(tmp_path: Path, http_receiver) -> Iterator[tuple[str, object]]:
    binary = require_binary("prometheus-alertmanager", "apt-get install prometheus-alertmanager")
    hook = http_receiver()
    config = tmp_path / "alertmanager.yml"
    config.write_text(
        f"""
route:
  receiver: hook
  group_by: [alertname]
  group_wait: 100ms
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: hook
    webhook_configs:
      - url: {hook.url}/from-alertmanager
        send_resolved: true
"""
    )
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    cmd = [
        binary,
        f"--config.file={config}",
        f"--storage.path={tmp_path / 'data'}",
        f"--web.listen-address=127.0.0.1:{port}",
        "--cluster.listen-address=",  # no gossip: a single, private instance
    ]
    with run_server(cmd, ready_url=f"{url}/-/ready"):
        wait_for(lambda: httpx.get(f"{url}/-/ready").status_code == 200, what="alertmanager")
        yield url, hook


def am_alerts(url: str) -> list[dict]:
    r = httpx.get(f"{url}/api/v2/alerts", timeout=5)
    r.raise_for_status()
    return list(r.json())


def test_alert_reaches_alertmanager_and_its_resolution_clears_it(alertmanager) -> None:
    url, hook = alertmanager
    m = AlertManager(
        notifiers=[AlertmanagerNotifier(url, generator_url="http://127.0.0.1/rules")],
        backoff_initial=0.05,
    )
    try:
        alert_id = m.trigger(
            "High CPU Usage", "CPU usage is above 90%", AlertSeverity.WARNING,
            {"service": "api-gateway"},
        )  # fmt: skip
        assert m.flush(10)
        [seen] = wait_for(lambda: am_alerts(url), what="alert in Alertmanager")
        assert seen["labels"] == {
            "alertname": "High CPU Usage",
            "severity": "warning",
            "service": "api-gateway",
        }
        assert seen["annotations"]["description"] == "CPU usage is above 90%"
        assert seen["annotations"]["alert_id"] == alert_id
        assert seen["status"]["state"] == "active"
        assert seen["generatorURL"] == "http://127.0.0.1/rules"

        # Alertmanager routed it to its webhook receiver (its own v4 payload).
        firing = wait_for(
            lambda: [b for b in hook.bodies() if b["status"] == "firing"], what="routed"
        )
        assert firing[0]["alerts"][0]["labels"]["alertname"] == "High CPU Usage"

        # Escalation: severity is a label, so the warning alert ends and a critical one fires.
        m.trigger("High CPU Usage", "CPU at 99%", "critical", {"service": "api-gateway"})
        assert m.flush(10)
        wait_for(
            lambda: [a["labels"]["severity"] for a in am_alerts(url)] == ["critical"],
            what="escalated alert replaces the warning one",
        )

        m.resolve(alert_id, "CPU usage returned to normal")
        assert m.flush(10)
        wait_for(lambda: am_alerts(url) == [], what="resolved alerts leave the active list")
        resolved = wait_for(
            lambda: [b for b in hook.bodies() if b["status"] == "resolved"], what="resolved"
        )
        assert resolved[0]["alerts"][0]["annotations"]["alert_id"] == alert_id
        assert internal_error_counts() == {}
    finally:
        m.shutdown(2)


def test_alertmanager_that_is_down_is_retried_then_given_up_without_raising() -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    m = AlertManager(
        notifiers=[AlertmanagerNotifier(dead, timeout=1)], backoff_initial=0.01, max_attempts=2
    )
    try:
        assert isinstance(m.trigger("T", "m", "error", {}), str)
        assert m.flush(20)
        assert internal_error_counts()["alerts"] == 1
    finally:
        m.shutdown(1)
