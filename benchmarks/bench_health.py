"""Health check cost: ``check_health()`` over 5 trivial checks.

Anchors: the same 5 checks run the obvious concurrent way with the stdlib
(``ThreadPoolExecutor`` + ``future.result(timeout)``, what a hand-written health endpoint
with timeouts does), and, as a floor, the 5 functions called directly in a row (no
concurrency, no timeout protection). The cached case shows what a probe costs when
``cache_ttl`` is set.

Run alone: ``python -m benchmarks --only health``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor

from benchmarks._harness import Comparison, compare_ns
from berrys_monitoring.health import HealthRegistry

COMPONENT = "health"
N = 5


def _trivial(i: int) -> Callable[[], tuple[bool, str]]:
    def check() -> tuple[bool, str]:
        return True, f"component {i} is fine"

    return check


def _trivial_async(i: int) -> Callable[[], Awaitable[tuple[bool, str]]]:
    async def check() -> tuple[bool, str]:
        return True, f"component {i} is fine"

    return check


def run(quick: bool) -> list[Comparison]:
    repeat = 5 if quick else 11
    target_s = 0.02 if quick else 0.1
    checks = [_trivial(i) for i in range(N)]

    reg = HealthRegistry()
    for i, c in enumerate(checks):
        reg.register(f"c{i}", c, timeout=2.0)
    cached = HealthRegistry()
    for i, c in enumerate(checks):
        cached.register(f"c{i}", c, cache_ttl=3600)
    areg = HealthRegistry()
    for i in range(N):
        areg.register(f"c{i}", _trivial_async(i))

    pool = ThreadPoolExecutor(max_workers=N)

    def ours() -> None:
        reg.check_health()

    def anchor_pool() -> None:
        futures = [pool.submit(c) for c in checks]
        for f in futures:
            f.result(timeout=2.0)

    def direct() -> None:
        for c in checks:
            c()

    def ours_cached() -> None:
        cached.check_health()

    loop = asyncio.new_event_loop()
    async_checks = [_trivial_async(i) for i in range(N)]

    def ours_async() -> None:
        loop.run_until_complete(areg.check_health_async())

    async def gathered() -> None:
        await asyncio.gather(*(asyncio.wait_for(c(), 2.0) for c in async_checks))

    def anchor_async() -> None:
        loop.run_until_complete(gathered())

    try:
        ours_ns, pool_ns = compare_ns(ours, anchor_pool, repeat=repeat, target_s=target_s)
        _, direct_ns = compare_ns(ours, direct, repeat=repeat, target_s=target_s)
        cached_ns, direct2_ns = compare_ns(ours_cached, direct, repeat=repeat, target_s=target_s)
        async_ns, gather_ns = compare_ns(ours_async, anchor_async, repeat=repeat, target_s=target_s)
    finally:
        pool.shutdown()
        loop.close()
    return [
        Comparison(
            COMPONENT,
            "check_health() over 5 trivial sync checks",
            ours_ns,
            "stdlib ThreadPoolExecutor + result(timeout)",
            pool_ns,
            note=(
                f"reported figure (no target); the 5 functions called directly in a row: "
                f"{direct_ns / 1000:.1f} µs"
            ),
        ),
        Comparison(
            COMPONENT,
            "check_health() over 5 cached checks (cache_ttl)",
            cached_ns,
            "5 functions called directly",
            direct2_ns,
        ),
        Comparison(
            COMPONENT,
            "check_health_async() over 5 trivial async checks",
            async_ns,
            "asyncio.gather(wait_for(...)) on the same loop",
            gather_ns,
        ),
    ]
