"""The guide's two Alerting examples, verbatim with only the import prefix changed
(and one trailing space after a comma dropped, which ruff forbids)."""

from __future__ import annotations

import textwrap

from berrys_monitoring.alerts import AlertSeverity, AlertState, get_alert, list_alerts

SEED_BASIC_USAGE = textwrap.dedent(
    """
    from berrys_monitoring.alerts import (
        trigger_alert,
        AlertSeverity,
        update_alert,
        resolve_alert,
    )

    # Trigger an alert
    alert_id = trigger_alert(
        "High CPU Usage",
        "CPU usage is above 90%",
        AlertSeverity.WARNING,
        {"service": "api-gateway", "cpu_usage": "95%"},
    )

    # Update an alert
    update_alert(alert_id, state=AlertState.ACKNOWLEDGED,
                 message="Working on CPU issue")

    # Resolve an alert
    resolve_alert(alert_id, resolution_message="CPU usage returned to normal")
    """
)

SEED_ALERT_RULES = textwrap.dedent(
    """
    from berrys_monitoring.alerts import (
        AlertRule,
        threshold_above,
        threshold_below,
        threshold_outside_range,
    )

    # Create an alert rule for CPU usage
    cpu_rule = AlertRule(
        name="high_cpu_usage",
        metric_name="cpu_usage_percent",
        condition=threshold_above(90),
        alert_title="High CPU Usage",
        alert_message="CPU usage is above 90%",
        severity=AlertSeverity.WARNING,
        context={"service": "api-gateway"},
        cooldown_period=300,
    )

    # Check the rule against a metric value
    alert_id = cpu_rule.check(95)
    """
)


def test_seed_basic_usage_triggers_acknowledges_and_resolves_with_history() -> None:
    # The seed block uses AlertState without importing it: we supply it here.
    ns: dict[str, object] = {"AlertState": AlertState}
    exec(SEED_BASIC_USAGE, ns)
    alert = get_alert(str(ns["alert_id"]))
    assert alert is not None
    assert alert.title == "High CPU Usage"
    assert alert.severity is AlertSeverity.WARNING
    assert alert.context == {"service": "api-gateway", "cpu_usage": "95%"}
    assert alert.state is AlertState.RESOLVED
    assert [(e.kind, e.message) for e in alert.history] == [
        ("triggered", "CPU usage is above 90%"),
        ("acknowledged", "Working on CPU issue"),
        ("resolved", "CPU usage returned to normal"),
    ]
    assert alert.resolved_at is not None
    assert alert.history[0].at <= alert.history[1].at <= alert.history[2].at


def test_seed_alert_rule_fires_an_alert_above_the_threshold() -> None:
    # The seed block uses AlertSeverity from the previous block without importing it.
    ns: dict[str, object] = {"AlertSeverity": AlertSeverity}
    exec(SEED_ALERT_RULES, ns)
    alert_id = ns["alert_id"]
    assert isinstance(alert_id, str)
    alert = get_alert(alert_id)
    assert alert is not None
    assert (alert.title, alert.message, alert.rule, alert.value) == (
        "High CPU Usage",
        "CPU usage is above 90%",
        "high_cpu_usage",
        95.0,
    )
    assert alert.context == {"service": "api-gateway"}
    assert [a.id for a in list_alerts(active=True)] == [alert_id]
    # The other two conditions the block imports behave as their names say.
    assert ns["threshold_below"](10)(5) and not ns["threshold_below"](10)(15)  # type: ignore[operator]
    assert ns["threshold_outside_range"](0, 100)(120)  # type: ignore[operator]
    # cooldown_period=300: a second breach right away does not fire again.
    assert ns["cpu_rule"].check(97) is None  # type: ignore[attr-defined]
