"""Request rate, error rate and p95 of a service from its own ``/metrics``.

The summary is computed the way Prometheus would: counters and histogram buckets are
scraped, and the *difference* between two scrapes over a sliding window gives the rate,
the error ratio and (by ``histogram_quantile``'s linear interpolation) the p95 — so what
the demo shows is exactly what a dashboard on the same series would show.
"""

from __future__ import annotations

import math
import time
from collections import deque
from dataclasses import dataclass, field

import httpx
from prometheus_client.parser import text_string_to_metric_families

REQUESTS = "http_requests_total"
BUCKETS = "http_request_duration_seconds_bucket"


@dataclass
class Snapshot:
    """Cumulative request counts and latency buckets of one service at one instant."""

    at: float
    requests: float = 0.0
    errors: float = 0.0
    buckets: dict[float, float] = field(default_factory=dict)  # le -> cumulative count


def parse_snapshot(text: str, at: float | None = None) -> Snapshot:
    """Sum the request series over all label sets (5xx counted as errors).

    Example::

        >>> s = parse_snapshot('http_requests_total{method="GET",route="/",status="500"} 2\\n')
        >>> (s.requests, s.errors)
        (2.0, 2.0)
    """
    snap = Snapshot(at=time.monotonic() if at is None else at)
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == REQUESTS:
                snap.requests += sample.value
                if str(sample.labels.get("status", "")).startswith("5"):
                    snap.errors += sample.value
            elif sample.name == BUCKETS:
                le = float(sample.labels.get("le", "+Inf"))
                snap.buckets[le] = snap.buckets.get(le, 0.0) + sample.value
    return snap


def histogram_quantile(q: float, buckets: dict[float, float]) -> float | None:
    """Prometheus' ``histogram_quantile`` over cumulative ``{le: count}`` buckets.

    Example::

        >>> histogram_quantile(0.5, {0.1: 5.0, 0.2: 10.0, float("inf"): 10.0})
        0.1
    """
    bounds = sorted(buckets)
    if not bounds or buckets[bounds[-1]] <= 0:
        return None
    total = buckets[bounds[-1]]
    rank = q * total
    prev_bound, prev_count = 0.0, 0.0
    for bound in bounds:
        count = buckets[bound]
        if count >= rank:
            if math.isinf(bound):
                # Like Prometheus: the quantile falls in the open bucket, report its lower edge.
                return prev_bound
            if count == prev_count:
                return bound
            return prev_bound + (bound - prev_bound) * (rank - prev_count) / (count - prev_count)
        prev_bound, prev_count = bound, count
    return prev_bound


@dataclass
class WindowStats:
    """What the summary shows for one service."""

    total_requests: float = 0.0
    rate: float = 0.0  # requests per second over the window
    error_ratio: float | None = None
    p95_seconds: float | None = None
    scrape_error: str | None = None


class MetricsWindow:
    """Scrapes one ``/metrics`` URL and keeps a sliding window of snapshots."""

    def __init__(self, url: str, window_seconds: float = 15.0) -> None:
        self.url = url
        self.window_seconds = window_seconds
        self._snaps: deque[Snapshot] = deque()
        self._error: str | None = None

    def scrape(self, client: httpx.Client) -> None:
        try:
            response = client.get(self.url, timeout=2.0)
            response.raise_for_status()
            snap = parse_snapshot(response.text)
        except (httpx.HTTPError, ValueError) as exc:
            self._error = f"{type(exc).__name__}: {exc}"[:120]
            return
        self._error = None
        self._snaps.append(snap)
        while len(self._snaps) > 2 and snap.at - self._snaps[0].at > self.window_seconds:
            self._snaps.popleft()

    def stats(self) -> WindowStats:
        if not self._snaps:
            return WindowStats(scrape_error=self._error or "not scraped yet")
        first, last = self._snaps[0], self._snaps[-1]
        out = WindowStats(total_requests=last.requests, scrape_error=self._error)
        dt = last.at - first.at
        d_requests = last.requests - first.requests
        if dt > 0:
            out.rate = d_requests / dt
        if d_requests > 0:
            out.error_ratio = (last.errors - first.errors) / d_requests
        diff = {le: c - first.buckets.get(le, 0.0) for le, c in last.buckets.items()}
        out.p95_seconds = histogram_quantile(0.95, diff)
        return out
