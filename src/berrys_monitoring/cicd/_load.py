"""Drive real HTTP traffic: closed-loop load for ``verify`` and paced, interleaved sampling
of two deployments for ``canary``. Both record one :class:`Sample` per request."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import httpx

from berrys_monitoring.cicd._stats import percentile

__all__ = ["LoadSummary", "Sample", "paced_pairs", "run_load", "summarize"]


@dataclass(frozen=True)
class Sample:
    """One request: its status (``None`` when no HTTP response came back), latency in
    milliseconds, body size and, for transport failures, the error's type name.

    Example::

        >>> Sample("canary", "/users", 503, 12.5).is_error
        True
    """

    side: str
    path: str
    status: int | None
    latency_ms: float
    size: int = 0
    error: str | None = None

    @property
    def is_error(self) -> bool:
        """A 5xx answer or no answer at all counts as an error (4xx is the client's)."""
        return self.status is None or self.status >= 500


async def _request(client: httpx.AsyncClient, side: str, base: str, path: str) -> Sample:
    t0 = time.perf_counter()
    try:
        resp = await client.get(base + path)
        size = len(resp.content)
        status: int | None = resp.status_code
        error = None
    except httpx.HTTPError as exc:
        status, size, error = None, 0, type(exc).__name__
    return Sample(side, path, status, (time.perf_counter() - t0) * 1000, size, error)


def _client(concurrency: int, timeout: float) -> httpx.AsyncClient:
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    return httpx.AsyncClient(timeout=timeout, limits=limits, follow_redirects=False)


async def run_load(
    base_url: str,
    paths: Sequence[str],
    *,
    requests: int = 100,
    concurrency: int = 10,
    duration: float | None = None,
    timeout: float = 10.0,
    warmup: int = 0,
    on_sample: Callable[[Sample], None] | None = None,
) -> tuple[list[Sample], float]:
    """Closed-loop load: ``concurrency`` workers send GETs round-robin over ``paths`` until
    ``requests`` are done (or ``duration`` seconds pass, when given). Returns the samples and
    the wall time of the measured part (warm-up requests are not recorded)."""
    base = base_url.rstrip("/")
    samples: list[Sample] = []
    async with _client(concurrency, timeout) as client:
        for i in range(warmup):
            await _request(client, "warmup", base, paths[i % len(paths)])
        counter = itertools.count()
        t0 = time.perf_counter()
        deadline = None if duration is None else t0 + duration

        async def worker() -> None:
            while True:
                i = next(counter)
                if deadline is None and i >= requests:
                    return
                if deadline is not None and time.perf_counter() >= deadline:
                    return
                s = await _request(client, "load", base, paths[i % len(paths)])
                samples.append(s)
                if on_sample is not None:
                    on_sample(s)

        await asyncio.gather(*(worker() for _ in range(concurrency)))
        wall = time.perf_counter() - t0
    return samples, wall


async def paced_pairs(
    targets: dict[str, str],
    paths: Sequence[str],
    *,
    rate: float,
    duration: float,
    timeout: float = 10.0,
    on_sample: Callable[[Sample], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> None:
    """Open-loop sampling: every ``1/rate`` seconds one GET to each target, same path,
    the order alternating so neither side is always first. Requests are not awaited before
    the next tick, so a slow deployment cannot slow down its own sampling."""
    bases = {side: url.rstrip("/") for side, url in targets.items()}
    sides = list(bases)
    pending: set[asyncio.Task[None]] = set()
    concurrency = max(4, int(rate * timeout) + 1)
    async with _client(concurrency * len(sides), timeout) as client:

        async def one(side: str, path: str) -> None:
            s = await _request(client, side, bases[side], path)
            if on_sample is not None:
                on_sample(s)

        t0 = time.perf_counter()
        for tick in itertools.count():
            at = t0 + tick / rate
            if at - t0 >= duration or (should_stop is not None and should_stop()):
                break
            delay = at - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            path = paths[tick % len(paths)]
            order = sides if tick % 2 == 0 else sides[::-1]
            for side in order:
                task = asyncio.ensure_future(one(side, path))
                pending.add(task)
                task.add_done_callback(pending.discard)
        if pending:
            await asyncio.gather(*pending)


@dataclass
class LoadSummary:
    """Latency percentiles (ms), throughput and error rate of a set of samples.

    Example::

        >>> s = summarize([Sample("load", "/", 200, 10.0), Sample("load", "/", 500, 30.0)], 1.0)
        >>> s.error_rate, s.p50_ms
        (0.5, 20.0)
    """

    requests: int
    errors: int
    error_rate: float
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None
    mean_ms: float | None
    throughput_rps: float
    status_counts: dict[str, int] = field(default_factory=dict)


def summarize(samples: Sequence[Sample], wall_s: float) -> LoadSummary:
    """Summarise samples; latency percentiles include every answered request.

    Example::

        >>> summarize([Sample("load", "/", 200, 5.0)], 0.5).throughput_rps
        2.0
    """
    lat = [s.latency_ms for s in samples if s.status is not None]
    errors = sum(s.is_error for s in samples)
    counts: dict[str, int] = {}
    for s in samples:
        key = str(s.status) if s.status is not None else (s.error or "error")
        counts[key] = counts.get(key, 0) + 1
    n = len(samples)
    return LoadSummary(
        requests=n,
        errors=errors,
        error_rate=errors / n if n else 0.0,
        p50_ms=percentile(lat, 50) if lat else None,
        p95_ms=percentile(lat, 95) if lat else None,
        p99_ms=percentile(lat, 99) if lat else None,
        mean_ms=sum(lat) / len(lat) if lat else None,
        throughput_rps=n / wall_s if wall_s > 0 else 0.0,
        status_counts=dict(sorted(counts.items())),
    )
