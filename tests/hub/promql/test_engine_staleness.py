"""Staleness against a real Prometheus: it scrapes a target whose series vanish and whose
scrapes fail, writing its stale markers; the store gets the same samples, with the
markers where Prometheus wrote them, and both engines must answer alike."""

from __future__ import annotations

import itertools
import math
import struct
import tempfile
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.hub.promql.engine_oracle import compare
from tests.support.servers import free_port, require_binary, run_server, wait_for

from berrys_monitoring.hub.promql import Engine
from berrys_monitoring.hub.store import Batch, Sample, SQLiteStore

STALE = struct.unpack("<d", struct.pack("<Q", 0x7FF0000000000002))[0]


class _Target(BaseHTTPRequestHandler):
    phase = "both"  # "both", "kept" (gone vanished), "fail" (scrapes fail)
    count = 0

    def do_GET(self) -> None:
        cls = type(self)
        if cls.phase == "fail":
            self.send_response(500)
            self.end_headers()
            return
        cls.count += 1
        body = f'kept{{a="1"}} {cls.count}\n'
        if cls.phase == "both":
            body += f'gone{{a="1"}} {cls.count * 2}\n'
        data = body.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        pass


def _raw(api: str, selector: str, at: float) -> list[tuple[dict[str, str], list[list[Any]]]]:
    r = httpx.get(f"{api}/query", params={"query": f"{selector}[10m]", "time": at})
    return [(s["metric"], s["values"]) for s in r.json()["data"]["result"]]


Scraped = tuple[str, Engine, float, float, int]


@pytest.fixture(scope="module")
def scraped() -> Iterator[Scraped]:
    prometheus = require_binary("prometheus", "apt-get install prometheus")
    target = ThreadingHTTPServer(("127.0.0.1", 0), _Target)
    threading.Thread(target=target.serve_forever, daemon=True).start()
    with tempfile.TemporaryDirectory() as tmp:
        cfg = Path(tmp) / "prometheus.yml"
        cfg.write_text(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
            "scrape_configs:\n  - job_name: t\n    static_configs:\n"
            f"      - targets: ['127.0.0.1:{target.server_address[1]}']\n"
        )
        port = free_port()
        cmd = [
            prometheus,
            f"--config.file={cfg}",
            f"--storage.tsdb.path={tmp}/data",
            f"--web.listen-address=127.0.0.1:{port}",
        ]
        with run_server(cmd, ready_url=f"http://127.0.0.1:{port}/-/ready", timeout=90):
            api = f"http://127.0.0.1:{port}/api/v1"
            start = time.time()
            wait_for(lambda: _Target.count >= 5, timeout=60, what="five scrapes")
            _Target.phase = "kept"
            n = _Target.count
            wait_for(lambda: _Target.count >= n + 4, timeout=60, what="scrapes without gone")
            _Target.phase = "fail"
            time.sleep(3.5)
            _Target.phase = "both"
            n = _Target.count
            wait_for(lambda: _Target.count >= n + 4, timeout=60, what="scrapes after failing")
            time.sleep(1.5)
            end = time.time()
            ups = _raw(api, "up", end)[0][1]
            up_times = [round(float(t) * 1000) for t, _ in ups]
            samples: list[Sample] = []
            for selector in ("up", "kept", "gone"):
                for metric, values in _raw(api, selector, end):
                    labels = tuple(sorted(metric.items()))
                    have = {round(float(t) * 1000): float(v) for t, v in values}
                    samples += [Sample(labels, t, v) for t, v in have.items()]
                    # Prometheus marks a series stale at the first scrape that misses it
                    for prev, cur in itertools.pairwise(up_times):
                        if prev in have and cur not in have:
                            samples.append(Sample(labels, cur, STALE))
            samples.sort(key=lambda s: s.timestamp_ms)
            store = SQLiteStore(Path(tmp) / "store")
            store.submit(Batch(samples=samples)).result()
            try:
                yield api, Engine(store), start, end, sum(s.value is STALE for s in samples)
            finally:
                store.close()
    target.shutdown()


QUERIES = [
    "gone",
    "kept",
    "up",
    "kept offset 2s",
    "count_over_time(gone[3s])",
    "last_over_time(kept[2s])",
    "absent(gone)",
    "gone + on(a) kept",
    "changes(kept[5s])",
]


@pytest.mark.parametrize("query", QUERIES)
def test_stale_markers_end_series_as_in_prometheus(scraped: Scraped, query: str) -> None:
    api, engine, start, end, _ = scraped
    errors = compare(
        api, engine, query, start_s=math.floor(start), end_s=math.floor(end), step_s=0.5
    )
    t = start
    while t < end:
        errors += compare(api, engine, query, time_s=round(t, 3))
        t += 0.7
    assert not errors, "\n".join(errors[:10])


def test_the_scenario_has_series_ending_long_before_the_lookback(scraped: Scraped) -> None:
    _, engine, start, end, markers = scraped
    assert markers >= 2  # gone when it vanished, kept when its scrapes failed
    got = engine.range_query("gone", math.floor(start), math.floor(end), 0.5).data["result"]
    steps = int((math.floor(end) - math.floor(start)) / 0.5) + 1
    seen = len(got[0]["values"])
    assert 5 <= seen < steps - 8  # absent for seconds, where the lookback alone keeps 5 min
