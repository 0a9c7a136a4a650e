"""The dispatcher's Alertmanager timing on a real store with an injected clock: group_wait,
group_interval, repeat_interval, resolved messages and a forgotten finished group."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from berrys_monitoring.hub.ingest._alertmanager import fingerprint
from berrys_monitoring.hub.rules import Dispatcher, parse_alerting_config
from berrys_monitoring.hub.store import AlertQuery, AlertRow, Batch, SQLiteStore

# the clock starts in the past: the store tells firing from resolved by the real time
T0 = time.time() - 20_000.0
FAR = 4_000_000_000.0  # 2096


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SQLiteStore]:
    s = SQLiteStore(tmp_path)
    yield s
    s.close()


def _push(store: SQLiteStore, name: str, *, ends_s: float) -> None:
    labels = {"alertname": name, "job": "api"}
    row = AlertRow(
        fingerprint(labels), orjson.dumps(labels).decode(), "{}", int(T0 * 1e9),
        int(ends_s * 1e9), "",
    )  # fmt: skip
    store.submit(Batch(alerts=[row])).result()


def _sent(store: SQLiteStore) -> list[list[tuple[str, str]]]:
    """The queued messages' (alertname, status), and empty the outbox."""
    out = []
    for item in store.due_notifications(2**62):
        message = orjson.loads(item.payload)
        out.append([(a["labels"]["alertname"], a["status"]) for a in message["alerts"]])
        store.finish_notification(item.id, retry_at_ns=None).result()
    return out


def test_group_wait_interval_repeat_and_resolve(store: SQLiteStore) -> None:
    clock = Clock()
    config = parse_alerting_config({
        "route": {"receiver": "r", "group_by": ["job"], "group_wait": "10s",
                  "group_interval": "60s", "repeat_interval": "1h"},
        "receivers": [{"name": "r", "webhook_configs": [{"url": "http://127.0.0.1:9/"}]}],
    })  # fmt: skip
    d = Dispatcher(store, lambda: config, clock=clock)
    _push(store, "A", ends_s=FAR)
    assert d.tick() == 0  # the group waits group_wait
    clock.now += 10
    assert d.tick() == 1 and _sent(store) == [[("A", "firing")]]
    _push(store, "B", ends_s=FAR)
    clock.now += 30
    assert d.tick() == 0  # B waits for the group's interval
    clock.now += 30
    assert _sent(store) == [] and d.tick() == 1
    assert _sent(store) == [[("A", "firing"), ("B", "firing")]]
    for _ in range(10):  # nothing new: silence until repeat_interval
        clock.now += 60
        d.tick()
    assert _sent(store) == []
    clock.now += 3600
    d.tick()
    assert len(_sent(store)) == 1  # the repeat

    _push(store, "A", ends_s=clock.now - 1)  # resolved
    _push(store, "B", ends_s=clock.now - 1)
    clock.now += 60
    d.tick()
    assert _sent(store) == [[("A", "resolved"), ("B", "resolved")]]
    clock.now += 60
    d.tick()
    assert _sent(store) == [] and store.notify_log() == {}  # a finished group is forgotten


def test_alerts_resolved_longer_ago_than_the_retention_are_forgotten(store: SQLiteStore) -> None:
    clock = Clock()
    d = Dispatcher(store, lambda: None, retention_s=3600.0, clock=clock)
    _push(store, "Old", ends_s=T0 - 7200)
    _push(store, "Recent", ends_s=T0 - 60)
    _push(store, "Firing", ends_s=FAR)
    d.prune()
    names = {a["labels"]["alertname"] for a in store.list_alerts(AlertQuery())}  # type: ignore[index]
    assert names == {"Recent", "Firing"}
