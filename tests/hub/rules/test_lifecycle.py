"""Rule lifecycle against a real Prometheus, with timers shrunk to seconds (as
Alertmanager's own acceptance tests shrink theirs): pending, then firing after ``for``;
one notification per group per interval; silences and inhibition send nothing; resolved
notifications arrive; a failing webhook still gets its notification."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from typing import Any

import httpx
import orjson
from tests.hub.rules.conftest import Service, alerting, hub_in_thread, rules_file, webhook
from tests.support.servers import wait_for

from berrys_monitoring.hub._time import rfc3339_ns


def _alerts(c: httpx.Client, **params: str) -> list[dict[str, Any]]:
    body = c.get("/api/v1/alerts", params=params).json()
    assert body["status"] == "success"
    return list(body["data"]["alerts"])


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.timezone.utc).isoformat().replace("+00:00", "Z")


def test_pending_then_firing_after_for(service: Service, prometheus: str, tmp_path: Path) -> None:
    rules = rules_file(tmp_path / "rules.yml", cases="pending", for_s="3s")
    with (
        webhook() as inbox,
        hub_in_thread(tmp_path / "hub", prometheus, rule_files=[str(rules)],
                      alerting_config=alerting(inbox.url)) as hub,
        hub.client() as c,
    ):  # fmt: skip
        service.values["pending"] = 7
        [pending] = wait_for(
            lambda: _alerts(c, label="case=pending", state="pending"), timeout=20, what="pending"
        )
        assert pending["source"] == "rule" and pending["value"] == "7e+00"
        assert pending["annotations"]["summary"] == "pending is 7"
        assert inbox.alerts() == []  # pending alerts notify nobody
        [firing] = wait_for(
            lambda: _alerts(c, label="case=pending", state="firing"), timeout=20, what="firing"
        )
        active = rfc3339_ns(firing["activeAt"])
        assert active == rfc3339_ns(pending["activeAt"])
        assert rfc3339_ns(firing["startsAt"]) - active >= 3 * 10**9  # it waited for `for`
        rules_api = c.get("/api/v1/rules").json()["data"]["groups"][0]["rules"]
        high = next(r for r in rules_api if r["name"] == "DemoHigh")
        assert high["state"] == "firing" and high["health"] == "ok" and high["duration"] == 3
        [sent] = wait_for(lambda: inbox.alerts("firing"), timeout=20, what="the notification")
        assert sent["labels"]["case"] == "pending"
        detail = c.get(f"/api/v1/alerts/{firing['id']}").json()["data"]
        assert [h["event"] for h in detail["history"]] == ["pending", "firing"]
        service.values.pop("pending")


def test_one_notification_per_group_then_resolved(
    service: Service, prometheus: str, tmp_path: Path
) -> None:
    rules = rules_file(tmp_path / "rules.yml", cases="group-.*", for_s="0s")
    config = alerting("", group_by=["alertname"], group_interval="2s")
    with webhook() as inbox:
        config["receivers"][0]["webhook_configs"][0]["url"] = inbox.url
        with (
            hub_in_thread(tmp_path / "hub", prometheus, rule_files=[str(rules)],
                          alerting_config=config) as hub,
            hub.client() as c,
        ):  # fmt: skip
            service.values["group-a"] = 1
            service.values["group-b"] = 2
            wait_for(lambda: len(inbox.alerts()) >= 2, timeout=20, what="the group's message")
            time.sleep(5)  # two more group intervals: nothing new, nothing sent
            [message] = inbox.received
            assert {a["labels"]["case"] for a in message["alerts"]} == {"group-a", "group-b"}
            assert message["groupLabels"] == {"alertname": "DemoHigh"}
            assert message["status"] == "firing" and message["version"] == "4"

            service.values.pop("group-a")
            service.values.pop("group-b")
            wait_for(lambda: inbox.alerts("resolved"), timeout=20, what="the resolved message")
            resolved = inbox.received[-1]
            assert resolved["status"] == "resolved"
            assert {a["labels"]["case"] for a in resolved["alerts"]} == {"group-a", "group-b"}
            assert all(a["endsAt"] != "0001-01-01T00:00:00Z" for a in resolved["alerts"])
            assert len(inbox.received) == 2
            assert _alerts(c, label="case=group-a", state="resolved")


def test_silenced_and_inhibited_alerts_send_nothing(
    service: Service, prometheus: str, tmp_path: Path
) -> None:
    rules = rules_file(tmp_path / "rules.yml", cases="silenced|inhibited", for_s="0s")
    with (
        webhook() as inbox,
        hub_in_thread(tmp_path / "hub", prometheus, rule_files=[str(rules)],
                      alerting_config=alerting(inbox.url, group_by=["alertname", "case"])) as hub,
        hub.client() as c,
    ):  # fmt: skip
        now = dt.datetime.now(dt.timezone.utc)
        silence = {
            "matchers": [{"name": "case", "value": "silenced", "isRegex": False}],
            "startsAt": _iso(now),
            "endsAt": _iso(now + dt.timedelta(hours=1)),
            "createdBy": "test",
            "comment": "maintenance",
        }
        r = c.post("/api/v2/silences", json=silence)
        assert r.status_code == 200, r.text
        silence_id = r.json()["silenceID"]
        [listed] = c.get("/api/v2/silences").json()
        assert listed["id"] == silence_id and listed["status"]["state"] == "active"

        service.values["silenced"] = 1  # DemoHigh (warning) fires, silenced
        service.values["inhibited"] = 500  # DemoCritical fires and inhibits DemoHigh
        wait_for(
            lambda: any(a["labels"]["alertname"] == "DemoCritical" for a in inbox.alerts()),
            timeout=20,
            what="the critical alert's notification",
        )
        time.sleep(4)  # a group_wait and an interval more for anything wrongly sent
        sent = {(a["labels"]["alertname"], a["labels"]["case"]) for a in inbox.alerts()}
        assert sent == {("DemoCritical", "inhibited")}
        [silenced] = _alerts(c, label="case=silenced", state="firing")
        assert silenced["silenced"] is True
        [inhibited] = [
            a for a in _alerts(c, label="case=inhibited", state="firing")
            if a["labels"]["alertname"] == "DemoHigh"
        ]  # fmt: skip
        assert inhibited["inhibited"] is True and inhibited["silenced"] is False

        assert c.delete(f"/api/v2/silence/{silence_id}").status_code == 200
        assert c.get(f"/api/v2/silence/{silence_id}").json()["status"]["state"] == "expired"
        wait_for(
            lambda: (
                ("DemoHigh", "silenced")
                in {(a["labels"]["alertname"], a["labels"]["case"]) for a in inbox.alerts()}
            ),
            timeout=20,
            what="the alert to notify once its silence expired",
        )
        service.values.pop("silenced")
        service.values.pop("inhibited")


def test_a_webhook_failing_twice_still_gets_the_notification(
    service: Service, prometheus: str, tmp_path: Path
) -> None:
    rules = rules_file(tmp_path / "rules.yml", cases="flaky", for_s="0s")
    with (
        webhook(fail=2) as inbox,
        hub_in_thread(tmp_path / "hub", prometheus, rule_files=[str(rules)],
                      alerting_config=alerting(inbox.url, group_by=["case"])) as hub,
        hub.client() as client,
    ):  # fmt: skip
        service.values["flaky"] = 3
        first = wait_for(lambda: inbox.alerts("firing"), timeout=30, what="delivery")[0]
        assert first["labels"]["case"] == "flaky"
        time.sleep(3)  # retries and group intervals more for anything wrongly sent again
        # Two 500s, then every message delivered once: a retry never duplicates one. On a
        # busy machine the alert may really end and fire again (its series missing from
        # the 5 s window), and then a resolved and a second firing message are right; so
        # there are never more firing messages than the hub's own firing decisions.
        [alert] = client.get("/api/v1/alerts", params={"label": "case=flaky"}).json()["data"][
            "alerts"
        ]
        history = client.get(f"/api/v1/alerts/{alert['id']}").json()["data"]["history"]
        fired = [h["event"] for h in history].count("firing")
        with inbox.lock:
            received = list(inbox.received)
            attempts = inbox.attempts
        sent = [a for m in received for a in m["alerts"] if a["status"] == "firing"]
        assert all(a["labels"]["case"] == "flaky" for a in sent), received
        assert 1 <= len(sent) <= fired, (history, received)
        assert len({orjson.dumps(m, option=orjson.OPT_SORT_KEYS) for m in received}) == len(
            received
        ), received
        assert attempts == 2 + len(received), received
        service.values.pop("flaky")


def test_acknowledge_and_resolve_by_hand_keep_a_history(
    service: Service, prometheus: str, tmp_path: Path
) -> None:
    with (
        webhook() as inbox,
        hub_in_thread(tmp_path / "hub", prometheus, rule_files=[],
                      alerting_config=alerting(inbox.url)) as hub,
        hub.client() as c,
    ):  # fmt: skip
        pushed = {"labels": {"alertname": "DiskFull", "case": "by-hand"}}
        assert c.post("/api/v2/alerts", json=[pushed]).status_code == 200
        [alert] = _alerts(c, label="case=by-hand")
        assert alert["acknowledged"] is False
        r = c.post(f"/api/v1/alerts/{alert['id']}/acknowledge", json={"by": "ana", "note": "mine"})
        assert r.status_code == 200 and r.json()["data"]["acknowledgedBy"] == "ana"
        r = c.post(f"/api/v1/alerts/{alert['id']}/resolve", json={"by": "ana", "note": "freed"})
        detail = r.json()["data"]
        assert detail["state"] == "resolved"
        assert [(h["event"], h["by"], h["note"]) for h in detail["history"]] == [
            ("acknowledged", "ana", "mine"),
            ("resolved", "ana", "freed"),
        ]
        assert c.get("/api/v1/alerts/nope").status_code == 404
        assert c.post("/api/v1/alerts/nope/resolve", json={}).status_code == 404
        assert c.post(f"/api/v1/alerts/{alert['id']}/resolve", json={"who": 1}).status_code == 400


def test_keep_firing_for_then_resolved_and_recording_rules_store_samples(
    service: Service, prometheus: str, tmp_path: Path
) -> None:
    rules = rules_file(tmp_path / "rules.yml", cases="keep", for_s="0s", keep="4s")
    with (
        webhook() as inbox,
        hub_in_thread(tmp_path / "hub", prometheus, rule_files=[str(rules)],
                      alerting_config=alerting(inbox.url)) as hub,
        hub.client() as c,
    ):  # fmt: skip
        service.values["keep"] = 21
        wait_for(lambda: _alerts(c, label="case=keep", state="firing"), timeout=20, what="firing")
        series = wait_for(
            lambda: c.get("/api/v1/metrics/samples",
                          params={"name": "demo:value:doubled", "label": "case=keep"}
                          ).json()["series"],
            timeout=20, what="the recording rule's samples",
        )  # fmt: skip
        assert series[0]["samples"][-1][1] == 42.0
        service.values.pop("keep")
        # gone from Prometheus within a scrape or two; kept firing for 4 s more
        time.sleep(3)
        assert _alerts(c, label="case=keep", state="firing")
        [resolved] = wait_for(
            lambda: _alerts(c, label="case=keep", state="resolved"), timeout=20, what="resolved"
        )
        held = rfc3339_ns(resolved["endsAt"]) - rfc3339_ns(resolved["startsAt"])
        assert held >= 4 * 10**9
