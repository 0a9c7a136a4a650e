"""Self-metrics: the library's own internal error and event counts, on the registry."""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterator

from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily
from prometheus_client.registry import Collector

from berrys_monitoring._internal import add_count_sink, event_counts, internal_error_counts
from berrys_monitoring.metrics._multiprocess import is_multiprocess

__all__ = ["SelfMetricsCollector", "ensure_self_metrics", "mirror_to_shared_files"]

_ERRORS = "berrys_monitoring_internal_errors"
_ERRORS_HELP = "Internal failures of berrys_monitoring, by component (never raised to the app)."
_EVENTS = "berrys_monitoring_events"
_EVENTS_HELP = "Self-monitoring events of berrys_monitoring, by component and event."


class SelfMetricsCollector(Collector):
    """Exposes ``berrys_monitoring_internal_errors_total{component}`` and
    ``berrys_monitoring_events_total{component,event}`` (folded label sets, dropped tags,
    dropped StatsD packets...) of this process. ``unless_mirrored``: nothing once the
    counts go to the shared files (:func:`mirror_to_shared_files`), where the
    multiprocess collector reads every worker's."""

    def __init__(self, unless_mirrored: bool = False) -> None:
        self.unless_mirrored = unless_mirrored

    def collect(self) -> Iterator[CounterMetricFamily]:
        if self.unless_mirrored and _mirrored:
            return
        errors = CounterMetricFamily(_ERRORS, _ERRORS_HELP, labels=["component"])
        for component, n in sorted(internal_error_counts().items()):
            errors.add_metric([component], n)
        events = CounterMetricFamily(_EVENTS, _EVENTS_HELP, labels=["component", "event"])
        for (component, event), n in sorted(event_counts().items()):
            events.add_metric([component, event], n)
        yield errors
        yield events


_registered: weakref.WeakKeyDictionary[CollectorRegistry, SelfMetricsCollector] = (
    weakref.WeakKeyDictionary()
)
_lock = threading.Lock()


def ensure_self_metrics(registry: CollectorRegistry) -> None:
    """Register the self-metrics collector on ``registry`` once."""
    if is_multiprocess():
        mirror_to_shared_files()
    with _lock:
        if registry in _registered:
            return
        collector = SelfMetricsCollector()
        try:
            registry.register(collector)
        except ValueError:
            return  # already registered by an earlier import of this module
        _registered[registry] = collector


_mirrored = False


def mirror_to_shared_files() -> None:
    """In multiprocess mode, count into prometheus_client counters too, whose values live
    in the shared metrics directory: a scrape answered by any worker then shows every
    worker's counts, as it does for the application's metrics. Once per process tree
    (forked workers inherit it; prometheus_client gives each pid its own file).
    """
    global _mirrored
    with _lock:
        if _mirrored:
            return
        _mirrored = True
    from prometheus_client import Counter

    # registry=None: read from the files by the multiprocess collector, never registered.
    errors = Counter(_ERRORS, _ERRORS_HELP, ["component"], registry=None)
    events = Counter(_EVENTS, _EVENTS_HELP, ["component", "event"], registry=None)

    def sink(component: str, event: str | None, n: int) -> None:
        if event is None:
            errors.labels(component).inc(n)
        else:
            events.labels(component, event).inc(n)

    add_count_sink(sink)
