"""Alerting costs: a durable de-duplicated trigger, a steady-state rule check, fan-out to
notifiers. Anchors are the bare operations underneath (raw SQLite writes in the same WAL
mode, a bare condition call)."""

from __future__ import annotations

import sqlite3
import tempfile
import time
from pathlib import Path

from benchmarks._harness import Comparison, compare_ns
from berrys_monitoring.alerts import AlertManager, AlertRule, InMemoryNotifier, threshold_above


def _raw_store(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("CREATE TABLE a (id TEXT PRIMARY KEY, n INTEGER, message TEXT, at REAL)")
    conn.execute("CREATE TABLE e (seq INTEGER PRIMARY KEY, id TEXT, at REAL, message TEXT)")
    conn.execute("INSERT INTO a VALUES ('x', 1, 'm', 0)")
    return conn


def run(quick: bool) -> list[Comparison]:
    repeat = 3 if quick else 9
    target_s = 0.02 if quick else 0.1
    out: list[Comparison] = []
    with tempfile.TemporaryDirectory() as tmp:
        manager = AlertManager(store=Path(tmp) / "alerts.db")
        manager.trigger("Hot", "m", "warning", {"host": "a"})
        raw = _raw_store(Path(tmp) / "raw.db")

        def ours() -> None:
            manager.trigger("Hot", "m", "warning", {"host": "a"})

        def anchor() -> None:
            raw.execute("BEGIN IMMEDIATE")
            raw.execute(
                "UPDATE a SET n = n + 1, message = 'm', at = ? WHERE id = 'x'", (time.time(),)
            )
            raw.execute("DELETE FROM e WHERE seq = (SELECT MAX(seq) FROM e WHERE id = 'x')")
            raw.execute("INSERT INTO e (id, at, message) VALUES ('x', ?, 'm')", (time.time(),))
            raw.execute("COMMIT")

        a, b = compare_ns(ours, anchor, repeat=repeat, target_s=target_s)
        out.append(
            Comparison(
                "alerts", "trigger_alert, de-duplicated, SQLite WAL file", a,
                "raw sqlite3 update+event (same WAL file setup)", b,
                note="includes the dedup lookup, history load and notification fan-out",
            )
        )  # fmt: skip
        manager.shutdown(1)
        raw.close()

    rule = AlertRule("cpu", "cpu", threshold_above(90), "CPU", "m", manager=AlertManager())
    rule.check(10)  # steady state: nothing firing, nothing to resolve
    cond = threshold_above(90)
    a, b = compare_ns(lambda: rule.check(10), lambda: cond(10), repeat=repeat, target_s=target_s)
    out.append(
        Comparison(
            "alerts", "AlertRule.check, condition false (evaluator steady state)", a,
            "bare threshold_above(90)(10)", b,
            note="the per-rule cost of an evaluation round when nothing fires",
        )
    )  # fmt: skip

    plain = AlertManager()
    fanned = AlertManager(notifiers=[InMemoryNotifier(events={"repeated"}) for _ in range(3)])
    plain.trigger("T", "m", "info", {})
    fanned.trigger("T", "m", "info", {})
    a, b = compare_ns(
        lambda: fanned.trigger("T", "m", "info", {}),
        lambda: plain.trigger("T", "m", "info", {}),
        repeat=repeat,
        target_s=target_s,
    )
    out.append(
        Comparison(
            "alerts", "trigger_alert with 3 notifiers (in-memory store)", a,
            "trigger_alert with no notifier", b,
            note="cost on the caller's thread of handing off to 3 delivery queues",
        )
    )  # fmt: skip
    plain.shutdown(1)
    fanned.shutdown(1)
    return out
