"""check_health_async for ASGI code: never blocks the loop; async checks run on the
caller's loop; sync check_health also works from inside a running loop."""

from __future__ import annotations

import asyncio
import threading
import time

from berrys_monitoring.health import (
    CheckResult,
    HealthRegistry,
    HealthReport,
    HealthStatus,
    check_health,
    check_health_async,
    register_health_check,
)


async def test_async_checks_run_on_the_callers_loop(registry: HealthRegistry) -> None:
    caller = asyncio.get_running_loop()
    seen: list[asyncio.AbstractEventLoop] = []

    @register_health_check("pool")
    async def pool() -> tuple[bool, str]:
        seen.append(asyncio.get_running_loop())
        await asyncio.sleep(0)
        return True, "pool has 3 idle connections"

    report = await check_health_async()
    assert isinstance(report, HealthReport) and report.is_healthy
    assert seen == [caller]
    one = await check_health_async("pool")
    assert isinstance(one, CheckResult) and one.message == "pool has 3 idle connections"


async def test_a_blocking_sync_check_does_not_block_the_event_loop(
    registry: HealthRegistry,
) -> None:
    # The sync check blocks its thread until the loop has ticked 5 times: if it ran on the
    # loop's thread, the loop could not tick and the check would time out.
    ticks = 0
    enough = threading.Event()

    async def ticker() -> None:
        nonlocal ticks
        while not enough.is_set():
            ticks += 1
            if ticks >= 5:
                enough.set()
            await asyncio.sleep(0.01)

    register_health_check("blocking", timeout=5)(lambda: (enough.wait(5), "loop kept running"))
    task = asyncio.create_task(ticker())
    report = await check_health_async()
    await task
    assert report.is_healthy, report.output()
    assert ticks >= 5


async def test_async_timeouts_fail_the_check_and_cancel_it(registry: HealthRegistry) -> None:
    cancelled = asyncio.Event()

    @register_health_check("hung", timeout=0.2)
    async def hung() -> bool:
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            cancelled.set()
            raise
        return True

    register_health_check("sync-hung", timeout=0.2)(lambda: threading.Event().wait(2))
    report = await check_health_async()
    assert report.status is HealthStatus.UNHEALTHY
    assert all(r.timed_out for r in report.checks.values())
    await asyncio.wait_for(cancelled.wait(), 5)


async def test_sync_check_health_works_inside_a_running_loop(registry: HealthRegistry) -> None:
    # A sync endpoint body called from async code: async checks go to the background loop.
    @register_health_check("async")
    async def async_check() -> tuple[bool, str]:
        await asyncio.sleep(0)
        return True, "from the background loop"

    register_health_check("sync")(lambda: (True, "from a worker thread"))
    report = check_health()
    assert report.is_healthy
    assert report.checks["async"].message == "from the background loop"


def test_async_checks_also_run_from_plain_sync_code(registry: HealthRegistry) -> None:
    @register_health_check("async")
    async def async_check() -> str:
        await asyncio.sleep(0)
        return "warn"

    assert check_health("async").status is HealthStatus.DEGRADED


async def test_async_and_sync_callers_share_the_cache(registry: HealthRegistry) -> None:
    calls = 0

    @register_health_check("db", cache_ttl=60)
    async def db() -> bool:
        nonlocal calls
        calls += 1
        return True

    await check_health_async()
    await check_health_async()
    assert calls == 1
    assert (await check_health_async("db")).cached


def test_a_run_left_pending_on_a_closed_loop_is_not_joined(registry: HealthRegistry) -> None:
    state = {"hang": True}

    @register_health_check("svc", timeout=0.2)
    async def svc() -> tuple[bool, str]:
        if state["hang"]:
            try:
                await asyncio.sleep(30)
            except asyncio.CancelledError:
                await asyncio.sleep(30)  # a check that ignores cancellation
        return True, "answered"

    loop = asyncio.new_event_loop()
    try:
        assert loop.run_until_complete(check_health_async("svc")).timed_out
    finally:
        loop.close()  # the run is still pending on it and can never finish now
    state["hang"] = False
    result = check_health("svc")
    assert result.is_healthy and result.message == "answered"


async def test_sync_check_health_on_the_loop_thread_does_not_join_a_run_on_that_loop(
    registry: HealthRegistry,
) -> None:
    gate = asyncio.Event()
    calls: list[int] = []

    @register_health_check("svc", timeout=1)
    async def svc() -> tuple[bool, str]:
        calls.append(1)
        if len(calls) == 1:
            await gate.wait()  # the first run, on this loop, waits for the gate
        return True, "ok"

    first = asyncio.create_task(check_health_async("svc"))
    while not calls:  # until the first run is in flight on this loop
        await asyncio.sleep(0.01)
    # Sync call from the loop's own thread: the loop is blocked while it waits, so it
    # must start a fresh run (on the background loop) rather than join the stuck one.
    result = check_health("svc")
    assert result.is_healthy and not result.timed_out and len(calls) == 2
    gate.set()
    assert (await first).is_healthy


async def test_sync_check_health_on_the_loop_thread_does_not_wait_for_that_loops_evaluation(
    registry: HealthRegistry,
) -> None:
    gate = asyncio.Event()
    calls: list[int] = []

    @register_health_check("svc", timeout=1)
    async def svc() -> tuple[bool, str]:
        calls.append(1)
        if len(calls) == 1:
            await gate.wait()
        return True, "ok"

    first = asyncio.create_task(check_health_async())
    while not calls:  # until the first evaluation is in flight on this loop
        await asyncio.sleep(0.01)
    # Waiting for that evaluation would block the loop it needs: the sync call from the
    # loop's own thread evaluates by itself instead of sharing it.
    t0 = time.monotonic()
    report = check_health()
    assert time.monotonic() - t0 < 1.0
    assert report.is_healthy and len(calls) == 2
    gate.set()
    assert (await first).is_healthy
