"""The rule evaluator: rules run on an interval against the real metrics registry."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from prometheus_client import CollectorRegistry
from tests.support.servers import wait_for

from berrys_monitoring import internal_error_counts
from berrys_monitoring._internal import event_counts
from berrys_monitoring.alerts import (
    AlertManager,
    AlertRule,
    AlertState,
    InMemoryNotifier,
    RuleEvaluator,
    threshold_above,
)
from berrys_monitoring.metrics import configure_metrics, gauge, histogram, increment_counter


@pytest.fixture
def fresh_metrics() -> Iterator[CollectorRegistry]:
    registry = CollectorRegistry()
    configure_metrics(registry=registry)
    yield registry
    configure_metrics()


@pytest.fixture
def manager() -> Iterator[AlertManager]:
    m = AlertManager(notifiers=[InMemoryNotifier()])
    yield m
    m.shutdown(1)


def test_background_evaluator_fires_and_resolves_from_a_real_gauge(
    fresh_metrics: CollectorRegistry, manager: AlertManager
) -> None:
    rule = AlertRule(
        "backlog", "queue_depth", threshold_above(100), "Backlog", "{value:g} jobs waiting",
        "error", {"queue": "mail"}, cooldown_period=0, tags={"queue": "mail"}, manager=manager,
    )  # fmt: skip
    gauge("queue_depth", 150, {"queue": "mail"})
    gauge("queue_depth", 5, {"queue": "sms"})  # another series: not selected by the tags
    with RuleEvaluator([rule], interval=0.05) as evaluator:
        assert evaluator.running
        alert = wait_for(lambda: manager.find_active("Backlog", {"queue": "mail"}), what="alert")
        assert alert.message == "150 jobs waiting"
        gauge("queue_depth", 20, {"queue": "mail"})
        wait_for(
            lambda: manager.get(alert.id).state is AlertState.RESOLVED,  # type: ignore[union-attr]
            what="auto-resolve",
        )
    assert not evaluator.running
    assert manager.flush(5)
    assert manager.notifiers[0].kinds() == ["triggered", "resolved"]


def test_evaluate_once_reads_counter_totals_and_histogram_sums(
    fresh_metrics: CollectorRegistry, manager: AlertManager
) -> None:
    for _ in range(3):
        increment_counter("payment_errors", {"provider": "acme"})
    histogram("batch_seconds", 40.0)
    histogram("batch_seconds", 30.0)
    errors = AlertRule(
        "errors", "payment_errors", threshold_above(2), "Payment errors", "{value:g} errors",
        tags={"provider": "acme"}, manager=manager,
    )  # fmt: skip
    slow = AlertRule(
        "slow", "batch_seconds", threshold_above(60), "Slow batches", "{value:g} s total",
        manager=manager,
    )  # fmt: skip
    never = AlertRule(
        "never_recorded", "no_such_metric", threshold_above(0), "Ghost", "x", manager=manager
    )
    results = RuleEvaluator([errors, slow, never]).evaluate_once()
    assert results["never_recorded"] is None
    assert manager.get(results["errors"] or "").message == "3 errors"  # type: ignore[union-attr]
    assert manager.get(results["slow"] or "").message == "70 s total"  # type: ignore[union-attr]


def test_a_failing_rule_is_counted_and_does_not_stop_the_others(
    manager: AlertManager, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Operational behaviour (production mode): the evaluator swallows and counts.
    monkeypatch.setenv("BERRYS_MONITORING_STRICT", "0")

    def broken(value: float) -> bool:
        raise RuntimeError("bad condition")

    bad = AlertRule("bad", "m", broken, "Bad", "x", manager=manager)
    good = AlertRule("good", "m", threshold_above(1), "Good", "x", manager=manager)
    results = RuleEvaluator([bad, good], value_source=lambda name, tags: 5.0).evaluate_once()
    assert results["bad"] is None and results["good"] is not None
    assert internal_error_counts()["alerts"] == 1
    assert event_counts()[("alerts", "rule_evaluation_failed")] == 1


def test_rules_can_be_added_while_running_and_stop_is_idempotent(manager: AlertManager) -> None:
    readings = {"x": 10.0}
    ev = RuleEvaluator(interval=0.02, value_source=lambda n, t: readings.get(n)).start()
    ev.start()  # a second start does not add a second thread
    ev.add_rule(AlertRule("x_high", "x", threshold_above(5), "X high", "x", manager=manager))
    wait_for(lambda: manager.list(active=True), what="rule added at runtime fires")
    ev.stop()
    ev.stop()
    assert not ev.running


def test_interval_must_be_positive() -> None:
    with pytest.raises(ValueError, match="interval"):
        RuleEvaluator(interval=0)


def test_configure_alerts_with_rules_evaluates_them_in_the_background(
    fresh_metrics: CollectorRegistry,
) -> None:
    from berrys_monitoring.alerts import configure_alerts, get_alert_manager, list_alerts

    inbox = InMemoryNotifier()
    disk = AlertRule(
        "disk", "disk_used_ratio", threshold_above(0.9), "Disk almost full", "{value:.0%} used",
        "error", {"mount": "/var"}, cooldown_period=0,
    )  # fmt: skip
    manager = configure_alerts(notifiers=[inbox], rules=[disk], evaluation_interval=0.05)
    assert manager is get_alert_manager() and manager.evaluator.running
    gauge("disk_used_ratio", 0.95)
    alert = wait_for(lambda: list_alerts(active=True), what="alert from configured rules")[0]
    assert alert.message == "95% used" and alert.rule == "disk"
    gauge("disk_used_ratio", 0.5)
    wait_for(lambda: not list_alerts(active=True), what="auto-resolve")
    evaluator = manager.evaluator
    configure_alerts()  # replacing the default stops the old evaluator
    assert not evaluator.running
    assert inbox.kinds() == ["triggered", "resolved"]
