"""Alert lifecycle: history, de-duplication, escalation, transitions and notifications."""

from __future__ import annotations

import pytest

from berrys_monitoring.alerts import (
    AlertManager,
    AlertNotFoundError,
    AlertSeverity,
    AlertState,
    InMemoryNotifier,
    get_alert,
    list_alerts,
    resolve_alert,
    trigger_alert,
    update_alert,
)


class Clock:
    """A settable wall clock, so timestamps are exact without sleeping."""

    def __init__(self, t: float = 1_700_000_000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def test_each_change_is_timestamped_with_its_message() -> None:
    clock = Clock()
    m = AlertManager(clock=clock)
    alert_id = m.trigger("Disk full", "91% used", AlertSeverity.ERROR, {"host": "db1"})
    clock.t += 60
    m.update(alert_id, state=AlertState.ACKNOWLEDGED, message="looking")
    clock.t += 60
    m.resolve(alert_id, "rotated logs")
    alert = m.get(alert_id)
    assert alert is not None
    assert [(e.kind, e.state, e.message, e.at.timestamp()) for e in alert.history] == [
        ("triggered", AlertState.TRIGGERED, "91% used", 1_700_000_000.0),
        ("acknowledged", AlertState.ACKNOWLEDGED, "looking", 1_700_000_060.0),
        ("resolved", AlertState.RESOLVED, "rotated logs", 1_700_000_120.0),
    ]
    assert alert.created_at.timestamp() == 1_700_000_000.0
    assert alert.resolved_at is not None and alert.resolved_at.timestamp() == 1_700_000_120.0
    assert alert.created_at.tzinfo is not None
    assert alert.message == "91% used"  # notes on changes do not overwrite what it is about


def test_identical_active_alert_is_deduplicated_and_counts_occurrences() -> None:
    first = trigger_alert("Queue stuck", "no progress", "error", {"queue": "mail"})
    second = trigger_alert("Queue stuck", "still no progress", "error", {"queue": "mail"})
    assert first == second
    alert = get_alert(first)
    assert alert is not None
    assert alert.occurrences == 2
    assert alert.message == "still no progress"
    assert [e.kind for e in alert.history] == ["triggered", "repeated"]
    assert len(list_alerts(active=True)) == 1


def test_a_run_of_repeats_is_one_history_entry_with_the_latest_message() -> None:
    alert_id = trigger_alert("Flapping", "1", "warning", {})
    for i in range(2, 6):
        trigger_alert("Flapping", str(i), "warning", {})
    update_alert(alert_id, state=AlertState.ACKNOWLEDGED, message="ack")
    trigger_alert("Flapping", "6", "warning", {})
    alert = get_alert(alert_id)
    assert alert is not None and alert.occurrences == 6
    assert [(e.kind, e.message) for e in alert.history] == [
        ("triggered", "1"),
        ("repeated", "5"),
        ("acknowledged", "ack"),
        ("repeated", "6"),
    ]


def test_different_context_or_title_makes_a_separate_alert() -> None:
    a = trigger_alert("Queue stuck", "x", "error", {"queue": "mail"})
    b = trigger_alert("Queue stuck", "x", "error", {"queue": "sms"})
    c = trigger_alert("Queue slow", "x", "error", {"queue": "mail"})
    assert len({a, b, c}) == 3


def test_after_resolution_the_same_alert_starts_a_new_one() -> None:
    a = trigger_alert("Queue stuck", "x", "error", {"queue": "mail"})
    resolve_alert(a, "drained")
    b = trigger_alert("Queue stuck", "again", "error", {"queue": "mail"})
    assert b != a
    assert [x.id for x in list_alerts(active=True)] == [b]
    assert [x.id for x in list_alerts(AlertState.RESOLVED)] == [a]


def test_higher_severity_duplicate_escalates_and_notifies_lower_one_does_not() -> None:
    inbox = InMemoryNotifier()
    m = AlertManager(notifiers=[inbox])
    alert_id = m.trigger("Latency", "p95 600ms", AlertSeverity.WARNING, {"svc": "api"})
    m.trigger("Latency", "p95 650ms", AlertSeverity.WARNING, {"svc": "api"})
    m.trigger("Latency", "p95 2s", AlertSeverity.CRITICAL, {"svc": "api"})
    m.trigger("Latency", "p95 700ms", AlertSeverity.WARNING, {"svc": "api"})
    m.resolve(alert_id, "fixed")
    assert m.flush(5)
    assert inbox.kinds() == ["triggered", "escalated", "resolved"]
    assert inbox.notifications[1].alert.severity is AlertSeverity.CRITICAL
    final = m.get(alert_id)
    assert final is not None
    # Severity never silently drops when a lower duplicate comes in.
    assert final.severity is AlertSeverity.CRITICAL
    assert final.occurrences == 4
    m.shutdown(1)


def test_severity_orders_for_escalation_and_accepts_strings() -> None:
    assert AlertSeverity.INFO < AlertSeverity.WARNING < AlertSeverity.ERROR
    assert AlertSeverity.ERROR < AlertSeverity.CRITICAL
    assert max(AlertSeverity.CRITICAL, AlertSeverity.INFO) is AlertSeverity.CRITICAL
    alert_id = trigger_alert("T", "m", "CRITICAL", {})
    alert = get_alert(alert_id)
    assert alert is not None and alert.severity is AlertSeverity.CRITICAL


def test_unknown_severity_or_state_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="unknown alert severity 'fatal'"):
        trigger_alert("T", "m", "fatal", {})
    alert_id = trigger_alert("T", "m", "info", {})
    with pytest.raises(ValueError, match="unknown alert state"):
        update_alert(alert_id, state="snoozed")


def test_update_of_unknown_alert_raises_not_found() -> None:
    with pytest.raises(AlertNotFoundError):
        update_alert("nope", state=AlertState.ACKNOWLEDGED, message="x")
    with pytest.raises(KeyError):
        resolve_alert("nope")


def test_resolved_alert_cannot_be_reopened_but_resolving_twice_is_harmless() -> None:
    alert_id = trigger_alert("T", "m", "info", {})
    resolve_alert(alert_id, "done")
    again = resolve_alert(alert_id, "done twice")
    assert again is not None and len(again.history) == 2
    with pytest.raises(ValueError, match="is resolved"):
        update_alert(alert_id, state=AlertState.ACKNOWLEDGED, message="late")


def test_update_with_state_resolved_resolves() -> None:
    inbox = InMemoryNotifier()
    m = AlertManager(notifiers=[inbox])
    alert_id = m.trigger("T", "m", "info", {})
    m.update(alert_id, state="resolved", message="gone")
    assert m.flush(5)
    assert inbox.kinds() == ["triggered", "resolved"]
    alert = m.get(alert_id)
    assert alert is not None and alert.history[-1].message == "gone"
    m.shutdown(1)


def test_update_can_escalate_severity_explicitly() -> None:
    inbox = InMemoryNotifier()
    m = AlertManager(notifiers=[inbox])
    alert_id = m.trigger("T", "m", "warning", {})
    m.update(alert_id, message="worse", severity=AlertSeverity.CRITICAL)
    assert m.flush(5)
    assert inbox.kinds() == ["triggered", "escalated"]
    m.shutdown(1)


def test_acknowledgement_is_not_sent_to_notifiers_unless_they_ask() -> None:
    default, wants_acks = (
        InMemoryNotifier(),
        InMemoryNotifier(events={"triggered", "acknowledged"}),
    )
    m = AlertManager(notifiers=[default, wants_acks])
    alert_id = m.trigger("T", "m", "warning", {})
    m.acknowledge(alert_id, "mine")
    assert m.flush(5)
    assert default.kinds() == ["triggered"]
    assert wants_acks.kinds() == ["triggered", "acknowledged"]
    m.shutdown(1)


def test_empty_title_and_non_notifier_are_rejected_at_once() -> None:
    with pytest.raises(ValueError, match="title"):
        trigger_alert("", "m", "info", {})
    with pytest.raises(TypeError, match="not a notifier"):
        AlertManager(notifiers=[object()])
    with pytest.raises(ValueError):
        AlertManager(max_attempts=0)


def test_context_values_that_are_not_json_are_kept_as_text() -> None:
    from pathlib import Path

    alert_id = trigger_alert("T", "m", "info", {"path": Path("/var/log")})
    m = AlertManager()
    assert m.get(alert_id) is None  # another manager, another (in-memory) store
    alert = get_alert(alert_id)
    assert alert is not None and alert.context == {"path": "/var/log"}
    with pytest.raises(TypeError, match="context must be a dict"):
        trigger_alert("T", "m", "info", ["not", "a", "dict"])  # type: ignore[arg-type]


def test_built_in_notifiers_take_an_events_option_validated_at_configuration() -> None:
    from berrys_monitoring.alerts import (
        AlertmanagerNotifier,
        EmailNotifier,
        LogNotifier,
        PagerDutyNotifier,
        SlackNotifier,
        WebhookNotifier,
    )

    made = [
        WebhookNotifier("http://127.0.0.1:1/x", events={"triggered", "repeated"}),
        SlackNotifier("http://127.0.0.1:1/x", events={"triggered", "repeated"}),
        PagerDutyNotifier("k", url="http://127.0.0.1:1/x", events={"triggered", "repeated"}),
        AlertmanagerNotifier(events={"triggered", "repeated"}),
        EmailNotifier("h", sender="a@b.c", recipients=["d@e.f"], events={"triggered", "repeated"}),
        LogNotifier(events={"triggered", "repeated"}),
        InMemoryNotifier(events={"triggered", "repeated"}),
    ]
    assert all(n.events == {"triggered", "repeated"} for n in made)
    assert "repeated" in AlertmanagerNotifier().events
    assert "repeated" not in WebhookNotifier("http://127.0.0.1:1/x").events
    with pytest.raises(ValueError, match="unknown notification kinds"):
        LogNotifier(events={"fired"})
    with pytest.raises(TypeError):
        InMemoryNotifier(events="triggered")


def test_reminders_for_a_still_firing_alert_go_to_notifiers_that_want_repeats() -> None:
    reminders = InMemoryNotifier(events={"triggered", "repeated", "resolved"})
    m = AlertManager(notifiers=[reminders])
    alert_id = m.trigger("T", "m", "warning", {})
    m.trigger("T", "still", "warning", {})
    m.resolve(alert_id)
    assert m.flush(5)
    assert reminders.kinds() == ["triggered", "repeated", "resolved"]
    m.shutdown(1)
