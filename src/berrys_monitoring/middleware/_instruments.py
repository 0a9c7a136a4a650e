"""The conventional HTTP server metrics, with label children cached for the hot path.

One set of metric objects exists per registry, shared by every app that registers on it,
so two apps in one process never hit prometheus_client's "Duplicated timeseries" error.
"""

from __future__ import annotations

import os
import threading
from bisect import bisect_left
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from berrys_monitoring._compat.prometheus_client import histogram_parts, value_object

__all__ = ["DURATION_BUCKETS", "SIZE_BUCKETS", "HttpInstruments", "instruments_for"]

# Web latency: 5 ms .. 10 s, denser where typical API latencies sit.
DURATION_BUCKETS = (
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
)  # fmt: skip
SIZE_BUCKETS = (100.0, 1_000.0, 10_000.0, 100_000.0, 1_000_000.0, 10_000_000.0)

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
        self.requests = Counter(
            "http_requests_total",
            "HTTP requests answered, by method, route template and status code.",
            ("method", "route", "status"),
            registry=registry,
        )
        self.duration = Histogram(
            "http_request_duration_seconds",
            "Time to answer an HTTP request (to the end of the response body).",
            ("method", "route"),
            buckets=DURATION_BUCKETS,
            registry=registry,
        )
        gauge_kwargs: dict[str, Any] = {}
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            # Sum over live workers: a dead worker's in-flight requests are gone.
            gauge_kwargs["multiprocess_mode"] = "livesum"
        self.in_progress = Gauge(
            "http_requests_in_progress",
            "HTTP requests being answered right now.",
            ("method",),
            registry=registry,
            **gauge_kwargs,
        )
        self.request_size = Histogram(
            "http_request_size_bytes",
            "Size of HTTP request bodies (Content-Length).",
            ("method", "route"),
            buckets=SIZE_BUCKETS,
            registry=registry,
        )
        self.response_size = Histogram(
            "http_response_size_bytes",
            "Size of HTTP response bodies.",
            ("method", "route"),
            buckets=SIZE_BUCKETS,
            registry=registry,
        )
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
            from berrys_monitoring.middleware._aggregate import RequestAggregate

            inst = RequestAggregate(registry, DURATION_BUCKETS, SIZE_BUCKETS)
        _by_registry[id(registry)] = (registry, inst)
        return inst
