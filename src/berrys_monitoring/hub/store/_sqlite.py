"""The default store: one SQLite file in WAL mode.

One writer thread owns the only write connection and commits whole queues of batches in
one transaction (group commit), so many small requests cost one fsync. Each batch runs in
its own savepoint: a batch that fails is rolled back alone. Readers have their own
connections (one per thread) and never wait for the writer, which is what WAL is for.
"""

from __future__ import annotations

import hashlib
import os
import queue
import sqlite3
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import orjson

from berrys_monitoring.hub.store._chunks import decode_chunk, encode_chunk, encode_open_chunk
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
from berrys_monitoring.hub.store._protocol import StoreBusyError

__all__ = ["SQLiteStore"]

DB_NAME = "hub.sqlite3"
SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS resources (
    id INTEGER PRIMARY KEY, hash TEXT NOT NULL UNIQUE, json TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS spans (
    trace_id BLOB NOT NULL, span_id BLOB NOT NULL, parent_span_id BLOB,
    name TEXT NOT NULL, kind INTEGER NOT NULL, service TEXT NOT NULL,
    start_ns INTEGER NOT NULL, end_ns INTEGER NOT NULL, duration_ns INTEGER NOT NULL,
    status_code INTEGER NOT NULL, status_message TEXT NOT NULL,
    attributes TEXT NOT NULL, events TEXT, links TEXT,
    resource_id INTEGER NOT NULL, scope TEXT NOT NULL,
    PRIMARY KEY (trace_id, span_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS spans_start ON spans (start_ns);
CREATE INDEX IF NOT EXISTS spans_service_start ON spans (service, start_ns);
CREATE TABLE IF NOT EXISTS logs (
    id INTEGER PRIMARY KEY, time_ns INTEGER NOT NULL, observed_ns INTEGER NOT NULL,
    severity_number INTEGER NOT NULL, severity_text TEXT NOT NULL, body TEXT NOT NULL,
    service TEXT NOT NULL, trace_id BLOB, span_id BLOB, attributes TEXT NOT NULL,
    resource_id INTEGER NOT NULL, scope TEXT NOT NULL, flags INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS logs_time ON logs (time_ns);
CREATE INDEX IF NOT EXISTS logs_service_time ON logs (service, time_ns);
CREATE INDEX IF NOT EXISTS logs_trace ON logs (trace_id) WHERE trace_id IS NOT NULL;
CREATE VIRTUAL TABLE IF NOT EXISTS logs_fts USING fts5 (
    body, content='logs', content_rowid='id', tokenize='trigram'
);
-- rows are indexed by the writer in one INSERT ... SELECT per batch: a trigger per row
-- costs FTS5 about twice as much
DROP TRIGGER IF EXISTS logs_fts_insert;
CREATE TRIGGER IF NOT EXISTS logs_fts_delete AFTER DELETE ON logs BEGIN
    INSERT INTO logs_fts (logs_fts, rowid, body) VALUES ('delete', old.id, old.body);
END;
CREATE TABLE IF NOT EXISTS series (
    id INTEGER PRIMARY KEY, name TEXT NOT NULL, labels TEXT NOT NULL UNIQUE
);
CREATE INDEX IF NOT EXISTS series_name ON series (name);
CREATE TABLE IF NOT EXISTS chunks (
    id INTEGER PRIMARY KEY, series_id INTEGER NOT NULL, t_min INTEGER NOT NULL,
    t_max INTEGER NOT NULL, n INTEGER NOT NULL, closed INTEGER NOT NULL, data BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS chunks_series_time ON chunks (series_id, t_max);
CREATE INDEX IF NOT EXISTS chunks_time ON chunks (t_max);
CREATE TABLE IF NOT EXISTS services (
    name TEXT NOT NULL, signal TEXT NOT NULL, last_seen_ns INTEGER NOT NULL,
    count INTEGER NOT NULL, PRIMARY KEY (name, signal)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS alerts (
    fingerprint TEXT PRIMARY KEY, labels TEXT NOT NULL, annotations TEXT NOT NULL,
    starts_ns INTEGER NOT NULL, ends_ns INTEGER NOT NULL, generator_url TEXT NOT NULL,
    first_received_ns INTEGER NOT NULL, updated_ns INTEGER NOT NULL, received INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS alerts_ends ON alerts (ends_ns);
CREATE TABLE IF NOT EXISTS targets (
    url TEXT PRIMARY KEY, job TEXT NOT NULL, metrics_path TEXT NOT NULL,
    health_path TEXT NOT NULL, labels TEXT NOT NULL, source TEXT NOT NULL,
    added_ns INTEGER NOT NULL, last_seen_ns INTEGER NOT NULL
);
"""

_TRACE_JSON = """
SELECT json_group_array(json_object(
    'trace_id', lower(hex(s.trace_id)),
    'span_id', lower(hex(s.span_id)),
    'parent_span_id', CASE WHEN s.parent_span_id IS NULL THEN NULL
                      ELSE lower(hex(s.parent_span_id)) END,
    'name', s.name,
    'kind', CASE s.kind WHEN 0 THEN 'UNSPECIFIED' WHEN 1 THEN 'INTERNAL' WHEN 2 THEN 'SERVER'
            WHEN 3 THEN 'CLIENT' WHEN 4 THEN 'PRODUCER' WHEN 5 THEN 'CONSUMER'
            ELSE CAST(s.kind AS TEXT) END,
    'service', s.service,
    'start_ns', s.start_ns,
    'end_ns', s.end_ns,
    'duration_ns', s.duration_ns,
    'status', json_object(
        'code', CASE s.status_code WHEN 0 THEN 'UNSET' WHEN 1 THEN 'OK' WHEN 2 THEN 'ERROR'
                ELSE CAST(s.status_code AS TEXT) END,
        'message', s.status_message),
    'attributes', json(s.attributes),
    'events', json(coalesce(s.events, '[]')),
    'links', json(coalesce(s.links, '[]')),
    'resource', json(coalesce(r.json, '{}')),
    'scope', json(s.scope)))
FROM (SELECT * FROM spans WHERE trace_id = ? ORDER BY start_ns) s
LEFT JOIN resources r ON r.id = s.resource_id
"""
_STOP = object()


class _Task:
    """Work other than a batch (retention) for the writer thread, in its own transaction."""

    __slots__ = ("fn",)

    def __init__(self, fn: Callable[[], Any]) -> None:
        self.fn = fn


_MAX_GROUP = 256  # batches per transaction
_COMMON_TERM = 2000  # log records matching a term beyond which a scan by time is faster


def _connect(path: Path, *, writer: bool) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30.0)
    conn.execute("PRAGMA busy_timeout = 30000")
    if writer:
        conn.execute("PRAGMA journal_mode = WAL")
        # FULL: in WAL mode an acknowledged commit then survives a power cut, not only a
        # killed process; group commit keeps that to one fsync per queue drain.
        conn.execute("PRAGMA synchronous = FULL")
    else:
        conn.execute("PRAGMA query_only = 1")
    conn.execute("PRAGMA cache_size = -32000")
    return conn


class _Head:
    """The open chunk of one series, in memory and mirrored to its row at every commit.
    ``floor`` is the last timestamp of the series' closed chunks: nothing older is taken."""

    __slots__ = ("chunk_id", "floor", "ts", "values")

    def __init__(self, chunk_id: int | None, floor: int | None) -> None:
        self.chunk_id = chunk_id
        self.floor = floor
        self.ts: list[int] = []
        self.values: list[float] = []


def _attr_condition(column: str) -> str:
    path = "?"
    return (
        f"(CASE json_type({column}, {path}) WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' "
        f"ELSE CAST(json_extract({column}, {path}) AS TEXT) END) = ?"
    )


def _json_path(key: str) -> str:
    return '$."' + key + '"'


class SQLiteStore:
    """The hub's store in ``directory``; created on first use, reopened as it is after.

    Example::

        >>> import tempfile
        >>> store = SQLiteStore(tempfile.mkdtemp())
        >>> store.submit(Batch()).result()
        >>> store.close()
    """

    def __init__(
        self,
        directory: str | os.PathLike[str],
        *,
        queue_size: int = 64,
        head_max_samples: int = 240,
        head_max_span_ms: int = 2 * 3600 * 1000,
    ) -> None:
        self.directory = Path(directory)
        # telemetry can hold personal data: only the hub's user may read it
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.path = self.directory / DB_NAME
        self._head_max_samples = head_max_samples
        self._head_max_span_ms = head_max_span_ms
        self._conn = _connect(self.path, writer=True)
        # Only takes effect before the first table exists: lets retention give space back.
        self._conn.execute("PRAGMA auto_vacuum = INCREMENTAL")
        self._conn.execute("PRAGMA journal_size_limit = 67108864")
        self._conn.executescript(_SCHEMA)
        self._conn.execute(
            "INSERT OR IGNORE INTO meta (key, value) VALUES ('schema_version', ?)",
            (str(SCHEMA_VERSION),),
        )
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=queue_size)
        self._closed = False
        self._pending = 0
        self._pending_lock = threading.Lock()
        self._close_lock = threading.Lock()
        self._readers: list[sqlite3.Connection] = []
        self._readers_lock = threading.Lock()
        self._local = threading.local()
        # writer-thread state, rebuilt lazily from the file after a failure
        self._resource_ids: dict[str, int] = {}
        self._series_ids: dict[SeriesLabels, int] = {}
        self._heads: dict[int, _Head] = {}
        self.dropped_samples = 0
        self._thread = threading.Thread(target=self._run, name="berrys-hub-writer", daemon=True)
        self._thread.start()

    # -- writing ------------------------------------------------------------------------

    def submit(self, batch: Batch) -> Future[None]:
        if self._closed:
            raise StoreBusyError("the store is closing")
        future: Future[None] = Future()
        try:
            self._queue.put_nowait((batch, future))
        except queue.Full:
            raise StoreBusyError("the write queue is full") from None
        with self._pending_lock:
            self._pending += 1
        future.add_done_callback(self._done)
        return future

    def _done(self, _: Future[None]) -> None:
        with self._pending_lock:
            self._pending -= 1

    def queue_depth(self) -> int:
        return self._queue.qsize()

    def writer_alive(self) -> bool:
        return self._thread.is_alive()

    def pending_batches(self) -> int:
        with self._pending_lock:
            return self._pending

    def _run(self) -> None:
        pending: Any = None
        while True:
            item = pending if pending is not None else self._queue.get()
            pending = None
            if item is _STOP:
                return
            if isinstance(item[0], _Task):
                self._run_task(item[0], item[1])
                continue
            group = [item]
            while len(group) < _MAX_GROUP:
                try:
                    nxt = self._queue.get_nowait()
                except queue.Empty:
                    break
                if nxt is _STOP or isinstance(nxt[0], _Task):
                    pending = nxt  # after this group's commit
                    break
                group.append(nxt)
            self._commit(group)

    def _run_task(self, task: _Task, future: Future[Any]) -> None:
        if not future.set_running_or_notify_cancel():
            return
        try:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                result = task.fn()
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                self._forget_caches()
                raise
        except Exception as exc:
            future.set_exception(exc)
        else:
            future.set_result(result)

    def _commit(self, group: list[tuple[Batch, Future[None]]]) -> None:
        conn = self._conn
        done: list[Future[None]] = []
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            for _, fut in group:
                fut.set_exception(exc)
            return
        for batch, fut in group:
            if not fut.set_running_or_notify_cancel():
                continue
            conn.execute("SAVEPOINT batch")
            try:
                self._write(batch)
                conn.execute("RELEASE batch")
                done.append(fut)
            except Exception as exc:
                conn.execute("ROLLBACK TO batch")
                conn.execute("RELEASE batch")
                self._forget_caches()
                fut.set_exception(exc)
        try:
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            try:
                conn.execute("ROLLBACK")
            except sqlite3.Error:
                pass
            self._forget_caches()
            for fut in done:
                fut.set_exception(exc)
            return
        for fut in done:
            fut.set_result(None)

    def _forget_caches(self) -> None:
        self._resource_ids.clear()
        self._series_ids.clear()
        self._heads.clear()

    def _write(self, batch: Batch) -> None:
        now = time.time_ns()
        seen: dict[tuple[str, str], int] = {}
        if batch.spans:
            self._write_spans(batch.spans)
            for s in batch.spans:
                key = (s.service, "spans")
                seen[key] = seen.get(key, 0) + 1
        if batch.logs:
            self._write_logs(batch.logs)
            for r in batch.logs:
                key = (r.service, "logs")
                seen[key] = seen.get(key, 0) + 1
        if batch.samples:
            self._write_samples(batch.samples)
            for sample in batch.samples:
                job = dict(sample.labels).get("job")
                if job:
                    key = (job, "metrics")
                    seen[key] = seen.get(key, 0) + 1
        if batch.alerts:
            self._write_alerts(batch.alerts, now)
        if seen:
            self._conn.executemany(
                "INSERT INTO services (name, signal, last_seen_ns, count) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (name, signal) DO UPDATE SET "
                "last_seen_ns = max(last_seen_ns, excluded.last_seen_ns), "
                "count = count + excluded.count",
                [(name, signal, now, n) for (name, signal), n in seen.items()],
            )

    def _write_alerts(self, alerts: Sequence[AlertRow], now: int) -> None:
        # As Alertmanager merges a re-sent alert: the same fingerprint keeps its start while
        # it is active; once resolved, a firing one starts a new episode.
        self._conn.executemany(
            "INSERT INTO alerts (fingerprint, labels, annotations, starts_ns, ends_ns, "
            "generator_url, first_received_ns, updated_ns, received) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1) "
            "ON CONFLICT (fingerprint) DO UPDATE SET "
            "starts_ns = CASE WHEN alerts.ends_ns < excluded.updated_ns "
            "AND excluded.ends_ns > excluded.updated_ns THEN excluded.starts_ns "
            "ELSE min(alerts.starts_ns, excluded.starts_ns) END, "
            "ends_ns = excluded.ends_ns, annotations = excluded.annotations, "
            "generator_url = excluded.generator_url, updated_ns = excluded.updated_ns, "
            "received = alerts.received + 1",
            [(*a, now, now) for a in alerts],
        )

    def _resource_id(self, resource_json: str) -> int:
        rid = self._resource_ids.get(resource_json)
        if rid is not None:
            return rid
        digest = hashlib.sha1(resource_json.encode()).hexdigest()
        row = self._conn.execute("SELECT id FROM resources WHERE hash = ?", (digest,)).fetchone()
        if row is None:
            cur = self._conn.execute(
                "INSERT INTO resources (hash, json) VALUES (?, ?)", (digest, resource_json)
            )
            rid = int(cur.lastrowid or 0)
        else:
            rid = int(row[0])
        if len(self._resource_ids) > 10_000:
            self._resource_ids.clear()
        self._resource_ids[resource_json] = rid
        return rid

    def _write_spans(self, spans: Sequence[SpanRow]) -> None:
        self._conn.executemany(
            "INSERT OR REPLACE INTO spans (trace_id, span_id, parent_span_id, name, kind, "
            "service, start_ns, end_ns, duration_ns, status_code, status_message, attributes, "
            "events, links, resource_id, scope) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    s.trace_id,
                    s.span_id,
                    s.parent_span_id or None,
                    s.name,
                    s.kind,
                    s.service,
                    s.start_ns,
                    s.end_ns,
                    max(0, s.end_ns - s.start_ns),
                    s.status_code,
                    s.status_message,
                    s.attributes,
                    s.events,
                    s.links,
                    self._resource_id(s.resource),
                    s.scope,
                )
                for s in spans
            ],
        )

    def _write_logs(self, logs: Sequence[LogRow]) -> None:
        last = self._conn.execute("SELECT coalesce(max(id), 0) FROM logs").fetchone()[0]
        self._conn.executemany(
            "INSERT INTO logs (time_ns, observed_ns, severity_number, severity_text, body, "
            "service, trace_id, span_id, attributes, resource_id, scope, flags) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    r.time_ns,
                    r.observed_ns,
                    r.severity_number,
                    r.severity_text,
                    r.body,
                    r.service,
                    r.trace_id or None,
                    r.span_id or None,
                    r.attributes,
                    self._resource_id(r.resource),
                    r.scope,
                    r.flags,
                )
                for r in logs
            ],
        )
        self._conn.execute(
            "INSERT INTO logs_fts (rowid, body) SELECT id, body FROM logs WHERE id > ?", (last,)
        )

    def _series_id(self, labels: SeriesLabels) -> int:
        sid = self._series_ids.get(labels)
        if sid is not None:
            return sid
        text = orjson.dumps(labels).decode()
        row = self._conn.execute("SELECT id FROM series WHERE labels = ?", (text,)).fetchone()
        if row is None:
            name = dict(labels).get("__name__", "")
            cur = self._conn.execute(
                "INSERT INTO series (name, labels) VALUES (?, ?)", (name, text)
            )
            sid = int(cur.lastrowid or 0)
        else:
            sid = int(row[0])
        self._series_ids[labels] = sid
        return sid

    def _head(self, sid: int) -> _Head:
        head = self._heads.get(sid)
        if head is None:
            row = self._conn.execute(
                "SELECT id, data FROM chunks WHERE series_id = ? AND closed = 0 "
                "ORDER BY t_max DESC LIMIT 1",
                (sid,),
            ).fetchone()
            if row is None:
                last = self._conn.execute(
                    "SELECT max(t_max) FROM chunks WHERE series_id = ?", (sid,)
                ).fetchone()[0]
                head = _Head(None, None if last is None else int(last))
            else:
                ts, vs = decode_chunk(row[1])
                head = _Head(int(row[0]), None)
                head.ts, head.values = ts.tolist(), vs.tolist()
            self._heads[sid] = head
        return head

    def _write_samples(self, samples: Iterable[Sample]) -> None:
        touched: dict[int, _Head] = {}
        for labels, ts, value in samples:
            sid = self._series_id(labels)
            head = touched.get(sid) or self._head(sid)
            if head.ts:
                last = head.ts[-1]
                if ts == last:  # the same instant again: the newer value wins
                    head.values[-1] = value
                    touched[sid] = head
                    continue
                if ts < last:
                    self.dropped_samples += 1  # out of order, as Prometheus rejects it
                    continue
                if (
                    len(head.ts) >= self._head_max_samples
                    or ts - head.ts[0] >= self._head_max_span_ms
                ):
                    self._persist_head(sid, head, closed=True)
                    head = _Head(None, head.ts[-1])
                    self._heads[sid] = head
            elif head.floor is not None and ts <= head.floor:
                self.dropped_samples += 1
                continue
            head.ts.append(ts)
            head.values.append(value)
            touched[sid] = head
        for sid, head in touched.items():
            self._persist_head(sid, head, closed=False)

    def _persist_head(self, sid: int, head: _Head, *, closed: bool) -> None:
        blob = (
            encode_chunk(np.asarray(head.ts, dtype=np.int64), np.asarray(head.values))
            if closed
            else encode_open_chunk(head.ts, head.values)
        )
        if closed and head.chunk_id is not None:
            # a closed chunk is a new, small row: rewriting the head's big raw row in place
            # would leave each closed chunk alone on a mostly empty page
            self._conn.execute("DELETE FROM chunks WHERE id = ?", (head.chunk_id,))
            head.chunk_id = None
        if head.chunk_id is None:
            cur = self._conn.execute(
                "INSERT INTO chunks (series_id, t_min, t_max, n, closed, data) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (sid, head.ts[0], head.ts[-1], len(head.ts), int(closed), blob),
            )
            head.chunk_id = int(cur.lastrowid or 0)
        else:
            self._conn.execute(
                "UPDATE chunks SET t_min = ?, t_max = ?, n = ?, closed = ?, data = ? WHERE id = ?",
                (head.ts[0], head.ts[-1], len(head.ts), int(closed), blob, head.chunk_id),
            )

    # -- reading ------------------------------------------------------------------------

    def _reader(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = _connect(self.path, writer=False)
            with self._readers_lock:
                self._readers.append(conn)
            self._local.conn = conn
        return conn

    def size_bytes(self) -> int:
        total = 0
        for suffix in ("", "-wal", "-shm"):
            try:
                total += os.stat(str(self.path) + suffix).st_size
            except OSError:
                pass
        return total

    def services(self) -> list[ServiceInfo]:
        signals: dict[str, dict[str, int]] = {}
        last_seen: dict[str, int] = {}
        for name, signal, last, count in self._reader().execute(
            "SELECT name, signal, last_seen_ns, count FROM services ORDER BY name"
        ):
            signals.setdefault(name, {})[signal] = count
            last_seen[name] = max(last_seen.get(name, 0), last)
        return [
            ServiceInfo(name, last_seen[name], by_signal) for name, by_signal in signals.items()
        ]

    def search_traces(self, query: TraceQuery) -> list[TraceSummary]:
        conds: list[str] = []
        params: list[Any] = []
        if query.service is not None:
            conds.append("service = ?")
            params.append(query.service)
        if query.operation is not None:
            conds.append("name = ?")
            params.append(query.operation)
        if query.status == "error":
            conds.append("status_code = 2")
        if query.min_duration_ns is not None:
            conds.append("duration_ns >= ?")
            params.append(query.min_duration_ns)
        if query.max_duration_ns is not None:
            conds.append("duration_ns <= ?")
            params.append(query.max_duration_ns)
        if query.start_ns is not None:
            conds.append("start_ns >= ?")
            params.append(query.start_ns)
        if query.end_ns is not None:
            conds.append("start_ns <= ?")
            params.append(query.end_ns)
        for key, value in query.attributes:
            path = _json_path(key)
            conds.append(
                f"({_attr_condition('attributes')} OR "
                f"{_attr_condition('(SELECT json FROM resources WHERE id = resource_id)')})"
            )
            params += [path, path, value, path, path, value]
        where = " AND ".join(conds) or "1"
        conn = self._reader()
        ids: list[bytes] = []
        seen: set[bytes] = set()
        for (tid,) in conn.execute(
            f"SELECT trace_id FROM spans WHERE {where} ORDER BY start_ns DESC", params
        ):
            if tid in seen:
                continue
            seen.add(tid)
            if (
                query.status == "ok"
                and conn.execute(
                    "SELECT 1 FROM spans WHERE trace_id = ? AND status_code = 2 LIMIT 1", (tid,)
                ).fetchone()
            ):
                continue
            ids.append(tid)
            if len(ids) >= query.limit:
                break
        return self._summaries(conn, ids)

    def _summaries(self, conn: sqlite3.Connection, ids: list[bytes]) -> list[TraceSummary]:
        if not ids:
            return []
        marks = ",".join("?" * len(ids))
        stats = {
            row[0]: row
            for row in conn.execute(
                "SELECT trace_id, min(start_ns), max(end_ns), count(*), sum(status_code = 2), "
                f"group_concat(DISTINCT service) FROM spans WHERE trace_id IN ({marks}) "
                "GROUP BY trace_id",
                ids,
            )
        }
        roots: dict[bytes, tuple[str, str, int]] = {}
        for tid, name, service, start in conn.execute(
            "SELECT trace_id, name, service, start_ns FROM spans "
            f"WHERE trace_id IN ({marks}) AND parent_span_id IS NULL",
            ids,
        ):
            if tid not in roots or start < roots[tid][2]:
                roots[tid] = (name, service, start)
        out = []
        for tid in ids:
            _, start, end, count, errors, services = stats[tid]
            if tid not in roots:  # the root has not arrived (yet): the earliest span stands in
                name, service = conn.execute(
                    "SELECT name, service FROM spans WHERE trace_id = ? ORDER BY start_ns LIMIT 1",
                    (tid,),
                ).fetchone()
            else:
                name, service, _ = roots[tid]
            out.append(
                TraceSummary(
                    trace_id=tid.hex(),
                    root_service=service,
                    root_operation=name,
                    start_ns=start,
                    duration_ns=max(0, end - start),
                    span_count=count,
                    error_count=int(errors or 0),
                    services=sorted(set((services or "").split(","))),
                )
            )
        return out

    def get_trace(self, trace_id: bytes) -> str:
        # SQLite's JSON functions build the answer: a 10,000-span trace is one string,
        # with no Python object per span (twice as fast as decoding and re-encoding)
        return str(self._reader().execute(_TRACE_JSON, (trace_id,)).fetchone()[0])

    @staticmethod
    def _resources(conn: sqlite3.Connection, ids: set[int]) -> dict[int, Any]:
        if not ids:
            return {}
        id_list = list(ids)
        return {
            rid: orjson.loads(text)
            for rid, text in conn.execute(
                f"SELECT id, json FROM resources WHERE id IN ({','.join('?' * len(id_list))})",
                id_list,
            )
        }

    def _log_where(self, query: LogQuery) -> tuple[str, list[Any]]:
        conds: list[str] = []
        params: list[Any] = []
        if query.start_ns is not None:
            conds.append("l.time_ns >= ?")
            params.append(query.start_ns)
        if query.end_ns is not None:
            conds.append("l.time_ns <= ?")
            params.append(query.end_ns)
        if query.service is not None:
            conds.append("l.service = ?")
            params.append(query.service)
        if query.min_severity is not None:
            conds.append("l.severity_number >= ?")
            params.append(query.min_severity)
        if query.trace_id is not None:
            conds.append("l.trace_id = ?")
            params.append(query.trace_id)
        if query.text:
            phrase = '"' + query.text.replace('"', '""') + '"'
            if len(query.text) >= 3 and (not query.text.isascii() or self._rare(phrase)):
                # a rare term: the trigram index names the few rows that have it
                conds.append("l.id IN (SELECT rowid FROM logs_fts WHERE logs_fts MATCH ?)")
                params.append(phrase)
            else:
                # a short or common term: walking the newest rows and testing each body
                # finds a page of matches sooner than listing every match from the index
                conds.append("l.body LIKE ? ESCAPE '\\'")
                escaped = query.text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
                params.append(f"%{escaped}%")
        for key, value in query.attributes:
            path = _json_path(key)
            conds.append(
                f"({_attr_condition('l.attributes')} OR "
                f"{_attr_condition('(SELECT json FROM resources WHERE id = l.resource_id)')})"
            )
            params += [path, path, value, path, path, value]
        return " AND ".join(conds) or "1", params

    def _rare(self, phrase: str) -> bool:
        n = (
            self._reader()
            .execute(
                "SELECT count(*) FROM (SELECT 1 FROM logs_fts WHERE logs_fts MATCH ? LIMIT ?)",
                (phrase, _COMMON_TERM),
            )
            .fetchone()[0]
        )
        return bool(n < _COMMON_TERM)

    def search_logs(self, query: LogQuery) -> LogPage:
        where, params = self._log_where(query)
        order = "l.time_ns DESC, l.id DESC"
        if query.before is not None:
            where += " AND (l.time_ns < ? OR (l.time_ns = ? AND l.id < ?))"
            params += [query.before[0], query.before[0], query.before[1]]
        if query.after_id is not None:  # the live tail: in the order they were stored
            where += " AND l.id > ?"
            params.append(query.after_id)
            order = "l.id ASC"
        conn = self._reader()
        rows = conn.execute(
            "SELECT l.id, l.time_ns, l.observed_ns, l.severity_number, l.severity_text, l.body, "
            "l.service, l.trace_id, l.span_id, l.attributes, l.resource_id, l.scope, l.flags "
            f"FROM logs l WHERE {where} ORDER BY {order} LIMIT ?",
            [*params, query.limit + 1],
        ).fetchall()
        more = len(rows) > query.limit
        rows = rows[: query.limit]
        resources = self._resources(conn, {r[10] for r in rows})
        records: list[dict[str, object]] = [
            {
                "id": r[0],
                "time_ns": r[1],
                "observed_ns": r[2],
                "severity_number": r[3],
                "severity_text": r[4],
                "body": r[5],
                "service": r[6],
                "trace_id": r[7].hex() if r[7] else None,
                "span_id": r[8].hex() if r[8] else None,
                "attributes": orjson.loads(r[9]),
                "resource": resources.get(r[10], {}),
                "scope": orjson.loads(r[11]),
                "flags": r[12],
            }
            for r in rows
        ]
        cursor = (rows[-1][1], rows[-1][0]) if more and rows else None
        return LogPage(records=records, next_cursor=cursor)

    def last_log_id(self) -> int:
        """The id of the newest log record stored (0 when there is none): where a live
        tail starts."""
        row = self._reader().execute("SELECT max(id) FROM logs").fetchone()
        return int(row[0] or 0)

    def log_counts(self, query: LogQuery, step_ns: int) -> list[tuple[int, int]]:
        assert query.start_ns is not None
        where, params = self._log_where(query)
        return [
            (query.start_ns + int(b) * step_ns, int(n))
            for b, n in self._reader().execute(
                f"SELECT (l.time_ns - ?) / ? AS b, count(*) FROM logs l WHERE {where} "
                "GROUP BY b ORDER BY b",
                [query.start_ns, step_ns, *params],
            )
        ]

    def dependencies(self, start_ns: int, end_ns: int) -> list[dict[str, object]]:
        """Caller -> callee edges between services: a span whose parent belongs to another
        service is one call; its error status is the call's error."""
        rows = self._reader().execute(
            "SELECT p.service, c.service, count(*), sum(c.status_code = 2) "
            "FROM spans c JOIN spans p ON p.trace_id = c.trace_id AND p.span_id = c.parent_span_id "
            "WHERE c.start_ns >= ? AND c.start_ns <= ? AND c.parent_span_id IS NOT NULL "
            "AND p.service != c.service GROUP BY p.service, c.service ORDER BY 3 DESC",
            (start_ns, end_ns),
        )
        return [
            {"caller": caller, "callee": callee, "calls": calls, "errors": int(errors or 0)}
            for caller, callee, calls, errors in rows
        ]

    def alerts(self, query: AlertQuery) -> list[dict[str, object]]:
        now = time.time_ns()
        conds: list[str] = []
        params: list[Any] = []
        if query.state == "firing":
            conds.append("ends_ns > ?")
            params.append(now)
        elif query.state == "resolved":
            conds.append("ends_ns <= ?")
            params.append(now)
        for key, value in query.labels:
            conds.append("json_extract(labels, ?) = ?")
            params += [_json_path(key), value]
        where = " AND ".join(conds) or "1"
        rows = self._reader().execute(
            "SELECT fingerprint, labels, annotations, starts_ns, ends_ns, generator_url, "
            f"first_received_ns, updated_ns, received FROM alerts WHERE {where} "
            "ORDER BY starts_ns DESC LIMIT ?",
            [*params, query.limit],
        )
        return [
            {
                "fingerprint": r[0],
                "labels": orjson.loads(r[1]),
                "annotations": orjson.loads(r[2]),
                "starts_ns": r[3],
                "ends_ns": r[4],
                "state": "firing" if r[4] > now else "resolved",
                "generator_url": r[5],
                "first_received_ns": r[6],
                "updated_ns": r[7],
                "received": r[8],
            }
            for r in rows
        ]

    def series(
        self, matchers: SeriesLabels, start_ms: int | None, end_ms: int | None
    ) -> list[tuple[int, SeriesLabels]]:
        wanted = dict(matchers)
        conn = self._reader()
        if "__name__" in wanted:
            rows = conn.execute(
                "SELECT id, labels FROM series WHERE name = ?", (wanted["__name__"],)
            )
        else:
            rows = conn.execute("SELECT id, labels FROM series")
        out = []
        for sid, text in rows:
            labels = tuple((str(k), str(v)) for k, v in orjson.loads(text))
            have = dict(labels)
            if any(have.get(k, "") != v for k, v in wanted.items()):
                continue
            if start_ms is not None or end_ms is not None:
                hit = conn.execute(
                    "SELECT 1 FROM chunks WHERE series_id = ? AND t_max >= ? AND t_min <= ? "
                    "LIMIT 1",
                    (sid, start_ms or 0, end_ms if end_ms is not None else 2**62),
                ).fetchone()
                if hit is None:
                    continue
            out.append((int(sid), labels))
        return out

    def samples(
        self, series_id: int, start_ms: int | None, end_ms: int | None
    ) -> tuple[list[int], list[float]]:
        lo = start_ms if start_ms is not None else -(2**62)
        hi = end_ms if end_ms is not None else 2**62
        ts_parts = []
        vs_parts = []
        for (blob,) in self._reader().execute(
            "SELECT data FROM chunks WHERE series_id = ? AND t_max >= ? AND t_min <= ? "
            "ORDER BY t_min",
            (series_id, lo, hi),
        ):
            ts, vs = decode_chunk(blob)
            keep = (ts >= lo) & (ts <= hi)
            ts_parts.append(ts[keep])
            vs_parts.append(vs[keep])
        if not ts_parts:
            return [], []
        return np.concatenate(ts_parts).tolist(), np.concatenate(vs_parts).tolist()

    # -- targets ------------------------------------------------------------------------

    def put_target(self, target: TargetRow, *, timeout: float = 30.0) -> Future[bool]:
        """Add a target or refresh it (services register again on an interval); the
        future says whether it is new."""
        return self._task(lambda: self._put_target(target), timeout)

    def delete_target(self, url: str, *, timeout: float = 30.0) -> Future[bool]:
        return self._task(
            lambda: self._conn.execute("DELETE FROM targets WHERE url = ?", (url,)).rowcount > 0,
            timeout,
        )

    def _put_target(self, t: TargetRow) -> bool:
        now = time.time_ns()
        new = self._conn.execute("SELECT 1 FROM targets WHERE url = ?", (t.url,)).fetchone() is None
        self._conn.execute(
            "INSERT INTO targets (url, job, metrics_path, health_path, labels, source, "
            "added_ns, last_seen_ns) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (url) DO UPDATE SET job = excluded.job, "
            "metrics_path = excluded.metrics_path, health_path = excluded.health_path, "
            "labels = excluded.labels, source = excluded.source, "
            "last_seen_ns = excluded.last_seen_ns",
            (*t, now, now),
        )
        return new

    def targets(self) -> list[dict[str, object]]:
        rows = self._reader().execute(
            "SELECT url, job, metrics_path, health_path, labels, source, added_ns, last_seen_ns "
            "FROM targets ORDER BY job, url"
        )
        return [
            {
                "url": r[0],
                "job": r[1],
                "metrics_path": r[2],
                "health_path": r[3],
                "labels": orjson.loads(r[4]),
                "source": r[5],
                "added_ns": r[6],
                "last_seen_ns": r[7],
            }
            for r in rows
        ]

    def _task(self, fn: Callable[[], Any], timeout: float) -> Future[Any]:
        if self._closed:
            raise StoreBusyError("the store is closing")
        future: Future[Any] = Future()
        self._queue.put((_Task(fn), future), timeout=timeout)
        return future

    # -- retention ----------------------------------------------------------------------

    def used_bytes(self) -> int:
        """Bytes of the database in use: the file without its free pages and the WAL."""
        conn = self._reader()
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        free = conn.execute("PRAGMA freelist_count").fetchone()[0]
        return int((pages - free) * page_size)

    def enforce_retention(
        self,
        *,
        max_age_ns: int | None,
        max_bytes: int | None,
        now_ns: int | None = None,
        limit: int = 20_000,
        timeout: float = 60.0,
    ) -> Future[int]:
        """Delete at most ``limit`` rows per table that are older than ``max_age_ns``, or
        the oldest ones while the store uses more than ``max_bytes``; the future gives the
        number of rows deleted (call again while it is not 0). Runs on the writer thread
        in short transactions, between ingest batches."""
        now = time.time_ns() if now_ns is None else now_ns
        return self._task(lambda: self._retention(max_age_ns, max_bytes, now, limit), timeout)

    def _retention(
        self, max_age_ns: int | None, max_bytes: int | None, now: int, limit: int
    ) -> int:
        deleted = 0
        if max_age_ns is not None:
            deleted += self._delete_before(now - max_age_ns, limit)
        if max_bytes is not None and self._used_bytes_writer() > max_bytes:
            oldest = self._oldest_ns()
            if oldest is not None:
                # the oldest twentieth of what is kept goes first, whatever the signal
                cut = oldest + max((now - oldest) // 20, 10**9)
                deleted += self._delete_before(cut, limit)
        if deleted:
            self._conn.execute("PRAGMA incremental_vacuum")
        return deleted

    def _used_bytes_writer(self) -> int:
        c = self._conn
        page_size = c.execute("PRAGMA page_size").fetchone()[0]
        pages = c.execute("PRAGMA page_count").fetchone()[0]
        free = c.execute("PRAGMA freelist_count").fetchone()[0]
        return int((pages - free) * page_size)

    def _oldest_ns(self) -> int | None:
        c = self._conn
        candidates = [
            c.execute("SELECT min(start_ns) FROM spans").fetchone()[0],
            c.execute("SELECT min(time_ns) FROM logs").fetchone()[0],
        ]
        chunk = c.execute("SELECT min(t_max) FROM chunks").fetchone()[0]
        if chunk is not None:
            candidates.append(int(chunk) * 1_000_000)
        present = [int(v) for v in candidates if v is not None]
        return min(present) if present else None

    def _delete_before(self, cutoff_ns: int, limit: int) -> int:
        c = self._conn
        n = c.execute(
            "DELETE FROM spans WHERE (trace_id, span_id) IN (SELECT trace_id, span_id FROM spans "
            "WHERE start_ns < ? ORDER BY start_ns LIMIT ?)",
            (cutoff_ns, limit),
        ).rowcount
        logs = c.execute(
            "DELETE FROM logs WHERE id IN (SELECT id FROM logs WHERE time_ns < ? "
            "ORDER BY time_ns LIMIT ?)",
            (cutoff_ns, limit),
        ).rowcount
        if logs:
            # FTS5 records deletions as tombstones; merging segments applies them and frees
            # the pages (https://sqlite.org/fts5.html#the_merge_command)
            c.execute("INSERT INTO logs_fts (logs_fts, rank) VALUES ('merge', -16)")
        n += logs
        chunks = c.execute(
            "DELETE FROM chunks WHERE id IN (SELECT id FROM chunks WHERE t_max < ? "
            "ORDER BY t_max LIMIT ?)",
            (cutoff_ns // 1_000_000, limit),
        ).rowcount
        if chunks:
            self._heads.clear()  # a deleted head chunk must not be updated in place
        return int(n + chunks)

    # -- closing ------------------------------------------------------------------------

    def close(self, timeout: float = 30.0) -> None:
        """Stop taking batches, commit the queued ones, checkpoint and close the file."""
        with self._close_lock:
            if self._closed:
                return
            self._closed = True
        try:
            self._queue.put(_STOP, timeout=timeout)
        except queue.Full:  # the writer is stuck: close anyway, the WAL keeps what it had
            pass
        self._thread.join(timeout)
        try:
            self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        except sqlite3.Error:
            pass
        self._conn.close()
        with self._readers_lock:
            for conn in self._readers:
                conn.close()
            self._readers.clear()

    # -- PromQL (promql branch): bulk reads for the query engine --------------------------

    def metric_series(
        self, name: str | None, start_ms: int | None, end_ms: int | None
    ) -> list[tuple[int, SeriesLabels]]:
        """Every series named ``name`` (every series for None) with a sample between
        ``start_ms`` and ``end_ms``; the engine applies the other matchers itself.

        Example::

            >>> import tempfile
            >>> store = SQLiteStore(tempfile.mkdtemp())
            >>> store.submit(Batch(samples=[Sample((("__name__", "up"),), 1000, 1.0)])).result()
            >>> store.metric_series("up", 0, 2000)
            [(1, (('__name__', 'up'),))]
            >>> store.close()
        """
        lo = start_ms if start_ms is not None else -(2**62)
        hi = end_ms if end_ms is not None else 2**62
        where = (
            "EXISTS (SELECT 1 FROM chunks c WHERE c.series_id = s.id "
            "AND c.t_max >= ? AND c.t_min <= ?)"
        )
        if name is None:
            rows = self._reader().execute(
                f"SELECT id, labels FROM series s WHERE {where}", (lo, hi)
            )
        else:
            rows = self._reader().execute(
                f"SELECT id, labels FROM series s WHERE name = ? AND {where}", (name, lo, hi)
            )
        return [
            (int(sid), tuple((str(k), str(v)) for k, v in orjson.loads(text))) for sid, text in rows
        ]

    def metric_samples(
        self, series_ids: Sequence[int], start_ms: int, end_ms: int
    ) -> dict[int, tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]]:
        """The samples of many series between ``start_ms`` and ``end_ms`` (both included)
        as numpy arrays, read in one pass; series without samples there are left out.

        Example::

            >>> import tempfile
            >>> store = SQLiteStore(tempfile.mkdtemp())
            >>> store.submit(Batch(samples=[Sample((("__name__", "up"),), 1000, 1.0)])).result()
            >>> ts, vs = store.metric_samples([1], 0, 2000)[1]
            >>> ts.tolist(), vs.tolist()
            ([1000], [1.0])
            >>> store.close()
        """
        conn = self._reader()
        series_cache = self._promql_cache("_promql_series", 4_000_000)
        ids = list(series_ids)
        closed: dict[int, tuple[Any, Any]] = {}
        heads: dict[int, list[tuple[Any, Any]]] = {}
        own = not conn.in_transaction
        if own:
            conn.execute("BEGIN")  # one snapshot: a head closing between reads is not lost
        try:
            for i in range(0, len(ids), 500):
                group = ids[i : i + 500]
                marks = ",".join("?" * len(group))
                where = f"series_id IN ({marks}) AND t_max >= ? AND t_min <= ?"
                args = (*group, start_ms, end_ms)
                stale = []
                for key in conn.execute(
                    "SELECT series_id, count(*), min(t_min), max(t_max), sum(n) FROM chunks "
                    f"WHERE {where} AND closed = 1 GROUP BY series_id",
                    args,
                ):
                    hit = series_cache.peek(key)
                    if hit is None:
                        stale.append(key)
                    else:
                        closed[key[0]] = hit
                if stale:
                    loaded = self._closed_chunks(conn, [k[0] for k in stale], start_ms, end_ms)
                    for key in stale:
                        chunks = loaded.get(key[0])
                        if chunks:
                            whole = (
                                np.concatenate([c[0] for c in chunks]),
                                np.concatenate([c[1] for c in chunks]),
                            )
                            closed[key[0]] = whole
                            series_cache.put(key, whole)
                for sid, blob in conn.execute(
                    f"SELECT series_id, data FROM chunks WHERE {where} AND closed = 0 "
                    "ORDER BY series_id, t_min",
                    args,
                ):
                    heads.setdefault(int(sid), []).append(decode_chunk(blob))
        finally:
            if own:
                conn.execute("COMMIT")
        out = {}
        for sid in ids:
            pieces = ([closed[sid]] if sid in closed else []) + heads.get(sid, [])
            if not pieces:
                continue
            if len(pieces) == 1:
                ts, vs = pieces[0]
            else:
                ts = np.concatenate([p[0] for p in pieces])
                vs = np.concatenate([p[1] for p in pieces])
            lo = int(np.searchsorted(ts, start_ms, side="left"))
            hi = int(np.searchsorted(ts, end_ms, side="right"))
            if hi > lo:
                out[sid] = (ts[lo:hi], vs[lo:hi])
        return out

    def _promql_cache(self, name: str, max_samples: int) -> _DecodedChunks:
        # made on first use so that __init__ stays as it is; setdefault is atomic
        cache: _DecodedChunks = self.__dict__.setdefault(name, _DecodedChunks(max_samples))
        return cache

    def _closed_chunks(
        self, conn: sqlite3.Connection, ids: list[int], start_ms: int, end_ms: int
    ) -> dict[int, list[tuple[Any, Any]]]:
        cache = self._promql_cache("_promql_chunks", 2_000_000)
        marks = ",".join("?" * len(ids))
        rows = conn.execute(
            "SELECT id, series_id, t_min, t_max, n FROM chunks "
            f"WHERE series_id IN ({marks}) AND closed = 1 AND t_max >= ? AND t_min <= ? "
            "ORDER BY series_id, t_min",
            (*ids, start_ms, end_ms),
        ).fetchall()
        found: dict[tuple[int, ...], Any] = {}
        missing = [row for row in rows if cache.peek(row) is None]
        for j in range(0, len(missing), 500):
            want = {int(r[0]): r for r in missing[j : j + 500]}
            marks = ",".join("?" * len(want))
            for cid, blob in conn.execute(
                f"SELECT id, data FROM chunks WHERE id IN ({marks})", tuple(want)
            ):
                decoded = decode_chunk(blob)
                found[want[int(cid)]] = decoded
                cache.put(want[int(cid)], decoded)
        parts: dict[int, list[tuple[Any, Any]]] = {}
        for row in rows:
            got = found.get(row) or cache.peek(row)
            if got is not None:
                parts.setdefault(int(row[1]), []).append(got)
        return parts


# -- PromQL (promql branch): decoded closed chunks, shared by queries ---------------------


class _DecodedChunks:
    """A FIFO cache of decoded closed chunks (they never change), bounded by sample count, so
    dashboards that refresh the same range do not inflate the same blobs again."""

    def __init__(self, max_samples: int = 4_000_000) -> None:
        self._max = max_samples
        self._size = 0
        self._items: OrderedDict[tuple[int, ...], tuple[Any, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def peek(self, key: tuple[int, ...]) -> tuple[Any, Any] | None:
        # a plain dict read is atomic; eviction is first in, first out
        return self._items.get(key)

    def put(self, key: tuple[int, ...], value: tuple[Any, Any]) -> None:
        with self._lock:
            if key in self._items:
                return
            self._items[key] = value
            self._size += len(value[0])
            while self._size > self._max and self._items:
                _, old = self._items.popitem(last=False)
                self._size -= len(old[0])
