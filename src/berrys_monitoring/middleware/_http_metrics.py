"""The HTTP request metrics: their names, help texts and buckets, and the two ways of
recording them, chosen by the process model.

* A single-process server keeps the numbers in one plain list per (method, route,
  status) under one lock (:class:`RequestAggregate`) and turns them into the metric
  families when scraped: five prometheus_client metrics per request would cost nine
  value updates, each behind its own lock and two Python-level checks.
* Under a multi-process server (``PROMETHEUS_MULTIPROC_DIR``) every worker writes
  prometheus_client's own multiprocess values (:class:`HttpInstruments`), which any
  worker's scrape reads.

Both read their names and help texts from the :class:`MetricSpec` constants below, and
one set of either exists per registry, shared by every app that registers on it.
"""

from __future__ import annotations

import os
import threading
import time
from bisect import bisect_left
from collections.abc import Iterator, Sequence
from typing import Any, NamedTuple

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.metrics_core import Metric
from prometheus_client.utils import floatToGoString

from berrys_monitoring._compat.prometheus_client import (
    histogram_parts,
    value_object,
    writes_created_series,
)

__all__ = [
    "DURATION",
    "DURATION_BUCKETS",
    "IN_PROGRESS",
    "REQUESTS",
    "REQUEST_SIZE",
    "RESPONSE_SIZE",
    "SIZE_BUCKETS",
    "HttpInstruments",
    "MetricSpec",
    "RequestAggregate",
    "instruments_for",
]

# Web latency: 5 ms .. 10 s, denser where typical API latencies sit.
DURATION_BUCKETS = (
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
)  # fmt: skip
SIZE_BUCKETS = (100.0, 1_000.0, 10_000.0, 100_000.0, 1_000_000.0, 10_000_000.0)


class MetricSpec(NamedTuple):
    """The one place an HTTP metric's name, help text and labels are written; both ways
    of recording them (prometheus_client metrics and the single-process aggregate) read
    them from here."""

    name: str
    help: str
    labels: tuple[str, ...]


REQUESTS = MetricSpec(
    "http_requests_total",
    "HTTP requests answered, by method, route template and status code.",
    ("method", "route", "status"),
)
DURATION = MetricSpec(
    "http_request_duration_seconds",
    "Time to answer an HTTP request (to the end of the response body).",
    ("method", "route"),
)
IN_PROGRESS = MetricSpec(
    "http_requests_in_progress", "HTTP requests being answered right now.", ("method",)
)
REQUEST_SIZE = MetricSpec(
    "http_request_size_bytes", "Size of HTTP request bodies (bytes received).", ("method", "route")
)
RESPONSE_SIZE = MetricSpec(
    "http_response_size_bytes", "Size of HTTP response bodies.", ("method", "route")
)

# Arbitrary request methods would be a cardinality hole; anything else counts as OTHER.
METHODS = frozenset(
    ("GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH")
)
_MAX_CHILDREN = 10_000


def normalize_method(method: str) -> str:
    """The method label: the standard methods as they are, anything else ``OTHER``."""
    return method if method in METHODS else "OTHER"


class HttpInstruments:
    """``http_requests_total``, ``http_request_duration_seconds``, ``http_requests_in_progress``
    and the request/response size histograms, on one registry."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.requests = Counter(*REQUESTS, registry=registry)
        self.duration = Histogram(*DURATION, buckets=DURATION_BUCKETS, registry=registry)
        gauge_kwargs: dict[str, Any] = {}
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            # Sum over live workers: a dead worker's in-flight requests are gone.
            gauge_kwargs["multiprocess_mode"] = "livesum"
        self.in_progress = Gauge(*IN_PROGRESS, registry=registry, **gauge_kwargs)
        self.request_size = Histogram(*REQUEST_SIZE, buckets=SIZE_BUCKETS, registry=registry)
        self.response_size = Histogram(*RESPONSE_SIZE, buckets=SIZE_BUCKETS, registry=registry)
        self._lock = threading.Lock()
        # (method, route, status) -> (counter child, duration child, req size, resp size)
        self._children: dict[tuple[str, str, int], tuple[Any, ...]] = {}
        self._progress: dict[str, Any] = {}

    def begin(self, method: str) -> None:
        """A request of ``method`` (normalized) started: the in-progress gauge goes up."""
        self.in_progress_child(method).inc(1)

    def in_progress_child(self, method: str) -> Any:
        """The in-progress gauge for ``method`` (already normalized): an object whose
        ``inc(1)`` and ``inc(-1)`` move it (the child's value object when possible, which
        skips two checks per call)."""
        child = self._progress.get(method)
        if child is None:
            child = self.in_progress.labels(method)
            child = value_object(child) or child
            self._progress[method] = child
        return child

    def children(self, method: str, route: str, status: int) -> tuple[Any, ...]:
        """Cached label children for one (method, route, status) combination."""
        key = (method, route, status)
        found = self._children.get(key)
        if found is not None:
            return found
        with self._lock:
            if len(self._children) >= _MAX_CHILDREN:
                # Never grow without bound; the label lookup still works, just uncached.
                return self._make(method, route, status)
            found = self._make(method, route, status)
            self._children[key] = found
            return found

    def _make(self, method: str, route: str, status: int) -> tuple[Any, ...]:
        children = (
            self.requests.labels(method, route, str(status)),
            self.duration.labels(method, route),
            self.request_size.labels(method, route),
            self.response_size.labels(method, route),
        )
        return _value_objects(*children) or children

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
        if started:
            self.in_progress_child(method).inc(-1)
        found = self._children.get((method, route, status))
        if found is None:
            found = self.children(method, route, status)
        if len(found) == 4:  # prometheus_client internals not as expected: public API
            c, d, rq, rs = found
            c.inc()
            d.observe(seconds)
            rq.observe(request_bytes)
            rs.observe(response_bytes)
            return
        count, d_sum, d_buckets, rq_sum, rq_buckets, rs_sum, rs_buckets = found
        # What Counter.inc and Histogram.observe do after their checks: the same value
        # objects (mmap-backed in multiprocess mode), so exposition is unchanged.
        count.inc(1)
        d_sum.inc(seconds)
        d_buckets[bisect_left(_DURATION_BOUNDS, seconds)].inc(1)
        rq_sum.inc(request_bytes)
        rq_buckets[bisect_left(_SIZE_BOUNDS, request_bytes)].inc(1)
        rs_sum.inc(response_bytes)
        rs_buckets[bisect_left(_SIZE_BOUNDS, response_bytes)].inc(1)


_DURATION_BOUNDS = (*DURATION_BUCKETS, float("inf"))
_SIZE_BOUNDS = (*SIZE_BUCKETS, float("inf"))


def _value_objects(c: Any, d: Any, rq: Any, rs: Any) -> tuple[Any, ...] | None:
    """The value objects behind the children, when prometheus_client is laid out as
    expected (bucket bounds included); None otherwise."""
    count = value_object(c)
    if count is None:
        return None
    parts: list[Any] = [count]
    for child, bounds in ((d, _DURATION_BOUNDS), (rq, _SIZE_BOUNDS), (rs, _SIZE_BOUNDS)):
        found = histogram_parts(child)
        if found is None or found[1] != bounds:
            return None
        parts += (found[0], found[2])
    return tuple(parts)


_by_registry: dict[int, tuple[CollectorRegistry, Any]] = {}
_by_registry_lock = threading.Lock()


def instruments_for(registry: CollectorRegistry) -> Any:
    """The (single) instrument set for ``registry``, created on first use: the
    one-lock aggregate in a single process, prometheus_client's metrics (whose
    multiprocess values every worker's scrape reads) under a multi-process server.
    Either has ``begin(method)`` and ``observe(method, route, status, seconds,
    request_bytes, response_bytes, started)``.
    """
    entry = _by_registry.get(id(registry))
    if entry is not None and entry[0] is registry:
        return entry[1]
    with _by_registry_lock:
        entry = _by_registry.get(id(registry))
        if entry is not None and entry[0] is registry:
            return entry[1]
        inst: Any
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            inst = HttpInstruments(registry)
        else:
            inst = RequestAggregate(registry, DURATION_BUCKETS, SIZE_BUCKETS)
        _by_registry[id(registry)] = (registry, inst)
        return inst


# -- one process: the aggregate --------------------------------------------------

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
        use_created = writes_created_series()
        family = REQUESTS.name.removesuffix("_total")
        requests = Metric(family, REQUESTS.help, "counter")
        for (method, route, status), rec, ts in records:
            labels = {"method": method, "route": route, "status": str(status)}
            requests.add_sample(REQUESTS.name, labels, rec[0])
            if use_created:
                requests.add_sample(f"{family}_created", labels, ts)
        yield requests
        yield from self._histogram(DURATION.name, DURATION.help, self._dur, records, use_created)
        gauge = Metric(IN_PROGRESS.name, IN_PROGRESS.help, "gauge")
        for method, value in progress.items():
            gauge.add_sample(IN_PROGRESS.name, {"method": method}, float(value))
        yield gauge
        yield from self._histogram(
            REQUEST_SIZE.name, REQUEST_SIZE.help, self._req, records, use_created
        )
        yield from self._histogram(
            RESPONSE_SIZE.name, RESPONSE_SIZE.help, self._resp, records, use_created
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
