"""A hub restarted in the middle of an alert (a real process, SIGTERM, started again on
the same data directory) loses no firing alert, keeps its start, and delivers the
notification it had not managed to deliver, once."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import httpx
import yaml
from tests.hub.rules.conftest import Service, alerting, rules_file, webhook
from tests.support.servers import REPO, free_port, run_server, wait_for


def _alerts(url: str, **params: str) -> list[dict[str, Any]]:
    return list(httpx.get(f"{url}/api/v1/alerts", params=params).json()["data"]["alerts"])


def test_a_restart_mid_firing_loses_nothing_and_sends_no_duplicate(
    service: Service, prometheus: str, tmp_path: Path
) -> None:
    rules = rules_file(tmp_path / "rules.yml", for_s="1s")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with webhook(fail=10**6) as inbox:  # down at first: the notification waits in the outbox
        config = tmp_path / "hub.yaml"
        config.write_text(
            yaml.safe_dump(
                {
                    "port": port,
                    "grpc_port": 0,
                    "scrape_interval": 0,
                    "data_dir": str(tmp_path / "hub"),
                    "rule_files": [str(rules)],
                    "alerting": alerting(inbox.url),
                }
            )
        )
        cmd = [sys.executable, "-m", "tests.hub.rules.prometheus_hub", prometheus, str(config)]
        with run_server(cmd, cwd=REPO, ready_url=f"{url}/health", timeout=60):
            service.values["restart"] = 5
            [before] = wait_for(
                lambda: _alerts(url, label="case=restart", state="firing"), timeout=30,
                what="the alert to fire",
            )  # fmt: skip
            wait_for(lambda: inbox.attempts >= 1, timeout=30, what="a delivery attempt")
        assert inbox.received == []
        inbox.fail = 0  # the receiver is back while the hub is down

        with run_server(cmd, cwd=REPO, ready_url=f"{url}/health", timeout=60):
            [after] = _alerts(url, label="case=restart", state="firing")
            assert after["id"] == before["id"]
            assert after["startsAt"] == before["startsAt"]
            assert after["activeAt"] == before["activeAt"]
            [sent] = wait_for(lambda: inbox.alerts("firing"), timeout=30, what="the delivery")
            assert sent["startsAt"] == before["startsAt"]
            time.sleep(4)  # evaluations and group intervals after the restart
            assert len(inbox.received) == 1  # the outbox's one, nothing re-decided
            [still] = _alerts(url, label="case=restart", state="firing")
            assert still["startsAt"] == before["startsAt"]
            history = httpx.get(f"{url}/api/v1/alerts/{still['id']}").json()["data"]["history"]
            assert [h["event"] for h in history] == ["pending", "firing"]
            service.values.pop("restart")
            wait_for(lambda: inbox.alerts("resolved"), timeout=30, what="the resolved message")
