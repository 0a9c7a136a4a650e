"""Durability: alert state lives in an SQLite file and survives the process."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from berrys_monitoring.alerts import (
    AlertManager,
    AlertRule,
    AlertState,
    SQLiteAlertStore,
    configure_alerts,
    get_alert,
    list_alerts,
    threshold_above,
    trigger_alert,
)


def run_python(code: str) -> str:
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


def test_alert_triggered_in_another_process_is_read_back_with_its_history(tmp_path: Path) -> None:
    db = tmp_path / "alerts.db"
    alert_id = run_python(
        f"""
        from berrys_monitoring.alerts import configure_alerts, trigger_alert, update_alert
        from berrys_monitoring.alerts import AlertSeverity, AlertState
        configure_alerts(store_path={str(db)!r})
        a = trigger_alert("High CPU Usage", "95%", AlertSeverity.WARNING, {{"service": "api"}})
        trigger_alert("High CPU Usage", "97%", AlertSeverity.WARNING, {{"service": "api"}})
        update_alert(a, state=AlertState.ACKNOWLEDGED, message="on it")
        print(a)
        """
    )
    configure_alerts(store_path=db)
    alert = get_alert(alert_id)
    assert alert is not None
    assert alert.state is AlertState.ACKNOWLEDGED
    assert alert.occurrences == 2
    assert [e.kind for e in alert.history] == ["triggered", "repeated", "acknowledged"]
    # Still active after the restart, so the same alert de-duplicates here too.
    assert trigger_alert("High CPU Usage", "99%", "warning", {"service": "api"}) == alert_id


def test_store_file_uses_wal_and_reopens_after_close(tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    m = AlertManager(store=db)
    alert_id = m.trigger("T", "m", "info", {"k": 1})
    m.shutdown(1)
    mode = sqlite3.connect(db).execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"
    again = AlertManager(store=SQLiteAlertStore(db))
    alert = again.get(alert_id)
    assert alert is not None and alert.context == {"k": 1}
    again.shutdown(1)


def test_two_processes_sharing_a_file_keep_one_active_alert(tmp_path: Path) -> None:
    db = tmp_path / "shared.db"
    code = f"""
        from berrys_monitoring.alerts import AlertManager
        m = AlertManager(store={str(db)!r})
        ids = {{m.trigger("Shared", "m", "error", {{"svc": "x"}}) for _ in range(50)}}
        print(len(ids), ids.pop())
        """
    procs = [
        subprocess.Popen([sys.executable, "-c", textwrap.dedent(code)], stdout=subprocess.PIPE)
        for _ in range(3)
    ]
    outs = [p.communicate(timeout=60)[0].decode().split() for p in procs]
    assert all(p.returncode == 0 for p in procs)
    assert {o[0] for o in outs} == {"1"}
    assert len({o[1] for o in outs}) == 1
    m = AlertManager(store=db)
    [alert] = m.list(active=True)
    assert alert.occurrences == 150
    m.shutdown(1)


def test_rule_cooldown_survives_a_restart(tmp_path: Path) -> None:
    db = tmp_path / "rules.db"
    clock_t = [1_700_000_000.0]

    def make_rule(manager: AlertManager) -> AlertRule:
        return AlertRule(
            "hot", "temp", threshold_above(80), "Hot", "too hot", "warning", {},
            cooldown_period=300, manager=manager,
        )  # fmt: skip

    m1 = AlertManager(store=db, clock=lambda: clock_t[0])
    first = make_rule(m1).check(90)
    assert first is not None
    m1.shutdown(1)
    clock_t[0] += 100
    m2 = AlertManager(store=db, clock=lambda: clock_t[0])
    rule = make_rule(m2)
    assert rule.check(95) is None  # still cooling down, although this is a new process/rule
    clock_t[0] += 300
    assert rule.check(95) == first  # cooldown over; the alert is still active: same id
    # The condition clears after the restart: the rule finds its alert in the store.
    assert rule.check(20) is None
    resolved = m2.get(first)
    assert resolved is not None and resolved.state is AlertState.RESOLVED
    m2.shutdown(1)


def test_missing_store_directory_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="does not exist"):
        configure_alerts(store_path=tmp_path / "nope" / "alerts.db")


def test_in_memory_store_is_the_default() -> None:
    trigger_alert("T", "m", "info", {})
    assert len(list_alerts()) == 1
    fresh = configure_alerts()
    assert fresh.store.path is None
    assert list_alerts() == []


def test_unreadable_store_file_is_a_configuration_error(tmp_path: Path) -> None:
    garbage = tmp_path / "not-a-db"
    garbage.write_bytes(b"this is not an SQLite database" * 100)
    with pytest.raises(ValueError, match="cannot open alert store"):
        configure_alerts(store_path=garbage)


def test_store_broken_at_runtime_still_notifies_and_never_raises(tmp_path: Path) -> None:
    from berrys_monitoring import internal_error_counts
    from berrys_monitoring.alerts import InMemoryNotifier

    db = tmp_path / "alerts.db"
    inbox = InMemoryNotifier()
    m = AlertManager(store=db, notifiers=[inbox])
    m.store.close()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    db.write_bytes(b"corrupted by a disk failure" * 200)  # a real file SQLite cannot read
    alert_id = m.trigger("Disk failing", "I/O errors", "critical", {})
    assert isinstance(alert_id, str)
    assert m.flush(5)
    assert inbox.kinds() == ["triggered"]
    assert inbox.notifications[0].alert.title == "Disk failing"
    assert internal_error_counts()["alerts"] == 1
    assert m.resolve(alert_id, "x") is None  # counted again, still no exception
    m.shutdown(1)


def test_concurrent_threads_triggering_one_alert_make_one_alert(tmp_path: Path) -> None:
    import threading

    m = AlertManager(store=tmp_path / "t.db")
    ids: list[str] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(25):
            alert_id = m.trigger("Hot", "m", "warning", {"k": "v"})
            with lock:
                ids.append(alert_id)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(ids)) == 1
    alert = m.get(ids[0])
    assert alert is not None and alert.occurrences == 200
    # Consecutive repeats fold into one history entry: history stays short.
    assert [e.kind for e in alert.history] == ["triggered", "repeated"]
    m.shutdown(1)
