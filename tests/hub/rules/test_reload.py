"""Rules and routing reload without a restart: ``POST /-/reload`` and SIGHUP; a broken
file is refused with the file, group and rule named, and the running rules stay."""

from __future__ import annotations

import signal
from pathlib import Path

import httpx
import yaml
from tests.hub.conftest import start_hub
from tests.hub.rules.conftest import Service, alerting, hub_in_thread, rules_file, webhook
from tests.support.servers import wait_for


def _rule_names(c: httpx.Client | str) -> list[str]:
    r = c.get("/api/v1/rules") if isinstance(c, httpx.Client) else httpx.get(f"{c}/api/v1/rules")
    return [rule["name"] for g in r.json()["data"]["groups"] for rule in g["rules"]]


def test_post_reload_takes_new_rules_and_refuses_broken_ones(
    service: Service, prometheus: str, tmp_path: Path
) -> None:
    rules = rules_file(tmp_path / "rules.yml", cases="reload")
    with (
        webhook() as inbox,
        hub_in_thread(tmp_path / "hub", prometheus, rule_files=[str(tmp_path / "*.yml")],
                      alerting_config=alerting(inbox.url)) as hub,
        hub.client() as c,
    ):  # fmt: skip
        assert _rule_names(c) == ["DemoHigh", "DemoCritical", "demo:value:doubled"]
        extra = {"groups": [{"name": "more", "rules": [{"alert": "Extra", "expr": "vector(1)"}]}]}
        (tmp_path / "more.yml").write_text(yaml.safe_dump(extra))
        r = c.post("/-/reload")
        assert r.status_code == 200 and r.json()["groups"] == 2
        assert "Extra" in _rule_names(c)
        wait_for(lambda: c.get("/api/v1/alerts", params={"label": "alertname=Extra"}).json()[
            "data"]["alerts"], timeout=20, what="the new rule to evaluate")  # fmt: skip

        rules.write_text("groups: [{name: demo, rules: [{alert: Broken, expr: 'sum('}]}]")
        r = c.post("/-/reload")
        assert r.status_code == 400
        assert f'{rules}: group "demo", rule 1 (alert "Broken")' in r.json()["error"]
        assert "DemoHigh" in _rule_names(c)  # the running rules stay

        (tmp_path / "more.yml").unlink()
        rules_file(rules, cases="reload")
        assert c.put("/-/reload").status_code == 200  # Prometheus takes PUT too
        assert "Extra" not in _rule_names(c)
        # the removed rule's alert is resolved, not left firing
        [gone] = c.get("/api/v1/alerts", params={"label": "alertname=Extra"}).json()["data"][
            "alerts"
        ]
        assert gone["state"] == "resolved"


def test_sighup_reloads_a_running_hub(prometheus: str, tmp_path: Path) -> None:
    rules = rules_file(tmp_path / "rules.yml", cases="reload")
    config = tmp_path / "hub.yaml"
    config.write_text(yaml.safe_dump({"rule_files": [str(rules)], "scrape_interval": 0}))
    args = ("--config", str(config), "--prometheus-url", prometheus)
    with start_hub(tmp_path / "hub", *args) as hub:
        url, server = hub.url, hub.server
        assert "Reloaded" not in _rule_names(url)
        rules.write_text(
            yaml.safe_dump(
                {"groups": [{"name": "g", "rules": [{"alert": "Reloaded", "expr": "1"}]}]}
            )
        )
        server.proc.send_signal(signal.SIGHUP)
        wait_for(lambda: _rule_names(url) == ["Reloaded"], timeout=20, what="the SIGHUP reload")
        assert server.proc.poll() is None  # reloaded, not stopped
