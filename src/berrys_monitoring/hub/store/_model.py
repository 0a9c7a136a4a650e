"""What goes into a store and what comes out: rows, batches, queries and answers.

Rows are NamedTuples in the column order of the store, so a writer can pass them to
``executemany`` as they are. JSON columns hold compact JSON text.
"""

from __future__ import annotations

import dataclasses
from typing import NamedTuple

__all__ = [
    "AlertQuery",
    "AlertRow",
    "Batch",
    "LogPage",
    "LogQuery",
    "LogRow",
    "Sample",
    "SeriesLabels",
    "ServiceInfo",
    "SpanRow",
    "TargetRow",
    "TraceQuery",
    "TraceSummary",
]

SeriesLabels = tuple[tuple[str, str], ...]
"""A series' labels, sorted by name, ``__name__`` included."""


class SpanRow(NamedTuple):
    trace_id: bytes
    span_id: bytes
    parent_span_id: bytes | None
    name: str
    kind: int
    service: str
    start_ns: int
    end_ns: int
    status_code: int  # 0 unset, 1 ok, 2 error (OTLP StatusCode)
    status_message: str
    attributes: str
    events: str | None
    links: str | None
    resource: str
    scope: str


class LogRow(NamedTuple):
    time_ns: int
    observed_ns: int
    severity_number: int
    severity_text: str
    body: str
    service: str
    trace_id: bytes | None
    span_id: bytes | None
    attributes: str
    resource: str
    scope: str
    flags: int


class AlertRow(NamedTuple):
    """An alert as pushed in the Alertmanager v2 format; ``fingerprint`` is its identity
    (a hash of its labels)."""

    fingerprint: str
    labels: str
    annotations: str
    starts_ns: int
    ends_ns: int
    generator_url: str


class TargetRow(NamedTuple):
    """A service to scrape and probe: ``url`` is its base URL and its identity."""

    url: str
    job: str
    metrics_path: str
    health_path: str
    labels: str
    source: str  # "api" (registered by the service) or "config"


class Sample(NamedTuple):
    labels: SeriesLabels
    timestamp_ms: int
    value: float


@dataclasses.dataclass
class Batch:
    """One ingest request's worth of rows: written in one transaction, all or nothing."""

    spans: list[SpanRow] = dataclasses.field(default_factory=list)
    logs: list[LogRow] = dataclasses.field(default_factory=list)
    samples: list[Sample] = dataclasses.field(default_factory=list)
    alerts: list[AlertRow] = dataclasses.field(default_factory=list)

    def __len__(self) -> int:
        return len(self.spans) + len(self.logs) + len(self.samples) + len(self.alerts)


@dataclasses.dataclass(frozen=True)
class TraceQuery:
    """Traces with at least one span matching every given span condition.

    ``status="error"`` keeps traces with an error span (on the matching spans),
    ``status="ok"`` traces without any error span. Durations apply to the matching span,
    as in Jaeger's search.
    """

    service: str | None = None
    operation: str | None = None
    status: str | None = None
    min_duration_ns: int | None = None
    max_duration_ns: int | None = None
    attributes: tuple[tuple[str, str], ...] = ()
    start_ns: int | None = None
    end_ns: int | None = None
    limit: int = 20


@dataclasses.dataclass(frozen=True)
class TraceSummary:
    trace_id: str
    root_service: str
    root_operation: str
    start_ns: int
    duration_ns: int
    span_count: int
    error_count: int
    services: list[str]


@dataclasses.dataclass(frozen=True)
class LogQuery:
    start_ns: int | None = None
    end_ns: int | None = None
    service: str | None = None
    min_severity: int | None = None
    text: str | None = None
    trace_id: bytes | None = None
    attributes: tuple[tuple[str, str], ...] = ()
    limit: int = 100
    before: tuple[int, int] | None = None  # the cursor: (time_ns, id) of the last row seen
    #: The live tail: only rows stored after the row with this id, oldest first.
    after_id: int | None = None


@dataclasses.dataclass(frozen=True)
class LogPage:
    records: list[dict[str, object]]
    next_cursor: tuple[int, int] | None


@dataclasses.dataclass(frozen=True)
class AlertQuery:
    """``state``: ``"pending"`` (a rule's alert waiting for its ``for``), ``"firing"``
    (ends in the future) or ``"resolved"``; ``labels`` must all match."""

    state: str | None = None
    labels: tuple[tuple[str, str], ...] = ()
    limit: int = 100


@dataclasses.dataclass(frozen=True)
class ServiceInfo:
    name: str
    last_seen_ns: int
    signals: dict[str, int]  # signal -> items received (spans, logs, samples)
