"""The PROMETHEUS backend: facade calls become prometheus_client metrics, created on first use.

Hot path: one dict lookup keyed by ``(name, tuple(tags.items()))`` gives the bound child;
everything else (naming, tag merging, label mapping, the cardinality cap) runs once per new
label set in :meth:`PrometheusBackend._resolve`.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import weakref
from bisect import bisect_left
from collections.abc import Mapping, Sequence
from typing import Any

from prometheus_client import CollectorRegistry
from prometheus_client.samples import Exemplar

from berrys_monitoring._internal import count_event, is_strict, report_internal_error
from berrys_monitoring.metrics._exemplars import active_span, exemplar_of
from berrys_monitoring.metrics._fastpath import fast_inc, hashable_tags, hist_entry
from berrys_monitoring.metrics._names import (
    COUNTER,
    GAUGE,
    HISTOGRAM,
    TIMER,
    label_name,
    metric_name,
)
from berrys_monitoring.metrics._selfmetrics import ensure_self_metrics
from berrys_monitoring.metrics._store import (
    BYTES_BUCKETS,
    NULL,
    Family,
    choose_buckets,
    families_of,
    family_for_metric,
)

__all__ = ["BYTES_BUCKETS", "OVERFLOW_VALUE", "PrometheusBackend"]

_log = logging.getLogger("berrys_monitoring.metrics")

OVERFLOW_VALUE = "__overflow__"
_CACHE_LIMIT = 100_000


class PrometheusBackend:
    """Facade metrics on a prometheus_client registry."""

    name = "prometheus"

    def __init__(
        self,
        registry: CollectorRegistry,
        prefix: str = "",
        default_tags: Mapping[str, object] | None = None,
        *,
        max_label_sets: int = 1000,
        buckets: Mapping[str, Sequence[float]] | None = None,
        default_buckets: Sequence[float] | None = None,
        exemplars: bool = True,
        gauge_mode: str = "livesum",
        multiprocess: bool = False,
    ) -> None:
        self.registry = registry
        self.prefix = prefix
        self.default_tags = {str(k): v for k, v in (default_tags or {}).items()}
        self.max_label_sets = max_label_sets
        self.buckets = dict(buckets or {})
        self.default_buckets = tuple(default_buckets) if default_buckets else None
        # prometheus_client cannot keep exemplars in multiprocess mode.
        self.exemplars = exemplars and not multiprocess
        self.gauge_mode = gauge_mode
        self._lock = threading.RLock()
        _live.add(self)
        self._by_user: dict[tuple[str, str], Family | None] = {}
        self._counters: dict[object, Any] = {}
        self._gauges: dict[object, Any] = {}
        self._histograms: dict[object, Any] = {}
        self._timers: dict[object, Any] = {}
        ensure_self_metrics(registry)

    # -- hot path ---------------------------------------------------------------------
    def increment(self, name: str, tags: Mapping[str, object] | None, value: float) -> None:
        try:
            key = (name, tuple(tags.items())) if tags else name
            inc = self._counters.get(key)
            if inc is None:
                inc = fast_inc(self._resolve(COUNTER, name, tags, key, self._counters))
                if key in self._counters:
                    self._counters[key] = inc
            if value < 0:
                raise ValueError(f"counters only go up: cannot add {value} to {name!r}")
            inc(value)
        except Exception as exc:
            fixed = hashable_tags(tags) if isinstance(exc, TypeError) else None
            if fixed is not None:
                return self.increment(name, fixed, value)
            _failed(exc, "cannot increment counter")

    def gauge(self, name: str, tags: Mapping[str, object] | None, value: float) -> None:
        try:
            key = (name, tuple(tags.items())) if tags else name
            child = self._gauges.get(key)
            if child is None:
                child = self._resolve(GAUGE, name, tags, key, self._gauges)
            child.set(value)
        except Exception as exc:
            fixed = hashable_tags(tags) if isinstance(exc, TypeError) else None
            if fixed is not None:
                return self.gauge(name, fixed, value)
            _failed(exc, "cannot set gauge")

    def observe(self, name: str, tags: Mapping[str, object] | None, value: float) -> None:
        try:
            key = (name, tuple(tags.items())) if tags else name
            entry = self._histograms.get(key)
            if entry is None:
                entry = hist_entry(self._resolve(HISTOGRAM, name, tags, key, self._histograms))
                if key in self._histograms:
                    self._histograms[key] = entry
            self._observe(entry, value)
        except Exception as exc:
            fixed = hashable_tags(tags) if isinstance(exc, TypeError) else None
            if fixed is not None:
                return self.observe(name, fixed, value)
            _failed(exc, "cannot observe histogram")

    def timing(self, name: str, tags: Mapping[str, object] | None, seconds: float) -> None:
        try:
            key = (name, tuple(tags.items())) if tags else name
            entry = self._timers.get(key)
            if entry is None:
                entry = hist_entry(self._resolve(TIMER, name, tags, key, self._timers))
                if key in self._timers:
                    self._timers[key] = entry
            self._observe(entry, seconds)
        except Exception as exc:
            fixed = hashable_tags(tags) if isinstance(exc, TypeError) else None
            if fixed is not None:
                return self.timing(name, fixed, seconds)
            _failed(exc, "cannot record timer")

    def _observe(self, entry: tuple[Any, Any, Any, Any], value: float) -> None:
        exemplar = None
        if self.exemplars:
            span: Any = active_span()
            if span is not None:
                exemplar = exemplar_of(span)
        sum_inc = entry[1]
        if sum_inc is None or value != value:  # not a plain child, or NaN: the slow path
            if exemplar is not None:
                entry[0].observe(value, exemplar)
            else:
                entry[0].observe(value)
            return
        # Histogram.observe, with a binary search over the bounds instead of its linear
        # scan (first bucket whose upper bound >= value).
        sum_inc(value)
        bucket = entry[3][bisect_left(entry[2], value)]
        bucket.inc(1)
        if exemplar is not None:
            # Our labels are known valid (63 characters), so prometheus_client's check is skipped.
            bucket.set_exemplar(Exemplar(exemplar, value, time.time()))

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass

    # -- slow path: once per new (name, tags) -----------------------------------------
    def _resolve(
        self,
        kind: str,
        name: str,
        tags: Mapping[str, object] | None,
        key: object,
        cache: dict[object, Any],
    ) -> Any:
        with self._lock:
            fam = self._family(kind, name, tags)
            if fam is None:
                cache[key] = NULL
                return NULL
            if not fam.labelnames:
                if tags:
                    self._label_values(fam, tags)  # warns about (and counts) the dropped tags
                cache[key] = fam.metric
                return fam.metric
            values = self._label_values(fam, tags)
            if values not in fam.seen:
                if len(fam.seen) >= self.max_label_sets:
                    return self._fold(fam)
                fam.seen.add(values)
            child = fam.metric.labels(*values)
            if len(cache) >= _CACHE_LIMIT:
                cache.clear()  # bounded memory when callers vary dropped tag values
            cache[key] = child
            return child

    def _fold(self, fam: Family) -> Any:
        # Not cached: every folded observation passes here, so each one is counted.
        count_event("metrics", "label_set_folded")
        if fam.overflow is None:
            _log.warning(
                "metric %s reached its cap of %d label sets; new label sets are folded into "
                "the series with every label = %r (raise max_label_sets in configure_metrics "
                "if this is expected)",
                fam.name,
                self.max_label_sets,
                OVERFLOW_VALUE,
            )
            fam.overflow = fam.metric.labels(*([OVERFLOW_VALUE] * len(fam.labelnames)))
        return fam.overflow

    def _label_values(self, fam: Family, tags: Mapping[str, object] | None) -> tuple[str, ...]:
        merged = {**self.default_tags, **tags} if tags else self.default_tags
        values = [""] * len(fam.labelnames)
        for k, v in merged.items():
            idx = fam.index.get(k, -1)
            if idx == -1:
                lname = label_name(k, fam.kind)
                idx = fam.labelnames.index(lname) if lname in fam.labelnames else None
                fam.index[k] = idx
            if idx is None:
                if str(k) not in fam.warned:
                    fam.warned.add(str(k))
                    _log.warning(
                        "metric %s was first recorded with tags %s; tag %r is dropped "
                        "(a metric keeps the tag keys of its first use)",
                        fam.name,
                        list(fam.labelnames),
                        k,
                    )
                count_event("metrics", "unknown_tag_dropped")
                continue
            values[idx] = "" if v is None else str(v)
        return tuple(values)

    def _family(self, kind: str, name: str, tags: Mapping[str, object] | None) -> Family | None:
        ukey = (kind, name)
        if ukey in self._by_user:
            return self._by_user[ukey]
        fam: Family | None = None
        try:
            fam = self._create(kind, name, tags)
        except ValueError as exc:
            # A name clash (a counter and a gauge of one name, or a metric registered by
            # other code): a usage problem, reported once, never raised into the caller.
            report_internal_error(
                "metrics", exc, f"cannot create {kind} {name!r}", key=f"{kind}:{name}"
            )
        self._by_user[ukey] = fam
        return fam

    def _create(self, kind: str, name: str, tags: Mapping[str, object] | None) -> Family:
        full = metric_name(self.prefix, name, kind)
        merged = {**self.default_tags, **(tags or {})}
        labelnames: list[str] = []
        for k in merged:
            lname = label_name(k, kind)
            if lname not in labelnames:
                labelnames.append(lname)
        buckets = None
        if kind in (HISTOGRAM, TIMER):
            buckets = choose_buckets(name, full, kind, self.buckets, self.default_buckets)
        return family_for_metric(
            self.registry, kind, name, full, tuple(labelnames),
            gauge_mode=self.gauge_mode, buckets=buckets,
        )  # fmt: skip

    # -- reading ----------------------------------------------------------------------
    def family_for(self, name: str) -> Family | None:
        for kind in (COUNTER, GAUGE, HISTOGRAM, TIMER):
            fam = self._by_user.get((kind, name))
            if fam is not None:
                return fam
        fams = families_of(self.registry)
        for kind in (COUNTER, GAUGE, HISTOGRAM, TIMER):
            fam = fams.get(metric_name(self.prefix, name, kind))
            if fam is not None and fam.kind == kind:
                return fam
        return None


_live: weakref.WeakSet[PrometheusBackend] = weakref.WeakSet()


def _reinit_after_fork() -> None:
    # A held lock copied into a forked child belongs to a thread that does not exist there.
    for backend in list(_live):
        backend._lock = threading.RLock()


if hasattr(os, "register_at_fork"):  # POSIX only
    os.register_at_fork(after_in_child=_reinit_after_fork)


def _failed(exc: Exception, message: str) -> None:
    report_internal_error("metrics", exc, message)
    if is_strict():
        raise exc
