"""The HTTP request metrics of a single-process server, aggregated under one lock.

Five prometheus_client metrics per request (a counter, three histograms and a gauge up
and down) cost nine value updates, each behind its own lock and two Python-level checks.
In a single process the same numbers can be kept in one plain list per (method, route,
status) and turned into the very same metric families when scraped: one lock and a few
list additions per request. Multi-process servers keep prometheus_client's own
multiprocess values (``_instruments.HttpInstruments``), which other workers' scrapes read.
"""

from __future__ import annotations

import threading
import time
from bisect import bisect_left
from collections.abc import Iterator, Sequence
from typing import Any

from prometheus_client import CollectorRegistry
from prometheus_client.metrics_core import Metric
from prometheus_client.utils import floatToGoString

__all__ = ["RequestAggregate"]

_INF = float("inf")


class _Names:
    """One histogram's bound layout inside a record."""

    __slots__ = ("bounds", "les", "offset")

    def __init__(self, buckets: Sequence[float], offset: int) -> None:
        self.bounds = (*buckets, _INF)
        self.les = [floatToGoString(b) for b in self.bounds]  # type: ignore[no-untyped-call]
        self.offset = offset  # the sum's index; buckets follow


class RequestAggregate:
    """``http_requests_total``, the duration and size histograms and the in-progress
    gauge for one registry, as a prometheus_client collector.

    Example::

        >>> from prometheus_client import CollectorRegistry
        >>> reg = CollectorRegistry()
        >>> agg = RequestAggregate(reg, (0.1, 1.0), (100.0,))
        >>> agg.begin("GET")
        >>> agg.observe("GET", "/users/{id}", 200, 0.05, 0, 120)
        >>> reg.get_sample_value("http_requests_total",
        ...                      {"method": "GET", "route": "/users/{id}", "status": "200"})
        1.0
    """

    def __init__(
        self,
        registry: CollectorRegistry,
        duration_buckets: Sequence[float],
        size_buckets: Sequence[float],
    ) -> None:
        self._lock = threading.Lock()
        self._dur = _Names(duration_buckets, 1)
        self._req = _Names(size_buckets, self._dur.offset + len(self._dur.bounds) + 1)
        self._resp = _Names(size_buckets, self._req.offset + len(self._req.bounds) + 1)
        self._width = self._resp.offset + len(self._resp.bounds) + 1
        # (duration bounds, size bounds, first duration/request/response bucket index)
        self._layout = (
            self._dur.bounds,
            self._req.bounds,
            self._dur.offset + 1,
            self._req.offset + 1,
            self._resp.offset + 1,
        )
        # (method, route, status) -> [count, dur sum, dur buckets…, req sum, req buckets…,
        #  resp sum, resp buckets…]; per-bucket counts, made cumulative when scraped.
        self._records: dict[tuple[str, str, int], list[float]] = {}
        self._created: dict[tuple[str, str, int], float] = {}
        self._progress: dict[str, int] = {}
        registry.register(self)

    def begin(self, method: str) -> None:
        """A request of ``method`` started: the in-progress gauge goes up."""
        with self._lock:
            progress = self._progress
            progress[method] = progress.get(method, 0) + 1

    def observe(
        self,
        method: str,
        route: str,
        status: int,
        seconds: float,
        request_bytes: int,
        response_bytes: int,
        started: bool = True,
    ) -> None:
        """Record one finished request; ``started``: :meth:`begin` counted it in progress."""
        key = (method, route, status)
        dur_bounds, size_bounds, d_at, q_at, s_at = self._layout
        d = bisect_left(dur_bounds, seconds) + d_at
        # Most requests have no body: the first size bucket, nothing to add to the sum.
        q = bisect_left(size_bounds, request_bytes) + q_at if request_bytes else q_at
        s = bisect_left(size_bounds, response_bytes) + s_at if response_bytes else s_at
        with self._lock:
            rec = self._records.get(key)
            if rec is None:
                rec = self._records[key] = [0.0] * self._width
                self._created[key] = time.time()
            rec[0] += 1
            rec[1] += seconds
            rec[d] += 1
            rec[q] += 1
            rec[s] += 1
            if request_bytes:
                rec[q_at - 1] += request_bytes
            if response_bytes:
                rec[s_at - 1] += response_bytes
            if started:
                progress = self._progress
                progress[method] = progress.get(method, 0) - 1

    # -- the collector --------------------------------------------------------------------

    def describe(self) -> list[Metric]:
        return []  # collected on demand; nothing to check for duplicates up front

    def collect(self) -> Iterator[Metric]:
        with self._lock:
            records = [(k, list(v), self._created[k]) for k, v in self._records.items()]
            progress = dict(self._progress)
        use_created = _use_created()
        requests = Metric(
            "http_requests",
            "HTTP requests answered, by method, route template and status code.",
            "counter",
        )
        for (method, route, status), rec, ts in records:
            labels = {"method": method, "route": route, "status": str(status)}
            requests.add_sample("http_requests_total", labels, rec[0])
            if use_created:
                requests.add_sample("http_requests_created", labels, ts)
        yield requests
        yield from self._histogram(
            "http_request_duration_seconds",
            "Time to answer an HTTP request (to the end of the response body).",
            self._dur,
            records,
            use_created,
        )
        gauge = Metric(
            "http_requests_in_progress", "HTTP requests being answered right now.", "gauge"
        )
        for method, value in progress.items():
            gauge.add_sample("http_requests_in_progress", {"method": method}, float(value))
        yield gauge
        yield from self._histogram(
            "http_request_size_bytes",
            "Size of HTTP request bodies (Content-Length).",
            self._req,
            records,
            use_created,
        )
        yield from self._histogram(
            "http_response_size_bytes",
            "Size of HTTP response bodies.",
            self._resp,
            records,
            use_created,
        )

    @staticmethod
    def _histogram(
        name: str,
        doc: str,
        names: _Names,
        records: list[tuple[Any, list[float], float]],
        use_created: bool,
    ) -> Iterator[Metric]:
        # The histogram is by (method, route): statuses are summed here.
        merged: dict[tuple[str, str], tuple[list[float], float]] = {}
        width = len(names.bounds) + 1
        at = names.offset
        for (method, route, _status), rec, ts in records:
            part = rec[at : at + width]
            found = merged.get((method, route))
            if found is None:
                merged[(method, route)] = (part, ts)
            else:
                acc, first = found
                for i, v in enumerate(part):
                    acc[i] += v
                merged[(method, route)] = (acc, min(first, ts))
        hist = Metric(name, doc, "histogram")
        for (method, route), (part, ts) in merged.items():
            labels = {"method": method, "route": route}
            total = 0.0
            for le, count in zip(names.les, part[1:], strict=True):
                total += count
                hist.add_sample(f"{name}_bucket", {**labels, "le": le}, total)
            hist.add_sample(f"{name}_count", labels, total)
            hist.add_sample(f"{name}_sum", labels, part[0])
            if use_created:
                hist.add_sample(f"{name}_created", labels, ts)
        yield hist


def _use_created() -> bool:
    """Whether prometheus_client writes ``_created`` series (its own switch, honoured)."""
    try:
        from prometheus_client import metrics

        return bool(metrics._use_created)
    except (ImportError, AttributeError):  # pragma: no cover
        return True
