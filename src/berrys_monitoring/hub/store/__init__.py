"""The hub's embedded store, behind the small :class:`Store` protocol."""

from __future__ import annotations

from berrys_monitoring.hub.store._model import (
    AlertQuery,
    AlertRow,
    Batch,
    LogPage,
    LogQuery,
    LogRow,
    Sample,
    SeriesLabels,
    ServiceInfo,
    SpanRow,
    TargetRow,
    TraceQuery,
    TraceSummary,
)
from berrys_monitoring.hub.store._protocol import Store, StoreBusyError
from berrys_monitoring.hub.store._sqlite import SQLiteStore

__all__ = [
    "AlertQuery",
    "AlertRow",
    "Batch",
    "LogPage",
    "LogQuery",
    "LogRow",
    "SQLiteStore",
    "Sample",
    "SeriesLabels",
    "ServiceInfo",
    "SpanRow",
    "Store",
    "StoreBusyError",
    "TargetRow",
    "TraceQuery",
    "TraceSummary",
]
