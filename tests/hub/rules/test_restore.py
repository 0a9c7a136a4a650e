"""Alert state across a restart, as Prometheus' ``RestoreForState``: a new evaluator on the
same store (the hub restarted) carries on firing alerts with their start after a short
outage, starts again after one longer than the outage tolerance, and does not count the
time it was down towards a pending alert's ``for``. The rules run on the hub's real PromQL
engine over a real store; the evaluator's clock is the evaluation time given."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from berrys_monitoring.hub.promql import Engine
from berrys_monitoring.hub.rules._evaluator import RuleEvaluator
from berrys_monitoring.hub.rules._rulefile import AlertingRule, RuleGroup
from berrys_monitoring.hub.store import AlertQuery, Batch, Sample, SQLiteStore


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SQLiteStore]:
    s = SQLiteStore(tmp_path)
    yield s
    s.close()


def _group(for_s: float) -> RuleGroup:
    return RuleGroup("g", "rules.yml", 1.0, (AlertingRule("DemoUp", "demo > 0", for_s=for_s),))


def _evaluator(store: SQLiteStore, group: RuleGroup) -> RuleEvaluator:
    engine = Engine(store)
    ev = RuleEvaluator(store, lambda: engine)
    ev.set_groups([group])
    return ev


def _eval(store: SQLiteStore, ev: RuleEvaluator, group: RuleGroup, t: float) -> None:
    """The service reports ``demo 1`` at ``t``, then the group is evaluated at ``t``."""
    sample = Sample((("__name__", "demo"),), int(t * 1000), 1.0)
    store.submit(Batch(samples=[sample])).result(timeout=60)
    ev.evaluate_group(group, t)


def _state(ev: RuleEvaluator, group: RuleGroup) -> tuple[str, float, float | None]:
    [st] = ev.alerts(group.rules[0], group)  # type: ignore[arg-type]
    return st.state, st.active_ns / 1e9, None if st.fired_ns is None else st.fired_ns / 1e9


def _events(store: SQLiteStore) -> list[tuple[str, str]]:
    [alert] = store.list_alerts(AlertQuery())
    found = store.get_alert(str(alert["fingerprint"]))
    assert found is not None
    history: list[dict[str, object]] = found["history"]  # type: ignore[assignment]
    return [(str(e["event"]), str(e["note"])) for e in history]


T0 = 1_800_000_000.0


def test_a_firing_alert_keeps_firing_with_its_start_after_a_short_outage(
    store: SQLiteStore,
) -> None:
    group = _group(10.0)
    ev = _evaluator(store, group)
    _eval(store, ev, group, T0)
    _eval(store, ev, group, T0 + 10)
    assert _state(ev, group) == ("firing", T0, T0 + 10)
    restarted = _evaluator(store, group)  # the hub was down 50 s (within the tolerance)
    _eval(store, restarted, group, T0 + 60)
    assert _state(restarted, group) == ("firing", T0, T0 + 10)


def test_after_an_outage_longer_than_the_tolerance_an_alert_starts_again(
    store: SQLiteStore,
) -> None:
    group = _group(10.0)
    ev = _evaluator(store, group)
    _eval(store, ev, group, T0)
    _eval(store, ev, group, T0 + 10)
    restarted = _evaluator(store, group)  # down two hours: its condition went unobserved
    _eval(store, restarted, group, T0 + 7200)
    assert _state(restarted, group) == ("pending", T0 + 7200, None)
    events = _events(store)
    assert [e for e, _ in events] == ["pending", "firing", "resolved", "pending"]
    assert "outage tolerance" in events[2][1]
    _eval(store, restarted, group, T0 + 7210)
    assert _state(restarted, group) == ("firing", T0 + 7200, T0 + 7210)


def test_the_time_down_does_not_count_towards_for(store: SQLiteStore) -> None:
    group = _group(1200.0)  # 20 minutes, longer than the 10-minute grace period
    ev = _evaluator(store, group)
    _eval(store, ev, group, T0)
    _eval(store, ev, group, T0 + 100)  # last evaluated 100 s into its 1200 s
    restarted = _evaluator(store, group)  # down 300 s: its start moves 300 s on
    _eval(store, restarted, group, T0 + 400)
    assert _state(restarted, group) == ("pending", T0 + 300, None)
    _eval(store, restarted, group, T0 + 1200)  # when it would have fired without the outage
    assert _state(restarted, group)[0] == "pending"
    _eval(store, restarted, group, T0 + 1500)
    assert _state(restarted, group) == ("firing", T0 + 300, T0 + 1500)


def test_a_pending_alert_near_its_for_waits_the_grace_period(store: SQLiteStore) -> None:
    group = _group(1200.0)
    ev = _evaluator(store, group)
    _eval(store, ev, group, T0)
    _eval(store, ev, group, T0 + 1000)  # 200 s left, less than the grace period
    restarted = _evaluator(store, group)
    _eval(store, restarted, group, T0 + 1100)
    assert _state(restarted, group) == ("pending", T0 + 1100 + 600 - 1200, None)
