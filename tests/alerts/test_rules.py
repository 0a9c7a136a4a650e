"""Alert rules: thresholds, custom conditions, for-duration, cooldown, auto-resolve."""

from __future__ import annotations

import pytest

from berrys_monitoring.alerts import (
    AlertManager,
    AlertRule,
    AlertSeverity,
    AlertState,
    InMemoryNotifier,
    threshold_above,
    threshold_below,
    threshold_outside_range,
)


class Clock:
    def __init__(self) -> None:
        self.t = 1_700_000_000.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def manager(clock: Clock):
    m = AlertManager(clock=clock, notifiers=[InMemoryNotifier()])
    yield m
    m.shutdown(1)


def rule(manager: AlertManager, **kw) -> AlertRule:
    args = {
        "name": "high_cpu",
        "metric_name": "cpu",
        "condition": threshold_above(90),
        "alert_title": "High CPU",
        "alert_message": "CPU at {value:g}% ({threshold})",
        "severity": AlertSeverity.WARNING,
        "context": {"service": "api"},
        "cooldown_period": 0,
        "manager": manager,
    }
    args.update(kw)
    return AlertRule(**args)


def test_thresholds_fire_on_the_right_side_of_the_boundary() -> None:
    above, below, band = threshold_above(90), threshold_below(10), threshold_outside_range(40, 60)
    assert [above(v) for v in (89.9, 90, 90.1)] == [False, False, True]
    assert [threshold_above(90, inclusive=True)(v) for v in (89.9, 90)] == [False, True]
    assert [below(v) for v in (9.9, 10, 10.1)] == [True, False, False]
    assert [threshold_below(10, inclusive=True)(10)] == [True]
    assert [band(v) for v in (39, 40, 50, 60, 61)] == [True, False, False, False, True]


def test_bad_thresholds_fail_at_configuration() -> None:
    with pytest.raises(ValueError, match="low"):
        threshold_outside_range(10, 5)
    with pytest.raises(TypeError):
        threshold_above("90")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="callable"):
        AlertRule("r", "m", 90, "t", "m")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="cooldown_period"):
        AlertRule("r", "m", threshold_above(1), "t", "m", cooldown_period=-1)


def test_rule_message_renders_value_and_threshold(manager: AlertManager) -> None:
    alert_id = rule(manager).check(95.5)
    alert = manager.get(alert_id or "")
    assert alert is not None
    assert alert.message == "CPU at 95.5% (value > 90)"
    assert (alert.rule, alert.value) == ("high_cpu", 95.5)


def test_malformed_message_template_is_used_as_written(manager: AlertManager) -> None:
    alert_id = rule(manager, alert_message="CPU {value:%%%} and {unknown}").check(95)
    alert = manager.get(alert_id or "")
    assert alert is not None and alert.message == "CPU {value:%%%} and {unknown}"


def test_custom_callable_condition(manager: AlertManager) -> None:
    r = rule(manager, condition=lambda v: int(v) % 2 == 1)
    assert r.check(4) is None
    assert r.check(5) is not None


def test_condition_not_met_returns_none_and_no_alert(manager: AlertManager) -> None:
    assert rule(manager).check(50) is None
    assert manager.list() == []


def test_missing_or_nan_value_changes_nothing(manager: AlertManager) -> None:
    r = rule(manager)
    alert_id = r.check(95)
    assert r.check(None) is None
    assert r.check(float("nan")) is None
    alert = manager.get(alert_id or "")
    assert alert is not None and alert.state is AlertState.TRIGGERED


def test_for_duration_keeps_the_rule_pending_until_it_held_long_enough(
    manager: AlertManager, clock: Clock
) -> None:
    r = rule(manager, for_duration=60)
    assert r.check(95) is None and r.state == "pending"
    clock.t += 30
    assert r.check(96) is None
    clock.t += 29
    assert r.check(97) is None
    clock.t += 1
    alert_id = r.check(98)
    assert alert_id is not None and r.state == "firing"


def test_for_duration_restarts_when_the_condition_clears_in_between(
    manager: AlertManager, clock: Clock
) -> None:
    r = rule(manager, for_duration=60)
    r.check(95)
    clock.t += 50
    assert r.check(10) is None and r.state == "inactive"
    clock.t += 20
    assert r.check(95) is None  # pending again from now
    clock.t += 59
    assert r.check(95) is None
    assert manager.list() == []


def test_cooldown_suppresses_refiring_then_retriggers_the_same_active_alert(
    manager: AlertManager, clock: Clock
) -> None:
    r = rule(manager, cooldown_period=300)
    first = r.check(95)
    assert first is not None
    clock.t += 299
    assert r.check(96) is None
    clock.t += 1
    assert r.check(97) == first
    alert = manager.get(first)
    assert alert is not None and alert.occurrences == 2


def test_condition_clearing_resolves_the_rule_alert_and_notifies(
    manager: AlertManager, clock: Clock
) -> None:
    r = rule(manager, resolve_message="CPU back to {value:g}%")
    alert_id = r.check(95)
    clock.t += 10
    assert r.check(40) is None
    alert = manager.get(alert_id or "")
    assert alert is not None and alert.state is AlertState.RESOLVED
    assert alert.history[-1].message == "CPU back to 40%"
    assert manager.flush(5)
    inbox = manager.notifiers[0]
    assert inbox.kinds() == ["triggered", "resolved"]


def test_auto_resolve_can_be_turned_off(manager: AlertManager) -> None:
    r = rule(manager, auto_resolve=False)
    alert_id = r.check(95)
    r.check(10)
    alert = manager.get(alert_id or "")
    assert alert is not None and alert.state is AlertState.TRIGGERED


def test_two_rules_on_one_alert_escalate_it(manager: AlertManager) -> None:
    warn = rule(manager, name="cpu_warn", condition=threshold_above(80))
    crit = rule(manager, name="cpu_crit", condition=threshold_above(95), severity="critical")
    a = warn.check(97)
    b = crit.check(97)
    assert a == b
    alert = manager.get(a or "")
    assert alert is not None and alert.severity is AlertSeverity.CRITICAL
    assert manager.flush(5)
    assert manager.notifiers[0].kinds() == ["triggered", "escalated"]
    # The critical tier clearing leaves the alert to the rule that created it.
    crit.check(85)
    warn.check(85)
    still = manager.get(a or "")
    assert still is not None and still.state is AlertState.TRIGGERED
    warn.check(50)
    gone = manager.get(a or "")
    assert gone is not None and gone.state is AlertState.RESOLVED


def test_a_raising_custom_condition_propagates_from_check(manager: AlertManager) -> None:
    def broken(value: float) -> bool:
        raise ZeroDivisionError("user bug")

    with pytest.raises(ZeroDivisionError, match="user bug"):
        rule(manager, condition=broken).check(1)


def test_rule_uses_the_default_manager_when_none_given() -> None:
    from berrys_monitoring.alerts import get_alert

    r = AlertRule("r", "m", threshold_above(1), "Default mgr", "x", cooldown_period=0)
    alert_id = r.check(2)
    assert alert_id is not None and get_alert(alert_id) is not None
    assert "AlertRule('r'" in repr(r)
