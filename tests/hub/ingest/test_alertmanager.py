"""Alerts pushed in the Alertmanager v2 format, by hand and by a real Prometheus."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import httpx
import pytest
from tests.hub.conftest import RunningHub, start_hub
from tests.support.servers import free_port, require_binary, run_server, wait_for

from berrys_monitoring.hub._time import rfc3339_ns


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.timezone.utc).isoformat().replace("+00:00", "Z")


def _alerts(client: httpx.Client, params: dict[str, str]) -> list[dict[str, object]]:
    body = client.get("/api/v1/alerts", params=params).json()
    assert body["status"] == "success"
    alerts: list[dict[str, object]] = body["data"]["alerts"]
    return alerts


def test_a_pushed_alert_fires_then_resolves_keeping_its_start(client: httpx.Client) -> None:
    now = dt.datetime.now(dt.timezone.utc)
    labels = {"alertname": "HighErrorRate", "service": "checkout-hand"}
    started = now - dt.timedelta(minutes=3)
    alert = {
        "labels": labels,
        "annotations": {"summary": "5% of requests fail"},
        "startsAt": _iso(started),
        "generatorURL": "http://prometheus/graph",
    }
    assert client.post("/api/v2/alerts", json=[alert]).status_code == 200
    params = {"label": "service=checkout-hand"}
    [firing] = _alerts(client, {**params, "state": "firing"})
    assert firing["labels"] == labels and firing["annotations"]["summary"] == "5% of requests fail"
    assert rfc3339_ns(str(firing["startsAt"])) == rfc3339_ns(_iso(started))
    assert firing["source"] == "alertmanager" and firing["state"] == "firing"

    resend = {**alert, "endsAt": _iso(now - dt.timedelta(seconds=1))}
    assert client.post("/api/v2/alerts", json=[resend]).status_code == 200
    [resolved] = _alerts(client, {**params, "state": "resolved"})
    assert resolved["fingerprint"] == firing["fingerprint"]
    assert resolved["startsAt"] == firing["startsAt"]
    assert _alerts(client, {**params, "state": "firing"}) == []


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{}", "JSON array"),
        (b"[1]", "must be an object"),
        (b'[{"labels": {}}]', "labels are required"),
        (b'[{"labels": {"a": 1}}]', "strings to strings"),
        (b'[{"labels": {"a": "b"}, "startsAt": "soon"}]', "not RFC 3339"),
        (
            b'[{"labels": {"a": "b"}, "startsAt": "2024-01-02T00:00:00Z",'
            b' "endsAt": "2024-01-01T00:00:00Z"}]',
            "before startsAt",
        ),
        (b"[", "not valid JSON"),
    ],
)
def test_malformed_alerts_get_a_400(client: httpx.Client, body: bytes, message: str) -> None:
    r = client.post("/api/v2/alerts", content=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and message in r.json()["error"]


def test_alert_listing_rejects_unknown_states(client: httpx.Client) -> None:
    assert client.get("/api/v1/alerts", params={"state": "sleeping"}).status_code == 400


def test_a_real_prometheus_pushes_its_alerts_to_the_hub(hub: RunningHub, tmp_path: Path) -> None:
    binary = require_binary("prometheus", "apt-get install prometheus")
    rules = tmp_path / "rules.yml"
    rules.write_text(
        """
groups:
  - name: hub-test
    interval: 1s
    rules:
      - alert: AlwaysFiring
        expr: vector(1) > 0
        labels: {severity: page, source: prometheus-e2e}
        annotations: {summary: "pushed by Prometheus"}
"""
    )
    config = tmp_path / "prometheus.yml"
    config.write_text(
        f"""
global:
  evaluation_interval: 1s
rule_files: ["{rules}"]
alerting:
  alertmanagers:
    - api_version: v2
      static_configs:
        - targets: ["127.0.0.1:{hub.port}"]
"""
    )
    port = free_port()
    cmd = [
        binary,
        f"--config.file={config}",
        f"--storage.tsdb.path={tmp_path / 'tsdb'}",
        f"--web.listen-address=127.0.0.1:{port}",
        # the first evaluation comes before Prometheus has found its Alertmanagers (and is
        # dropped); a short resend delay sends it again at once instead of a minute later
        "--rules.alert.resend-delay=1s",
    ]
    with (
        run_server(cmd, ready_url=f"http://127.0.0.1:{port}/-/ready", timeout=60),
        hub.client() as c,
    ):

        def pushed() -> list[dict[str, object]]:
            return _alerts(c, {"label": "source=prometheus-e2e", "state": "firing"})

        [alert] = wait_for(pushed, timeout=30, what="Prometheus to push its alert")
    assert alert["labels"]["alertname"] == "AlwaysFiring"
    assert alert["annotations"] == {"summary": "pushed by Prometheus"}
    assert str(alert["generatorURL"]).startswith("http")


def test_alerts_survive_a_restart(tmp_path: Path) -> None:
    with start_hub(tmp_path) as hub, hub.client() as c:
        assert c.post("/api/v2/alerts", json=[{"labels": {"alertname": "Disk"}}]).status_code == 200
    with start_hub(tmp_path) as hub, hub.client() as c:
        [alert] = _alerts(c, {"state": "firing"})
        assert alert["labels"] == {"alertname": "Disk"}


def test_go_style_nanosecond_times_are_kept_exactly(client: httpx.Client) -> None:
    alert = {
        "labels": {"alertname": "Nanos", "case": "go-time"},
        "startsAt": "2024-01-01T00:00:00.123456789Z",
        "endsAt": "2024-01-01T01:00:01+01:00",
    }
    assert client.post("/api/v2/alerts", json=[alert]).status_code == 200
    [got] = _alerts(client, {"label": "case=go-time"})
    assert got["startsAt"] == "2024-01-01T00:00:00.123456789Z"
    assert got["endsAt"] == "2024-01-01T00:00:01Z" and got["state"] == "resolved"
