"""The demo's hub configuration and its alert, each against the real thing: ``promtool``
checks the rule file, a real hub takes the configuration and the library's alert."""

from __future__ import annotations

import subprocess
from pathlib import Path

import httpx
import pytest
import yaml
from tests.hub.conftest import start_hub
from tests.support.servers import require_binary, wait_for

from berrys_monitoring.demo._alerting import ErrorRatioWatch
from berrys_monitoring.demo._hub import (
    ALERT_NAME,
    GATEWAY_JOB,
    alerts_of,
    read_hub,
    write_hub_config,
)


def _config(tmp_path: Path) -> Path:
    return write_hub_config(
        tmp_path, gateway_port=18001, users_port=18002, scrape_interval_s=2, threshold=0.05,
        for_s=10,
    )  # fmt: skip


def test_the_demo_rule_file_is_a_valid_prometheus_rule_file(tmp_path):
    promtool = require_binary("promtool", "apt-get install prometheus")
    _config(tmp_path)
    proc = subprocess.run(
        [promtool, "check", "rules", str(tmp_path / "rules.yml")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "SUCCESS: 1 rules found" in proc.stdout + proc.stderr
    rule = yaml.safe_load((tmp_path / "rules.yml").read_text())["groups"][0]["rules"][0]
    assert rule["alert"] == ALERT_NAME and rule["for"] == "10s"
    assert f'job="{GATEWAY_JOB}"' in rule["expr"] and rule["expr"].endswith("> 0.05")


def test_a_real_hub_takes_the_demo_configuration_and_lists_both_targets(tmp_path):
    config = _config(tmp_path)
    with start_hub(tmp_path / "data", "--config", str(config)) as hub, hub.client() as client:
        targets = {t["job"]: t["url"] for t in client.get("/api/v1/targets").json()["targets"]}
    assert targets == {
        "api-gateway": "http://127.0.0.1:18001",
        "user-service": "http://127.0.0.1:18002",
    }


def test_the_library_alert_reaches_the_hub_and_resolves_there(tmp_path):
    with start_hub(tmp_path / "data") as hub, hub.client() as client:
        watch = ErrorRatioWatch(hub.url, threshold=0.1, for_s=1.0)
        try:
            assert watch.observe(0.5, 100.0) == "pending"
            assert watch.observe(0.5, 101.5) == "firing"

            def ours(state: str) -> list[dict[str, object]]:
                body = client.get("/api/v1/alerts").json()
                return [
                    a
                    for a in alerts_of(body)
                    if a["labels"].get("alertname") == ALERT_NAME and a.get("state") == state
                ]

            firing = wait_for(lambda: ours("firing"), timeout=20, what="the firing alert")
            assert firing[0]["labels"]["severity"] == "warning"
            assert firing[0]["labels"]["service"] == GATEWAY_JOB
            with httpx.Client() as c:
                assert read_hub(c, hub.url).alerts == [f"{ALERT_NAME} (firing)"]

            assert watch.observe(0.01, 103.0) == "inactive"
            wait_for(lambda: ours("resolved"), timeout=20, what="the resolved alert")
        finally:
            watch.close()


_ALERT = {"labels": {"alertname": ALERT_NAME}, "state": "firing"}


@pytest.mark.parametrize(
    "body",
    [{"alerts": [_ALERT]}, {"status": "success", "data": {"alerts": [_ALERT, "junk"]}}],
    ids=["hub-v1", "prometheus-envelope"],
)
def test_both_shapes_of_the_alerts_list_are_read(body):
    assert alerts_of(body) == [_ALERT]
    assert alerts_of({"status": "error"}) == []
