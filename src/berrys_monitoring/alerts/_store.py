"""The durable alert store: SQLite (stdlib ``sqlite3``) in WAL mode, or in memory.

Alertmanager forgets every alert when it restarts; this store does not. One file can be
shared by several processes (gunicorn workers, a restarted service): writes that
de-duplicate run in ``BEGIN IMMEDIATE`` transactions and a partial unique index allows at
most one active alert per fingerprint.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson

from berrys_monitoring.alerts._model import (
    Alert,
    AlertEvent,
    AlertSeverity,
    AlertState,
    canonical_json,
    utc_from_ts,
)

__all__ = ["SQLiteAlertStore"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS alerts (
    id TEXT PRIMARY KEY,
    fingerprint TEXT NOT NULL,
    title TEXT NOT NULL,
    message TEXT NOT NULL,
    severity TEXT NOT NULL,
    state TEXT NOT NULL,
    context TEXT NOT NULL,
    rule TEXT,
    value REAL,
    occurrences INTEGER NOT NULL,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    resolved_at REAL
);
CREATE UNIQUE INDEX IF NOT EXISTS alerts_one_active
    ON alerts(fingerprint) WHERE state != 'resolved';
CREATE INDEX IF NOT EXISTS alerts_by_state ON alerts(state, created_at);
CREATE TABLE IF NOT EXISTS alert_events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    alert_id TEXT NOT NULL REFERENCES alerts(id),
    at REAL NOT NULL,
    kind TEXT NOT NULL,
    state TEXT NOT NULL,
    severity TEXT NOT NULL,
    message TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS alert_events_by_alert ON alert_events(alert_id, seq);
CREATE TABLE IF NOT EXISTS rule_state (
    rule TEXT PRIMARY KEY,
    last_fired REAL
);
"""

_COLUMNS = (
    "id, fingerprint, title, message, severity, state, context, rule, value, "
    "occurrences, created_at, updated_at, resolved_at"
)


# An upsert, not INSERT OR REPLACE: replacing deletes and re-inserts the row and all of
# its index entries on every repeat of an alert.
_UPSERT = (
    f"INSERT INTO alerts ({_COLUMNS}) VALUES ({','.join('?' * 13)}) ON CONFLICT(id) DO UPDATE SET "
    + ", ".join(f"{c.strip()} = excluded.{c.strip()}" for c in _COLUMNS.split(",")[1:])
)


class SQLiteAlertStore:
    """Alert state in one SQLite file (WAL), or in memory when ``path`` is None.

    Example::

        >>> from berrys_monitoring.alerts import AlertManager, SQLiteAlertStore
        >>> store = SQLiteAlertStore()            # in memory; pass a path to persist
        >>> m = AlertManager(store=store)
        >>> alert_id = m.trigger("Backup late", "no backup for 26h", "warning", {})
        >>> store.get(alert_id).title
        'Backup late'
    """

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self.path = None if path is None else str(Path(path))
        if self.path is not None and self.path != ":memory:":
            parent = Path(self.path).parent
            if not parent.is_dir():
                raise ValueError(f"alert store directory does not exist: {parent}")
        self._lock = threading.RLock()
        self._conn: sqlite3.Connection | None = None
        self._pid = -1
        try:
            self._connect()
        except sqlite3.Error as exc:
            raise ValueError(f"cannot open alert store {self.path}: {exc}") from exc

    # A connection must not cross fork(); the child reopens the same file.
    def _connect(self) -> sqlite3.Connection:
        if self._conn is not None and self._pid == os.getpid():
            return self._conn
        if self._conn is not None and self.path is None:
            # An in-memory store is private to the process; after fork the child keeps
            # its copy of the data (_fork_check gave it a fresh lock).
            self._pid = os.getpid()
            return self._conn
        target = self.path or ":memory:"
        conn = sqlite3.connect(target, isolation_level=None, check_same_thread=False, timeout=10)
        if target != ":memory:":
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA busy_timeout=10000")
        conn.executescript(_SCHEMA)
        self._conn, self._pid = conn, os.getpid()
        return conn

    def _fork_check(self) -> None:
        if self._pid != os.getpid():
            self._lock = threading.RLock()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Serialise a read-modify-write across threads and processes."""
        self._fork_check()
        with self._lock:
            conn = self._connect()
            if conn.in_transaction:  # nested: the outer transaction covers us
                yield
                return
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def _rows(self, sql: str, args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        self._fork_check()
        with self._lock:
            return self._connect().execute(sql, args).fetchall()

    def _load(self, row: tuple[Any, ...]) -> Alert:
        events = self._rows(
            "SELECT at, kind, state, severity, message FROM alert_events "
            "WHERE alert_id = ? ORDER BY seq",
            (row[0],),
        )
        return Alert(
            id=row[0],
            fingerprint=row[1],
            title=row[2],
            message=row[3],
            severity=AlertSeverity(row[4]),
            state=AlertState(row[5]),
            context=orjson.loads(row[6]),
            rule=row[7],
            value=row[8],
            occurrences=row[9],
            created_at=utc_from_ts(row[10]),
            updated_at=utc_from_ts(row[11]),
            resolved_at=None if row[12] is None else utc_from_ts(row[12]),
            history=tuple(
                AlertEvent(utc_from_ts(e[0]), e[1], AlertState(e[2]), AlertSeverity(e[3]), e[4])
                for e in events
            ),
        )

    def get(self, alert_id: str) -> Alert | None:
        """The alert with this id, or None."""
        rows = self._rows(f"SELECT {_COLUMNS} FROM alerts WHERE id = ?", (alert_id,))
        return self._load(rows[0]) if rows else None

    def find_active(self, fp: str) -> Alert | None:
        """The unresolved alert with this fingerprint, or None."""
        rows = self._rows(
            f"SELECT {_COLUMNS} FROM alerts WHERE fingerprint = ? AND state != 'resolved'", (fp,)
        )
        return self._load(rows[0]) if rows else None

    def list(
        self, state: AlertState | None = None, *, active: bool | None = None, limit: int = 1000
    ) -> list[Alert]:
        """Alerts, newest first, optionally filtered by state or by being active."""
        where, args = [], []
        if state is not None:
            where.append("state = ?")
            args.append(state.value)
        if active is True:
            where.append("state != 'resolved'")
        elif active is False:
            where.append("state = 'resolved'")
        sql = f"SELECT {_COLUMNS} FROM alerts"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY created_at DESC, rowid DESC LIMIT ?"
        return [self._load(r) for r in self._rows(sql, (*args, limit))]

    def save(
        self, alert: Alert, new_events: Sequence[AlertEvent], *, replace_last: bool = False
    ) -> None:
        """Insert or update ``alert`` and append ``new_events`` to its history
        (replacing its last history entry first when ``replace_last``)."""
        row = (
            alert.id,
            alert.fingerprint,
            alert.title,
            alert.message,
            alert.severity.value,
            alert.state.value,
            canonical_json(alert.context).decode(),
            alert.rule,
            alert.value,
            alert.occurrences,
            alert.created_at.timestamp(),
            alert.updated_at.timestamp(),
            None if alert.resolved_at is None else alert.resolved_at.timestamp(),
        )
        with self.transaction():
            conn = self._connect()
            conn.execute(_UPSERT, row)
            if replace_last:
                conn.execute(
                    "DELETE FROM alert_events WHERE seq = "
                    "(SELECT MAX(seq) FROM alert_events WHERE alert_id = ?)",
                    (alert.id,),
                )
            conn.executemany(
                "INSERT INTO alert_events (alert_id, at, kind, state, severity, message) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [
                    (alert.id, e.at.timestamp(), e.kind, e.state.value, e.severity.value, e.message)
                    for e in new_events
                ],
            )

    def rule_last_fired(self, rule: str) -> float | None:
        """When ``rule`` last fired (epoch seconds), so cooldowns survive a restart."""
        rows = self._rows("SELECT last_fired FROM rule_state WHERE rule = ?", (rule,))
        return None if not rows else rows[0][0]

    def set_rule_last_fired(self, rule: str, ts: float | None) -> None:
        """Record (or clear, with None) when ``rule`` last fired."""
        with self._lock:
            self._connect().execute(
                "INSERT INTO rule_state (rule, last_fired) VALUES (?, ?) "
                "ON CONFLICT(rule) DO UPDATE SET last_fired = excluded.last_fired",
                (rule, ts),
            )

    def close(self) -> None:
        """Close the connection (a later call reopens it)."""
        with self._lock:
            if self._conn is not None and self._pid == os.getpid():
                self._conn.close()
            self._conn = None
