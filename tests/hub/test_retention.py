"""Retention by age and by size, while ingest goes on."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

from tests.hub.conftest import start_hub
from tests.hub.otlp import PROTOBUF, spans_request
from tests.support.servers import wait_for

from berrys_monitoring.hub._retention import RetentionWorker
from berrys_monitoring.hub.store import (
    Batch,
    LogQuery,
    LogRow,
    Sample,
    SpanRow,
    SQLiteStore,
    TraceQuery,
)

HOUR = 3600 * 10**9


def _span(start: int) -> SpanRow:
    return SpanRow(os.urandom(16), os.urandom(8), None, "op", 2, "svc", start, start + 1000,
                   0, "", "{}", None, None, "{}", "{}")  # fmt: skip


def _log(t: int, body: str = "hello") -> LogRow:
    return LogRow(t, t, 9, "INFO", body, "svc", None, None, "{}", "{}", "{}", 0)


def test_age_retention_deletes_old_spans_logs_and_chunks_only(tmp_path: Path) -> None:
    now = time.time_ns()
    store = SQLiteStore(tmp_path)
    labels = (("__name__", "up"), ("job", "svc"))
    old, new = now - 48 * HOUR, now - HOUR
    store.submit(
        Batch(
            spans=[_span(old), _span(new)],
            logs=[_log(old, "old line"), _log(new, "new line")],
            samples=[Sample(labels, old // 10**6, 1.0)],
        )
    ).result()
    store.submit(Batch(samples=[Sample((("__name__", "up"), ("job", "b")), new // 10**6, 2.0)]))
    worker = RetentionWorker(store, max_age_s=24 * 3600, max_bytes=None, interval_s=60)
    assert worker.run_once() == 3
    spans = [s.start_ns for s in store.search_traces(TraceQuery(limit=100))]
    assert spans == [new]
    assert [r["body"] for r in store.search_logs(LogQuery(text="line")).records] == ["new line"]
    [(sid, _)] = store.series((("job", "b"),), None, None)
    assert store.samples(sid, None, None)[1] == [2.0]
    # the series whose head chunk was deleted takes new samples again
    store.submit(Batch(samples=[Sample(labels, now // 10**6, 3.0)])).result()
    [(sid, _)] = store.series((("job", "svc"),), None, None)
    assert store.samples(sid, None, None)[1] == [3.0]
    store.close()


def test_size_retention_keeps_the_newest_data_under_the_cap_during_ingest(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path)
    start = time.time_ns() - 10 * HOUR
    filler = "x" * 400
    for i in range(40):  # ~10 h of logs, oldest first
        t0 = start + i * HOUR // 4
        store.submit(Batch(logs=[_log(t0 + j, f"{filler} {i}") for j in range(500)])).result()
    assert store.used_bytes() > 8_000_000
    cap = 4_000_000
    stop = threading.Event()
    written: list[int] = []

    def ingest() -> None:  # fresh logs keep arriving while retention runs
        while not stop.is_set():
            t = time.time_ns()
            store.submit(Batch(logs=[_log(t + j, "fresh") for j in range(50)])).result()
            written.append(t)

    writer = threading.Thread(target=ingest)
    writer.start()
    worker = RetentionWorker(store, max_age_s=None, max_bytes=cap, interval_s=60)
    try:
        deleted = worker.run_once()
        while store.used_bytes() > cap:
            deleted += worker.run_once()
    finally:
        stop.set()
        writer.join(10)
    assert deleted > 0
    assert store.used_bytes() <= cap
    newest = store.search_logs(LogQuery(limit=1)).records[0]
    assert newest["body"] == "fresh"
    assert len(store.search_logs(LogQuery(text="fresh", limit=100_000)).records) == 50 * len(
        written
    )
    oldest_left = store.search_logs(LogQuery(limit=1, end_ns=start + 5 * HOUR)).records
    assert not oldest_left or oldest_left[0]["time_ns"] > start  # the oldest went first
    store.close()


def test_the_hub_drops_spans_past_its_retention_while_taking_new_ones(tmp_path: Path) -> None:
    config = tmp_path / "hub.yaml"
    config.write_text("retention: 1h\nretention-interval: 200ms\n")
    with start_hub(tmp_path / "data", "--config", str(config)) as hub, hub.client() as client:
        old = spans_request("aged", 2)
        for span in old.resource_spans[0].scope_spans[0].spans:
            span.start_time_unix_nano -= 2 * HOUR
            span.end_time_unix_nano -= 2 * HOUR
        old_id = old.resource_spans[0].scope_spans[0].spans[0].trace_id.hex()
        assert (
            client.post("/v1/traces", content=old.SerializeToString(), headers=PROTOBUF).status_code
            == 200
        )
        fresh: list[str] = []

        def gone() -> bool:
            req = spans_request("aged", 1)
            client.post("/v1/traces", content=req.SerializeToString(), headers=PROTOBUF)
            fresh.append(req.resource_spans[0].scope_spans[0].spans[0].trace_id.hex())
            return client.get(f"/api/v1/traces/{old_id}").status_code == 404

        wait_for(gone, timeout=20, what="the old trace to be deleted")
        for tid in fresh:
            assert client.get(f"/api/v1/traces/{tid}").status_code == 200
        assert "hub_store_used_bytes" in client.get("/metrics").text
