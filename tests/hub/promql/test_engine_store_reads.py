"""The store's bulk reads for the engine stay exact while heads close, chunks are cached
and retention deletes: a cache must never answer with samples that changed."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from berrys_monitoring.hub.promql import Engine
from berrys_monitoring.hub.store import Batch, Sample, SQLiteStore

A = (("__name__", "a"), ("k", "1"))
B = (("__name__", "b"), ("k", "2"))


def test_bulk_reads_match_what_was_written_as_chunks_close(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path, head_max_samples=10)
    rng = np.random.default_rng(3)
    written: dict[tuple[tuple[str, str], ...], list[tuple[int, float]]] = {A: [], B: []}
    t = 0
    try:
        for _ in range(12):
            batch = []
            for _ in range(7):
                t += int(rng.integers(1, 5)) * 1000
                for labels in (A, B):
                    v = float(rng.normal())
                    batch.append(Sample(labels, t, v))
                    written[labels].append((t, v))
            store.submit(Batch(samples=batch)).result()
            ids = {labels: sid for sid, labels in store.metric_series(None, None, None)}
            for lo, hi in ((0, t), (t // 3, t), (t // 2, t // 2 + 20_000), (t - 5000, t)):
                for _ in range(2):  # the second read comes from the caches
                    got = store.metric_samples([ids[A], ids[B]], lo, hi)
                    for labels in (A, B):
                        want = [(ts, v) for ts, v in written[labels] if lo <= ts <= hi]
                        ts, vs = got.get(ids[labels], (np.array([]), np.array([])))
                        assert list(zip(ts.tolist(), vs.tolist(), strict=True)) == want
        engine = Engine(store)
        result = engine.instant_query("count_over_time(a[1h])", t / 1000).data["result"]
        assert result[0]["value"][1] == str(len(written[A]))
    finally:
        store.close()


def test_bulk_reads_forget_what_retention_deleted(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path, head_max_samples=10)
    try:
        store.submit(Batch(samples=[Sample(A, t * 1000, float(t)) for t in range(100)])).result()
        (sid,) = [sid for sid, _ in store.metric_series("a", None, None)]
        before = store.metric_samples([sid], 0, 100_000)[sid][0]
        assert before.size == 100
        while store.enforce_retention(max_age_ns=1, max_bytes=None, now_ns=50 * 10**9).result():
            pass
        after = store.metric_samples([sid], 0, 100_000)[sid][0]
        assert after.min() >= 40_000  # whole closed chunks older than 50 s are gone
        assert after.size < 100
        assert after.tolist() == list(range(after[0], 100_000, 1000))
    finally:
        store.close()
