"""Registering and running checks: return forms, aggregation, concurrency, timeouts,
caching, joining runs in flight, probes, configuration errors."""

from __future__ import annotations

import asyncio
import logging
import threading
import time

import pytest
from tests.health.conftest import FakeClock

from berrys_monitoring._internal import event_counts
from berrys_monitoring.health import CheckResult, HealthRegistry, HealthStatus, Probe


@pytest.mark.parametrize(
    ("returned", "status", "message"),
    [
        (True, HealthStatus.HEALTHY, "ok"),
        (False, HealthStatus.UNHEALTHY, "check failed"),
        (None, HealthStatus.HEALTHY, "ok"),
        ((True, "fine"), HealthStatus.HEALTHY, "fine"),
        ((False, "down"), HealthStatus.UNHEALTHY, "down"),
        (("warn", "slow disk"), HealthStatus.DEGRADED, "slow disk"),
        ("degraded", HealthStatus.DEGRADED, "check failed"),
        ({"status": "fail", "message": "x"}, HealthStatus.UNHEALTHY, "x"),
        (CheckResult(HealthStatus.DEGRADED, "rich"), HealthStatus.DEGRADED, "rich"),
    ],
)
def test_check_return_forms_are_understood(returned, status, message) -> None:
    reg = HealthRegistry()
    reg.register("c", lambda: returned)
    result = reg.check_health("c")
    assert result.status is status
    assert result.message == message


def test_a_tuple_with_details_keeps_the_details() -> None:
    reg = HealthRegistry()
    reg.register("c", lambda: (True, "fine", {"rows": 3}))
    assert reg.check_health("c").details == {"rows": 3}


def test_a_raising_check_is_unhealthy_with_the_exception_as_message() -> None:
    reg = HealthRegistry()

    @reg.register("boom")
    def boom() -> bool:
        raise ConnectionError("socket closed by peer")

    result = reg.check_health("boom")
    assert result.status is HealthStatus.UNHEALTHY
    assert result.message == "ConnectionError: socket closed by peer"
    assert result.details["error"] == "ConnectionError"


def test_an_unsupported_return_value_fails_the_check_with_an_explanation() -> None:
    reg = HealthRegistry()
    reg.register("weird", lambda: 42)
    result = reg.check_health("weird")
    assert result.status is HealthStatus.UNHEALTHY
    assert "must return a bool" in result.message and "int" in result.message


def test_results_carry_status_message_duration_timestamp_and_details() -> None:
    reg = HealthRegistry()
    reg.register("c", lambda: (True, "fine", {"k": "v"}), component_type="component")
    before = time.time()
    r = reg.check_health("c")
    assert r.name == "c" and r.critical is True
    assert r.duration >= 0 and r.observed_unit == "ms"
    assert before - 1 <= r.timestamp.timestamp() <= time.time() + 1
    assert r.timestamp.tzinfo is not None
    d = r.to_dict()
    assert d["status"] == "pass" and d["state"] == "healthy" and d["details"] == {"k": "v"}
    assert d["timestamp"].endswith("Z")


def test_a_failing_non_critical_check_degrades_and_a_critical_one_fails() -> None:
    reg = HealthRegistry()
    reg.register("db", lambda: True)
    reg.register("cache", lambda: (False, "cache down"), critical=False)
    report = reg.check_health()
    assert report.status is HealthStatus.DEGRADED and report.is_degraded
    assert report.ok and report.http_status == 200 and not report.is_healthy
    assert report.checks["cache"].status is HealthStatus.UNHEALTHY
    reg.register("db", lambda: (False, "db down"))
    report = reg.check_health()
    assert report.status is HealthStatus.UNHEALTHY and report.http_status == 503
    assert not report.ok and not report
    assert report.failed == ["db", "cache"]


def test_no_checks_means_healthy() -> None:
    report = HealthRegistry().check_health()
    assert report.status is HealthStatus.HEALTHY and report.checks == {}


def test_checks_run_concurrently() -> None:
    # Each check waits at a barrier for the other two: this only passes if all three run
    # at the same time.
    barrier = threading.Barrier(3, timeout=5)
    reg = HealthRegistry()
    for name in ("a", "b", "c"):
        reg.register(name, lambda: (barrier.wait() >= 0, "met"), timeout=5)
    report = reg.check_health()
    assert report.is_healthy, report.output()


def test_a_hung_sync_check_fails_at_its_timeout_and_the_others_still_report() -> None:
    release = threading.Event()
    reg = HealthRegistry()
    reg.register("hung", lambda: release.wait(30), timeout=0.3)
    reg.register("fine", lambda: True)
    try:
        t0 = time.monotonic()
        report = reg.check_health()
        elapsed = time.monotonic() - t0
    finally:
        release.set()
    assert elapsed < 0.3 + 0.5
    hung = report.checks["hung"]
    assert hung.status is HealthStatus.UNHEALTHY and hung.timed_out
    assert hung.message == "timed out after 0.3s" and hung.duration == 0.3
    assert event_counts()[("health", "check_timeout")] == 1
    assert report.checks["fine"].is_healthy


def test_a_hung_async_check_is_cancelled_at_its_timeout() -> None:
    cancelled = threading.Event()
    reg = HealthRegistry()

    @reg.register("hung", timeout=0.2)
    async def hung() -> bool:
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            cancelled.set()
            raise
        return True

    result = reg.check_health("hung")
    assert result.timed_out and result.status is HealthStatus.UNHEALTHY
    assert cancelled.wait(5), "the coroutine was not cancelled"


def test_a_check_still_running_is_joined_not_started_again() -> None:
    calls = 0
    release = threading.Event()

    def slow() -> bool:
        nonlocal calls
        calls += 1
        release.wait(30)
        return True

    reg = HealthRegistry()
    reg.register("slow", slow, timeout=0.1)
    try:
        for _ in range(5):
            assert reg.check_health("slow").timed_out
        assert calls == 1
    finally:
        release.set()
    # Once the run finishes, the next call starts a fresh one.
    deadline = time.monotonic() + 5
    while reg.check_health("slow").timed_out and time.monotonic() < deadline:
        pass
    assert reg.check_health("slow").is_healthy


def test_callers_that_join_a_hung_run_wait_only_until_its_deadline(clock: FakeClock) -> None:
    # The run's deadline bounds everyone who joins it: once it has passed, callers answer
    # "timed out" at once instead of each waiting a full timeout of their own.
    never = threading.Event()
    calls: list[int] = []

    def hung() -> bool:
        calls.append(1)
        return never.wait(30)

    reg = HealthRegistry(clock=clock)
    reg.register("hung", hung, timeout=0.2)
    try:
        assert reg.check_health("hung").timed_out  # waits the (real) 0.2 s for the run
        clock.advance(0.2)
        t0 = time.monotonic()
        later = [reg.check_health("hung") for _ in range(5)] + [reg.check_health()]
        elapsed = time.monotonic() - t0
    finally:
        never.set()
    assert all(r.timed_out for r in later[:5]) and later[5].checks["hung"].timed_out
    assert len(calls) == 1
    assert elapsed < 0.2, f"later callers waited {elapsed:.2f}s on a run already timed out"


async def test_concurrent_callers_share_one_evaluation_of_the_report() -> None:
    calls: list[int] = []

    async def check() -> bool:
        calls.append(1)
        await asyncio.sleep(0)
        return True

    reg = HealthRegistry()
    reg.register("c", check)
    reports = await asyncio.gather(*(reg.check_health_async() for _ in range(8)))
    assert len(calls) == 1
    assert all(r is reports[0] for r in reports)  # one evaluation, one report for all
    # Once it has landed, the next call evaluates afresh (nothing is cached).
    assert (await reg.check_health_async()) is not reports[0] and len(calls) == 2


def test_a_sync_caller_waiting_on_another_threads_evaluation_gets_its_report() -> None:
    entered, release = threading.Event(), threading.Event()
    calls: list[int] = []

    def check() -> bool:
        calls.append(1)
        entered.set()
        return release.wait(5)

    reg = HealthRegistry()
    reg.register("c", check, timeout=5)
    out: list[object] = []
    leader = threading.Thread(target=lambda: out.append(reg.check_health()))
    leader.start()
    assert entered.wait(5)
    follower = threading.Thread(target=lambda: out.append(reg.check_health()))
    follower.start()
    release.set()
    leader.join(5)
    follower.join(5)
    assert len(out) == 2 and len(calls) == 1


def test_cache_ttl_serves_the_cached_result_until_it_expires(clock: FakeClock) -> None:
    calls = 0

    def counted() -> tuple[bool, str]:
        nonlocal calls
        calls += 1
        return True, f"call {calls}"

    reg = HealthRegistry(clock=clock)
    reg.register("db", counted, cache_ttl=1.5)
    first = reg.check_health("db")
    second = reg.check_health("db")
    assert calls == 1 and not first.cached and second.cached
    assert second.message == "call 1"
    assert not reg.check_health("db", use_cache=False).cached and calls == 2
    clock.advance(1.4)
    assert reg.check_health("db").message == "call 2"  # still cached
    clock.advance(0.2)
    assert reg.check_health("db").message == "call 3"


def test_failures_are_cached_too_so_probes_cannot_hammer_a_dead_dependency() -> None:
    calls = 0

    def down() -> tuple[bool, str]:
        nonlocal calls
        calls += 1
        return False, "refused"

    reg = HealthRegistry()
    reg.register("db", down, cache_ttl=60)
    for _ in range(10):
        assert reg.check_health().status is HealthStatus.UNHEALTHY
    assert calls == 1


def test_probes_select_checks_and_dependencies_default_to_readiness() -> None:
    reg = HealthRegistry()
    reg.register("db", lambda: (False, "down"))
    reg.register("deadlock", lambda: True, probes=("liveness", "readiness"))
    reg.register("migrations", lambda: True, probes="startup")
    assert reg.names(Probe.LIVENESS) == ["deadlock"]
    assert reg.names("readiness") == ["db", "deadlock"]
    assert reg.names("startup") == ["migrations"]
    # A dead database makes the service unready, but never gets it restarted.
    live = reg.check_health(probe="liveness")
    ready = reg.check_health(probe="readiness")
    assert live.status is HealthStatus.HEALTHY and live.probe == "liveness"
    assert list(live.checks) == ["deadlock"]
    assert ready.status is HealthStatus.UNHEALTHY and ready.http_status == 503


@pytest.mark.parametrize(
    ("options", "error"),
    [
        ({"timeout": 0}, "timeout must be a positive number"),
        ({"timeout": "2"}, "timeout must be a positive number"),
        ({"cache_ttl": -1}, "cache_ttl must be >= 0"),
        ({"probes": ("liveliness",)}, "unknown probe 'liveliness'"),
        ({"probes": ()}, "at least one probe"),
    ],
)
def test_bad_options_raise_at_registration(options, error) -> None:
    reg = HealthRegistry()
    with pytest.raises(ValueError, match=error):
        reg.register("c", **options)
    assert "c" not in reg


def test_bad_names_and_non_callables_raise_at_registration() -> None:
    reg = HealthRegistry()
    with pytest.raises(ValueError, match="non-empty name"):
        reg.register("", lambda: True)
    with pytest.raises(TypeError, match="must be callable"):
        reg.register("c", "not a function")


def test_an_unknown_probe_or_name_at_check_time_is_a_clear_error() -> None:
    reg = HealthRegistry()
    reg.register("db", lambda: True)
    with pytest.raises(KeyError, match=r"no health check named 'dbx'.*registered: db"):
        reg.check_health("dbx")
    with pytest.raises(ValueError, match="unknown probe"):
        reg.check_health(probe="alive")


def test_registering_a_name_again_replaces_the_check_and_unregister_removes_it() -> None:
    reg = HealthRegistry()
    reg.register("db", lambda: (True, "old"))
    reg.register("db", lambda: (True, "new"))
    assert len(reg) == 1 and reg.check_health("db").message == "new"
    assert reg.unregister("db") and not reg.unregister("db")
    assert "db" not in reg


def test_component_measurement_names_become_health_json_keys() -> None:
    reg = HealthRegistry()
    reg.register(
        "db:connections",
        lambda: CheckResult(HealthStatus.HEALTHY, observed_value=12, observed_unit="conn"),
    )
    doc = reg.check_health().to_health_json()
    assert doc["checks"]["db:connections"][0]["observedValue"] == 12
    assert doc["checks"]["db:connections"][0]["componentId"] == "db"


def test_status_changes_are_logged_once_per_change(caplog: pytest.LogCaptureFixture) -> None:
    state = {"ok": True}
    reg = HealthRegistry()
    reg.register("db", lambda: (state["ok"], "up" if state["ok"] else "connection refused"))
    caplog.set_level(logging.INFO, logger="berrys_monitoring.health")
    reg.check_health()
    assert caplog.records == []  # healthy from the start: nothing to say
    state["ok"] = False
    reg.check_health()
    reg.check_health()
    state["ok"] = True
    reg.check_health()
    messages = [(r.levelno, r.getMessage()) for r in caplog.records]
    assert messages == [
        (logging.WARNING, "health check db is unhealthy: connection refused"),
        (logging.INFO, "health check db recovered: up"),
    ]


def test_a_sync_function_returning_a_coroutine_is_awaited() -> None:
    async def inner() -> tuple[bool, str]:
        return True, "awaited"

    reg = HealthRegistry()
    reg.register("c", lambda: inner())
    assert reg.check_health("c").message == "awaited"


def test_report_metadata_comes_from_the_registry_configuration() -> None:
    reg = HealthRegistry(service_id="users")
    reg.configure(version="1.2.3", description="user service")
    doc = reg.check_health().to_health_json()
    assert doc["serviceId"] == "users" and doc["version"] == "1.2.3"
    assert doc["description"] == "user service"
    with pytest.raises(TypeError, match="unknown health registry setting"):
        reg.configure(colour="blue")


def test_a_run_stuck_far_past_its_timeout_is_abandoned_so_the_check_can_recover(
    clock: FakeClock,
) -> None:
    # "Far past" is max(10 x timeout, 60 s): the fake clock gets there at once.
    stuck = threading.Event()
    runs: list[int] = []

    def db() -> tuple[bool, str]:
        runs.append(1)
        if len(runs) == 1:
            stuck.wait(30)  # the first run never returns (a read without a timeout)
        return True, "recovered"

    reg = HealthRegistry(clock=clock)
    reg.register("db", db, timeout=0.1)
    try:
        assert reg.check_health("db").timed_out
        clock.advance(59)
        assert reg.check_health("db").timed_out and len(runs) == 1  # joined, not restarted
        clock.advance(2)
        result = reg.check_health("db")
        assert result.is_healthy and result.message == "recovered" and len(runs) == 2
        assert event_counts()[("health", "abandoned_run")] == 1
    finally:
        stuck.set()


def test_a_check_that_hangs_forever_parks_a_bounded_number_of_threads(
    monkeypatch: pytest.MonkeyPatch, clock: FakeClock
) -> None:
    from berrys_monitoring.health import _execution

    monkeypatch.setattr(_execution, "MAX_ABANDONED", 2)
    never = threading.Event()
    runs: list[int] = []

    def hung() -> bool:
        runs.append(1)
        never.wait(30)  # a driver call without a timeout, on a dependency that never answers
        return True

    reg = HealthRegistry(clock=clock)
    reg.register("hung", hung, timeout=0.05)
    try:
        for _ in range(6):
            assert reg.check_health("hung").timed_out
            clock.advance(61)  # past the stale limit: each round may abandon the run
        # Two abandoned runs and the current one; later rounds join the current one.
        assert len(runs) == 3
        assert event_counts()[("health", "abandoned_run")] == 2
    finally:
        never.set()


def test_a_passing_check_slower_than_degraded_after_is_degraded(clock: FakeClock) -> None:
    def slow() -> tuple[bool, str]:
        clock.advance(0.15)  # a slow query
        return True, "answered"

    reg = HealthRegistry(clock=clock)
    reg.register("slow", slow, degraded_after=0.05)
    reg.register("fast", lambda: (True, "answered"), degraded_after=0.5)
    report = reg.check_health("slow"), reg.check_health("fast")
    slow_result, fast = report
    assert slow_result.status is HealthStatus.DEGRADED
    assert slow_result.duration == pytest.approx(0.15)
    assert slow_result.message == "answered (slow: 0.15s > 0.05s)"
    assert fast.is_healthy


def test_degraded_after_must_be_below_the_timeout() -> None:
    with pytest.raises(ValueError, match="degraded_after must be"):
        HealthRegistry().register("c", lambda: True, timeout=1.0, degraded_after=2.0)
