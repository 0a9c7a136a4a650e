"""Webhook, Slack and PagerDuty notifiers against real HTTP servers on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import pytest

from berrys_monitoring import internal_error_counts
from berrys_monitoring._internal import event_counts
from berrys_monitoring.alerts import (
    AlertManager,
    AlertSeverity,
    PagerDutyNotifier,
    SlackNotifier,
    WebhookNotifier,
)


@pytest.fixture
def managers() -> Iterator[list[AlertManager]]:
    made: list[AlertManager] = []
    yield made
    for m in made:
        m.shutdown(2)


def manager_for(managers: list[AlertManager], notifier: object) -> AlertManager:
    m = AlertManager(notifiers=[notifier], backoff_initial=0.01, max_attempts=4)
    managers.append(m)
    return m


def test_webhook_retries_after_500s_and_sends_an_alertmanager_v4_payload(
    http_receiver, managers
) -> None:
    rec = http_receiver(fail_first=2, fail_status=500)
    notifier = WebhookNotifier(
        rec.url + "/hook", headers={"Authorization": "Bearer t0ken"}, external_url="http://me"
    )
    m = manager_for(managers, notifier)
    alert_id = m.trigger(
        "High CPU Usage", "CPU usage is above 90%", AlertSeverity.WARNING,
        {"service": "api-gateway", "cpu-usage": "95%"},
    )  # fmt: skip
    m.resolve(alert_id, "back to normal")
    assert m.flush(10)
    assert rec.attempts == 4  # two 500s, then the trigger and the resolve
    assert event_counts()[("alerts", "notification_retried")] == 2
    firing, resolved = rec.bodies()
    assert rec.requests[0]["path"] == "/hook"
    assert rec.requests[0]["headers"]["Authorization"] == "Bearer t0ken"
    assert firing["version"] == "4"
    assert firing["status"] == "firing" and resolved["status"] == "resolved"
    assert firing["receiver"] == "berrys-monitoring"
    assert firing["externalURL"] == "http://me"
    assert firing["groupLabels"] == {"alertname": "High CPU Usage"}
    assert firing["groupKey"] == '{}:{alertname="High CPU Usage"}'
    assert firing["truncatedAlerts"] == 0
    [alert] = firing["alerts"]
    assert alert["labels"] == {
        "alertname": "High CPU Usage",
        "severity": "warning",
        "service": "api-gateway",
        "cpu_usage": "95%",  # context keys become valid label names
    }
    assert firing["commonLabels"] == alert["labels"]
    assert alert["annotations"]["summary"] == "High CPU Usage"
    assert alert["annotations"]["description"] == "CPU usage is above 90%"
    assert alert["annotations"]["alert_id"] == alert_id
    assert alert["endsAt"] == "0001-01-01T00:00:00Z"
    assert len(alert["fingerprint"]) == 16
    started = datetime.fromisoformat(alert["startsAt"].replace("Z", "+00:00"))
    [done] = resolved["alerts"]
    ended = datetime.fromisoformat(done["endsAt"].replace("Z", "+00:00"))
    assert ended >= started
    assert done["fingerprint"] == alert["fingerprint"]
    assert done["annotations"]["resolution"] == "back to normal"


def test_slack_payload_has_text_colour_and_context_fields(http_receiver, managers) -> None:
    rec = http_receiver()
    notifier = SlackNotifier(rec.url + "/services/T0/B0/secret", channel="#ops", mention="@oncall")
    m = manager_for(managers, notifier)
    alert_id = m.trigger("Disk full", "97% on /var", "critical", {"host": "db1"})
    m.resolve(alert_id, "logs rotated")
    assert m.flush(10)
    firing, resolved = rec.bodies()
    assert firing["text"] == "@oncall [FIRING] CRITICAL: Disk full"
    assert firing["channel"] == "#ops"
    [att] = firing["attachments"]
    assert att["color"] == "danger" and att["text"] == "97% on /var"
    assert {"title": "host", "value": "db1", "short": True} in att["fields"]
    assert resolved["text"] == "[RESOLVED] CRITICAL: Disk full"
    assert resolved["attachments"][0]["color"] == "good"
    assert resolved["attachments"][0]["text"] == "logs rotated"


def test_slack_shows_alert_text_literally_instead_of_interpreting_its_markup(
    http_receiver, managers
) -> None:
    rec = http_receiver()
    m = manager_for(managers, SlackNotifier(rec.url + "/services/T0/B0/x", mention="<!here>"))
    m.trigger(
        "<!channel> DB & cache down",
        "see <http://evil.example|the runbook>",
        "error",
        {"<k>": "a>b & c"},
    )
    assert m.flush(10)
    [body] = rec.bodies()
    # The configured mention stays live; text coming from the alert is escaped.
    assert body["text"] == "<!here> [FIRING] ERROR: &lt;!channel&gt; DB &amp; cache down"
    [att] = body["attachments"]
    assert att["title"] == "&lt;!channel&gt; DB &amp; cache down"
    assert att["text"] == "see &lt;http://evil.example|the runbook&gt;"
    assert {"title": "&lt;k&gt;", "value": "a&gt;b &amp; c", "short": True} in att["fields"]


def test_pagerduty_events_v2_trigger_escalate_resolve_share_a_dedup_key(
    http_receiver, managers
) -> None:
    rec = http_receiver(ok_status=202)
    notifier = PagerDutyNotifier(
        "R0UTING", url=rec.url + "/v2/enqueue", source="api-gateway", component="db"
    )
    m = manager_for(managers, notifier)
    alert_id = m.trigger("DB down", "no connection", "error", {"db": "orders"})
    m.trigger("DB down", "still down", "critical", {"db": "orders"})
    m.resolve(alert_id, "failover done")
    assert m.flush(10)
    trigger, escalate, resolve = rec.bodies()
    assert rec.requests[0]["path"] == "/v2/enqueue"
    assert trigger["routing_key"] == "R0UTING"
    assert trigger["event_action"] == "trigger"
    assert trigger["dedup_key"] == alert_id
    assert trigger["payload"]["summary"] == "DB down: no connection"
    assert trigger["payload"]["source"] == "api-gateway"
    assert trigger["payload"]["severity"] == "error"
    assert trigger["payload"]["component"] == "db"
    assert trigger["payload"]["custom_details"]["db"] == "orders"
    assert escalate["event_action"] == "trigger" and escalate["payload"]["severity"] == "critical"
    assert resolve == {"routing_key": "R0UTING", "event_action": "resolve", "dedup_key": alert_id}


def test_a_4xx_is_not_retried_and_the_secret_url_is_not_logged(
    http_receiver, managers, caplog: pytest.LogCaptureFixture
) -> None:
    rec = http_receiver(fail_first=100, fail_status=400)
    m = manager_for(managers, SlackNotifier(rec.url + "/services/T0/B0/SECRETPART"))
    m.trigger("T", "m", "info", {})
    assert m.flush(10)
    assert rec.attempts == 1
    assert internal_error_counts()["alerts"] == 1
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "answered 400" in text and "SECRETPART" not in text


def test_unreachable_receiver_never_raises_into_the_app(managers) -> None:
    from tests.support.servers import free_port

    dead = f"http://127.0.0.1:{free_port()}/hook"  # nothing listens there
    m = manager_for(managers, WebhookNotifier(dead, timeout=1))
    alert_id = m.trigger("T", "m", "error", {})
    assert isinstance(alert_id, str)
    assert m.flush(20)
    assert event_counts()[("alerts", "notification_failed")] == 1


def test_bad_urls_and_keys_fail_at_configuration() -> None:
    with pytest.raises(ValueError, match="not an http"):
        WebhookNotifier("ftp://example.com/x")
    with pytest.raises(ValueError, match="not an http"):
        SlackNotifier("hooks.slack.com/services/x")
    with pytest.raises(ValueError, match="routing_key"):
        PagerDutyNotifier("")
