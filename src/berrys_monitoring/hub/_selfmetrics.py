"""The hub's own metrics, in a registry of its own: they are served at ``/metrics`` and
never go through the hub's ingest (no feedback loop)."""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge

__all__ = ["HubMetrics"]


class HubMetrics:
    def __init__(
        self,
        *,
        store_size: Callable[[], float],
        store_used: Callable[[], float],
        queue_depth: Callable[[], float],
        pending: Callable[[], float],
    ):
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "hub_ingest_requests",
            "OTLP export requests received, by signal and HTTP status",
            ["signal", "code"],
            registry=self.registry,
        )
        self.items = Counter(
            "hub_ingest_items",
            "Spans, log records and metric samples stored, by signal",
            ["signal"],
            registry=self.registry,
        )
        self.rejected = Counter(
            "hub_ingest_rejected_items",
            "Items refused in partial_success (invalid ids, out-of-range timestamps, ...)",
            ["signal"],
            registry=self.registry,
        )
        self.store_size = Gauge(
            "hub_store_size_bytes", "Bytes on disk of the store", registry=self.registry
        )
        self.store_size.set_function(store_size)
        self.store_used = Gauge(
            "hub_store_used_bytes",
            "Bytes of the store holding data (what --max-size limits)",
            registry=self.registry,
        )
        self.store_used.set_function(store_used)
        self.queue_depth = Gauge(
            "hub_ingest_queue_depth",
            "Batches waiting for the store's writer",
            registry=self.registry,
        )
        self.queue_depth.set_function(queue_depth)
        self.pending = Gauge(
            "hub_ingest_pending_batches",
            "Batches accepted and not yet committed: queued plus the ones being written",
            registry=self.registry,
        )
        self.pending.set_function(pending)
