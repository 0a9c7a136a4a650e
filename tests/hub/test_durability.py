"""A batch acknowledged with a 2xx is on disk: SIGKILL the hub during ingest, restart it."""

from __future__ import annotations

import signal
import sqlite3
import threading
import time
from pathlib import Path

import httpx
from tests.hub.conftest import start_hub
from tests.hub.otlp import PROTOBUF, logs_request, spans_request
from tests.support.servers import wait_for


def test_every_acknowledged_batch_survives_sigkill(tmp_path: Path) -> None:
    acknowledged: list[bytes] = []
    acked_logs = 0
    stop = threading.Event()
    lock = threading.Lock()

    def send(worker: int) -> None:
        nonlocal acked_logs
        with httpx.Client(base_url=hub.url, timeout=10) as c:
            while not stop.is_set():
                req = spans_request(f"kill-{worker}", 20)
                tid = req.resource_spans[0].scope_spans[0].spans[0].trace_id
                logs = logs_request(f"kill-{worker}", ["tick"] * 20)
                try:
                    r = c.post("/v1/traces", content=req.SerializeToString(), headers=PROTOBUF)
                    r2 = c.post("/v1/logs", content=logs.SerializeToString(), headers=PROTOBUF)
                except httpx.HTTPError:
                    return  # the hub is gone
                with lock:
                    if r.status_code == 200:
                        acknowledged.append(tid)
                    if r2.status_code == 200:
                        acked_logs += 20

    with start_hub(tmp_path) as hub:
        workers = [threading.Thread(target=send, args=(i,)) for i in range(3)]
        for w in workers:
            w.start()
        wait_for(lambda: len(acknowledged) >= 100, timeout=30, what="100 acknowledged batches")
        hub.server.proc.send_signal(signal.SIGKILL)
        hub.server.proc.wait(10)
        stop.set()
        for w in workers:
            w.join(15)
    assert acknowledged

    started = time.monotonic()
    with start_hub(tmp_path) as hub, hub.client() as client:
        assert time.monotonic() - started < 15
        for tid in acknowledged[:: max(1, len(acknowledged) // 25)]:
            spans = client.get(f"/api/v1/traces/{tid.hex()}").json()["spans"]
            assert len(spans) == 20
    db = sqlite3.connect(tmp_path / "hub.sqlite3")
    assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    stored = {row[0] for row in db.execute("SELECT DISTINCT trace_id FROM spans")}
    assert set(acknowledged) <= stored
    assert db.execute("SELECT count(*) FROM logs").fetchone()[0] >= acked_logs
    fts = db.execute("SELECT count(*) FROM logs_fts WHERE logs_fts MATCH 'tick'").fetchone()[0]
    assert fts >= acked_logs
