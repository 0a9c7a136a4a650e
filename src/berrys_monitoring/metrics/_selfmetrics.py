"""Self-metrics: the library's own internal error and event counts, on the registry."""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterator

from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily
from prometheus_client.registry import Collector

from berrys_monitoring._internal import event_counts, internal_error_counts

__all__ = ["SelfMetricsCollector", "ensure_self_metrics"]


class SelfMetricsCollector(Collector):
    """Exposes ``berrys_monitoring_internal_errors_total{component}`` and
    ``berrys_monitoring_events_total{component,event}`` (folded label sets, dropped tags,
    dropped StatsD packets...)."""

    def collect(self) -> Iterator[CounterMetricFamily]:
        errors = CounterMetricFamily(
            "berrys_monitoring_internal_errors",
            "Internal failures of berrys_monitoring, by component (never raised to the app).",
            labels=["component"],
        )
        for component, n in sorted(internal_error_counts().items()):
            errors.add_metric([component], n)
        events = CounterMetricFamily(
            "berrys_monitoring_events",
            "Self-monitoring events of berrys_monitoring, by component and event.",
            labels=["component", "event"],
        )
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
    with _lock:
        if registry in _registered:
            return
        collector = SelfMetricsCollector()
        try:
            registry.register(collector)
        except ValueError:
            return  # already registered by an earlier import of this module
        _registered[registry] = collector
