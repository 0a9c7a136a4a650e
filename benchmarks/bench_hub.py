"""The hub: ingest end to end over HTTP, and query latency on a store of realistic size.

* **Ingest**: a real hub process (``python -m berrys_monitoring hub``) takes OTLP/HTTP
  protobuf requests of 512 spans (then 512 log records) from two client threads for
  ``BENCH_HUB_SECONDS`` (60 s by default, as issue 15 asks; 10 s with ``--quick``); every
  request must be acknowledged. The anchor is the same decoded rows submitted straight into
  the store in process: the ratio is what HTTP and decoding cost. The hub's peak RSS is
  read from ``/proc``.
* **Queries**: a store is filled directly with ``BENCH_HUB_SPANS`` spans (1,000,000 by
  default; 30-span traces over the last hour, 10 services, 2% errors, plus one trace of
  10,000 spans) and as many log records, then a hub serves it and each query of the
  issue's table runs 50 times over HTTP; the figure is the p95, against the issue's
  target.

Run alone: ``python -m benchmarks.bench_hub [--quick]``, or ``python -m benchmarks --only hub``.
"""

from __future__ import annotations

import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord, ResourceLogs, ScopeLogs
from opentelemetry.proto.resource.v1.resource_pb2 import Resource
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span

from benchmarks._harness import Comparison, serve
from benchmarks.http_apps._load import free_port

REPO = Path(__file__).resolve().parents[1]
BATCH = 512
SERVICES = [f"service-{i}" for i in range(10)]
WORDS = [
    "order",
    "payment",
    "user",
    "cart",
    "checkout",
    "inventory",
    "shipping",
    "refund",
    "login",
    "search",
]


def _kv(key: str, value: str) -> KeyValue:
    return KeyValue(key=key, value=AnyValue(string_value=value))


def span_request(rng: random.Random, now_ns: int, n: int = BATCH, trace_len: int = 30) -> bytes:
    """``n`` spans in traces of ``trace_len``: a server root and its children (trace ids
    start with ``TRACE_MARK``, so :func:`fresh_traces` can renew them cheaply)."""
    service = rng.choice(SERVICES)
    spans = []
    while len(spans) < n:
        tid = TRACE_MARK + rng.randbytes(12)
        root = rng.randbytes(8)
        start = now_ns - rng.randrange(3600 * 10**9)
        for i in range(min(trace_len, n - len(spans))):
            duration = rng.randrange(100_000, 50_000_000)
            span = Span(
                trace_id=tid,
                span_id=root if i == 0 else rng.randbytes(8),
                parent_span_id=b"" if i == 0 else root,
                name="GET /orders/{id}" if i == 0 else f"SELECT {rng.choice(WORDS)}",
                kind=Span.SPAN_KIND_SERVER if i == 0 else Span.SPAN_KIND_CLIENT,
                start_time_unix_nano=start + i * 1000,
                end_time_unix_nano=start + i * 1000 + duration,
                attributes=[_kv("http.route", "/orders/{id}"), _kv("db.system", "postgresql")],
            )
            if rng.random() < 0.02:
                span.status.code = 2
                span.status.message = "timeout"
            spans.append(span)
    request = ExportTraceServiceRequest(
        resource_spans=[
            ResourceSpans(
                resource=Resource(attributes=[_kv("service.name", service)]),
                scope_spans=[ScopeSpans(spans=spans)],
            )
        ]
    )
    return request.SerializeToString()


TRACE_MARK = b"\xbe\x77\x1e\x5a"


def fresh_traces(body: bytes) -> bytes:
    """``body`` with every trace id renewed: unique rows at the cost of a bytes replace per
    trace (a span's identity is its trace id and span id)."""
    out = body
    start = 0
    seen = set()
    while (i := body.find(TRACE_MARK, start)) >= 0:
        tid = body[i : i + 16]
        if tid not in seen:
            seen.add(tid)
            out = out.replace(tid, TRACE_MARK + os.urandom(12))
        start = i + 16
    return out


def log_request(rng: random.Random, now_ns: int, n: int = BATCH) -> bytes:
    service = rng.choice(SERVICES)
    records = []
    for _ in range(n):
        words = " ".join(rng.choice(WORDS) for _ in range(8))
        records.append(
            LogRecord(
                time_unix_nano=now_ns - rng.randrange(3600 * 10**9),
                severity_number=rng.choice((9, 9, 9, 13, 17)),
                body=AnyValue(string_value=f"{words} id={rng.randrange(10**6)}"),
                trace_id=rng.randbytes(16),
                span_id=rng.randbytes(8),
                attributes=[_kv("logger.name", "app")],
            )
        )
    request = ExportLogsServiceRequest(
        resource_logs=[
            ResourceLogs(
                resource=Resource(attributes=[_kv("service.name", service)]),
                scope_logs=[ScopeLogs(log_records=records)],
            )
        ]
    )
    return request.SerializeToString()


@contextmanager
def hub_process(data_dir: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    env.pop("BERRYS_MONITORING_STRICT", None)
    url = f"http://127.0.0.1:{port}"
    with serve(
        [
            sys.executable,
            "-m",
            "berrys_monitoring",
            "hub",
            "--port",
            str(port),
            "--grpc-port",
            "0",
            "--data-dir",
            str(data_dir),
            "--log-level",
            "warning",
        ],
        f"{url}/health",
        env=env,
        what="the hub",
    ) as proc:
        yield url, proc


def _peak_rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def ingest_over_http(url: str, path: str, bodies: list[bytes], seconds: float) -> float:
    """Items per second acknowledged by the hub, from two client threads."""
    done = [0]
    lock = threading.Lock()
    stop = time.monotonic() + seconds
    failures: list[str] = []

    def client(offset: int) -> None:
        headers = {"Content-Type": "application/x-protobuf"}
        with httpx.Client(timeout=60) as http:
            i = offset
            while time.monotonic() < stop:
                body = bodies[i % len(bodies)]
                if path == "/v1/traces":
                    body = fresh_traces(body)
                r = http.post(url + path, content=body, headers=headers)
                if r.status_code == 200:
                    with lock:
                        done[0] += BATCH
                elif r.status_code in (429, 503):
                    time.sleep(float(r.headers.get("Retry-After", "0.1")))
                else:
                    failures.append(f"{r.status_code} {r.text[:200]}")
                    return
                i += 2

    t0 = time.monotonic()
    threads = [threading.Thread(target=client, args=(k,)) for k in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if failures:
        raise RuntimeError(f"the hub refused a request: {failures[0]}")
    return done[0] / (time.monotonic() - t0)


def ingest_direct(kind: str, bodies: list[bytes], count: int) -> float:
    """Rows per second of the same requests decoded in process and submitted to the store."""
    from berrys_monitoring.hub.ingest._spans_logs import map_logs, map_traces
    from berrys_monitoring.hub.store import Batch, SQLiteStore

    with tempfile.TemporaryDirectory(prefix="bench-hub-direct-") as tmp:
        store = SQLiteStore(tmp)
        try:
            batches = []
            for i in range(count):
                body = bodies[i % len(bodies)]
                if kind == "spans":
                    body = fresh_traces(body)
                    request = ExportTraceServiceRequest.FromString(body)
                    batches.append(Batch(spans=map_traces(request).rows))
                else:
                    logs = ExportLogsServiceRequest.FromString(body)
                    batches.append(Batch(logs=map_logs(logs).rows))
            t0 = time.monotonic()
            pending = []
            for batch in batches:
                pending.append(store.submit(batch))
                if len(pending) > 6:
                    pending.pop(0).result()
            for f in pending:
                f.result()
            return count * BATCH / (time.monotonic() - t0)
        finally:
            store.close()


def fill_store(data_dir: Path, spans: int, rng: random.Random) -> bytes:
    """``spans`` spans and as many log records straight into a store; returns the id of a
    trace of 10,000 spans."""
    from berrys_monitoring.hub.ingest._spans_logs import map_logs, map_traces
    from berrys_monitoring.hub.store import Batch, SQLiteStore

    now = time.time_ns()
    store = SQLiteStore(data_dir, queue_size=8)
    try:
        pending = []
        for _ in range(max(1, spans // BATCH)):
            traces = map_traces(ExportTraceServiceRequest.FromString(span_request(rng, now)))
            logs = map_logs(ExportLogsServiceRequest.FromString(log_request(rng, now)))
            pending.append(store.submit(Batch(spans=traces.rows, logs=logs.rows)))
            if len(pending) > 6:
                pending.pop(0).result()
        big = map_traces(
            ExportTraceServiceRequest.FromString(span_request(rng, now, 10_000, 10_000))
        )
        store.submit(Batch(spans=big.rows)).result()
        for f in pending:
            f.result()
        return bytes(big.rows[0].trace_id)
    finally:
        store.close()


def _p95_ms(http: httpx.Client, path: str, params: dict[str, Any] | None = None) -> float:
    times = []
    for _ in range(50):
        t0 = time.perf_counter()
        r = http.get(path, params=params)
        times.append((time.perf_counter() - t0) * 1000)
        if r.status_code != 200:
            raise RuntimeError(f"{path}: {r.status_code} {r.text[:200]}")
    return statistics.quantiles(times, n=20)[18]


def run(quick: bool) -> list[Comparison]:
    rng = random.Random(42)
    seconds = float(os.environ.get("BENCH_HUB_SECONDS", "10" if quick else "60"))
    total_spans = int(os.environ.get("BENCH_HUB_SPANS", "50000" if quick else "1000000"))
    now = time.time_ns()
    span_bodies = [span_request(rng, now) for _ in range(64)]
    log_bodies = [log_request(rng, now) for _ in range(64)]
    rows: list[Comparison] = []
    with tempfile.TemporaryDirectory(prefix="bench-hub-") as tmp:
        with hub_process(Path(tmp) / "ingest") as (url, proc):
            spans_http = ingest_over_http(url, "/v1/traces", span_bodies, seconds)
            logs_http = ingest_over_http(url, "/v1/logs", log_bodies, seconds)
            rss = _peak_rss_mb(proc.pid)
        count = max(20, int(spans_http * 10 / BATCH))
        spans_direct = ingest_direct("spans", span_bodies, count)
        logs_direct = ingest_direct("logs", log_bodies, max(20, int(logs_http * 10 / BATCH)))
        rows += [
            Comparison(
                "hub", "ingest over HTTP, OTLP protobuf, 512 spans/request", spans_http,
                "the same rows straight into the store", spans_direct, unit="spans/s",
                higher_is_better=True,
                note=f"{seconds:g} s, 2 client threads; target ≥ 30,000/s: "
                f"{'met' if spans_http >= 30_000 else 'NOT met'}",
            ),
            Comparison(
                "hub", "ingest over HTTP, OTLP protobuf, 512 log records/request", logs_http,
                "the same rows straight into the store", logs_direct, unit="logs/s",
                higher_is_better=True,
                note=f"{seconds:g} s, 2 client threads; target ≥ 30,000/s: "
                f"{'met' if logs_http >= 30_000 else 'NOT met'}",
            ),
            Comparison(
                "hub", "peak RSS during sustained ingest", rss, "target 300 MB", 300.0,
                unit="MB", target=1.0,
            ),
        ]  # fmt: skip

        data = Path(tmp) / "queries"
        t0 = time.monotonic()
        big = fill_store(data, total_spans, rng)
        fill_s = time.monotonic() - t0
        with hub_process(data) as (url, _proc), httpx.Client(base_url=url, timeout=60) as http:
            some = http.get("/api/v1/traces", params={"limit": 1}).json()["traces"][0]
            small = some["trace_id"]
            queries = [
                ("trace by id, 30 spans", f"/api/v1/traces/{small}", None, 10.0),
                ("trace by id, 10,000 spans", f"/api/v1/traces/{big.hex()}", None, 100.0),
                (
                    "trace search: service + error + min duration, last hour, 20",
                    "/api/v1/traces",
                    {"service": "service-3", "status": "error", "min_duration": "10ms",
                     "start": f"{time.time() - 3600:.0f}", "limit": 20},
                    50.0,
                ),
                (
                    "log search: term + service + level, newest 100",
                    "/api/v1/logs",
                    {"q": "payment", "service": "service-3", "level": "warn", "limit": 100},
                    50.0,
                ),
                ("services overview", "/api/v1/services", None, 200.0),
            ]  # fmt: skip
            for name, path, params, target_ms in queries:
                p95 = _p95_ms(http, path, params)
                rows.append(
                    Comparison(
                        "hub",
                        f"{name}, p95",
                        p95,
                        f"target {target_ms:g} ms",
                        target_ms,
                        unit="ms",
                        target=1.0,
                        note=f"store of {total_spans:,} spans and as many logs "
                        f"(filled in {fill_s:.0f} s)",
                    )
                )
        size = sum(f.stat().st_size for f in data.iterdir() if f.is_file())
        rows.append(
            Comparison(
                "hub",
                "bytes on disk per span + log record pair",
                size / (total_spans + 10_000),
                "raw OTLP protobuf of the pair",
                (len(span_bodies[0]) + len(log_bodies[0])) / BATCH,
                unit="B",
            )
        )
    return rows


if __name__ == "__main__":
    from benchmarks.__main__ import main

    sys.exit(main(["--only", "hub", *sys.argv[1:]]))
