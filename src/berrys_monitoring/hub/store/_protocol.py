"""The seam between the hub and its storage engine: ingest and the query API use only this."""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import Future
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from berrys_monitoring.hub.store._alerting import (
    AlertChanges,
    AlertEventRow,
    OutboxItem,
    RuleAlertState,
)
from berrys_monitoring.hub.store._model import (
    AlertQuery,
    Batch,
    LogPage,
    LogQuery,
    SeriesLabels,
    ServiceInfo,
    TargetRow,
    TraceQuery,
    TraceSummary,
)

__all__ = ["Store", "StoreBusyError"]


class StoreBusyError(RuntimeError):
    """The write queue is full: the caller should tell its client to retry later."""


class Store(Protocol):
    def submit(self, batch: Batch) -> Future[None]:
        """Queue ``batch``; the future completes once it is committed to disk.

        Raises :class:`StoreBusyError` at once when the queue is full."""

    def queue_depth(self) -> int:
        """Batches waiting for the writer."""

    def writer_alive(self) -> bool:
        """False when nothing will be written any more (closed, or the writer died)."""

    def pending_batches(self) -> int:
        """Batches submitted and not yet committed (or failed): queued plus in the writer."""

    def size_bytes(self) -> int:
        """Bytes on disk."""

    def used_bytes(self) -> int:
        """Bytes holding data (what ``max_size`` limits)."""

    def enforce_retention(
        self,
        *,
        max_age_ns: int | None,
        max_bytes: int | None,
        now_ns: int | None = None,
        limit: int = 20_000,
        timeout: float = 60.0,
    ) -> Future[int]:
        """Delete a bounded number of the oldest rows past the limits; the future gives
        how many (0: within the limits)."""

    def services(self) -> list[ServiceInfo]: ...

    def search_traces(self, query: TraceQuery) -> list[TraceSummary]: ...

    def get_trace(self, trace_id: bytes) -> str:
        """Every span of a trace, oldest first, as a JSON array (``"[]"`` when unknown)."""

    def search_logs(self, query: LogQuery) -> LogPage: ...

    def log_counts(self, query: LogQuery, step_ns: int) -> list[tuple[int, int]]: ...

    def last_log_id(self) -> int:
        """The id of the newest log record (0: none), where a live tail starts."""

    def alerts(self, query: AlertQuery) -> list[dict[str, object]]: ...

    def put_target(self, target: TargetRow, *, timeout: float = 30.0) -> Future[bool]: ...

    def delete_target(self, url: str, *, timeout: float = 30.0) -> Future[bool]: ...

    def targets(self) -> list[dict[str, object]]: ...

    def dependencies(self, start_ns: int, end_ns: int) -> list[dict[str, object]]: ...

    def series(
        self, matchers: SeriesLabels, start_ms: int | None, end_ms: int | None
    ) -> list[tuple[int, SeriesLabels]]: ...

    def samples(
        self, series_id: int, start_ms: int | None, end_ms: int | None
    ) -> tuple[list[int], list[float]]: ...

    def close(self, timeout: float = 30.0) -> None:
        """Stop taking batches, commit the queued ones, close the files."""

    # -- rules: rule alert state, alert history, silences, notifications ---------------

    def rule_states(self) -> list[RuleAlertState]: ...

    def apply_alert_changes(
        self, changes: AlertChanges, *, timeout: float = 30.0
    ) -> Future[None]: ...

    def list_alerts(self, query: AlertQuery) -> list[dict[str, object]]: ...

    def get_alert(self, fingerprint: str) -> dict[str, object] | None: ...

    def annotate_alert(
        self, fingerprint: str, event: AlertEventRow, *, resolve: bool = False,
        timeout: float = 30.0,
    ) -> Future[bool]: ...  # fmt: skip

    def silences(self) -> list[dict[str, object]]: ...

    def put_silence(self, silence: dict[str, Any], *, timeout: float = 30.0) -> Future[None]: ...

    def notify_log(self) -> dict[tuple[str, str], tuple[set[str], set[str], int]]: ...

    def record_notification(
        self,
        group_key: str,
        receiver: str,
        firing: Sequence[str],
        resolved: Sequence[str],
        sent_ns: int,
        payloads: Sequence[tuple[int, str]],
        *,
        timeout: float = 30.0,
    ) -> Future[None]: ...

    def forget_notify_groups(
        self, keys: Sequence[tuple[str, str]], *, timeout: float = 30.0
    ) -> Future[None]: ...

    def due_notifications(self, now_ns: int, limit: int = 100) -> list[OutboxItem]: ...

    def finish_notification(
        self, item_id: int, *, retry_at_ns: int | None, error: str = "", timeout: float = 30.0
    ) -> Future[None]: ...

    def prune_alerts(self, before_ns: int, *, timeout: float = 30.0) -> Future[int]: ...

    # -- PromQL (promql branch) ---------------------------------------------------------

    def metric_series(
        self, name: str | None, start_ms: int | None, end_ms: int | None
    ) -> list[tuple[int, SeriesLabels]]:
        """Series named ``name`` (all for None) with samples in the time range."""

    def metric_samples(
        self, series_ids: Sequence[int], start_ms: int, end_ms: int
    ) -> dict[int, tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]]:
        """Samples of many series in the range (ends included), as numpy arrays."""

    # -- dashboards (hub/dashboards) ----------------------------------------------------

    def put_dashboard(
        self, dashboard_id: str, title: str, definition: str, *, timeout: float = 30.0
    ) -> Future[bool]:
        """Create or replace a dashboard's JSON definition; the future says whether it is
        new."""

    def delete_dashboard(self, dashboard_id: str, *, timeout: float = 30.0) -> Future[bool]: ...

    def dashboards(self) -> list[tuple[str, int, int]]:
        """Every saved dashboard as ``(json, created_ns, updated_ns)``, by title."""

    def get_dashboard(self, dashboard_id: str) -> tuple[str, int, int] | None: ...
