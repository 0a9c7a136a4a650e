"""PromQL: dashboard queries on the hub against a real Prometheus over the same data.

24 hours of 60-second scrapes from ``BENCH_PROMQL_SERVICES`` services (20 by default,
5 with ``--quick``), each with 5 routes: request counters by status and classic latency
histograms of 12 buckets, plus a memory gauge. The same samples go into the hub's store
(directly) and into a real Prometheus (``promtool tsdb create-blocks-from openmetrics``);
then each query runs over HTTP against both, alternating, as a range query over the 24
hours at 60-second steps (or an instant query), and the p95 of each side is reported with
their ratio. Issue 16's targets: the ``histogram_quantile`` query at p95 ≤ 100 ms on the
hub, and within 3x of Prometheus.

Run alone: ``python -m benchmarks.bench_promql [--quick]``, or
``python -m benchmarks --only promql``.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import numpy as np

from benchmarks._harness import Comparison, serve
from benchmarks.bench_hub import hub_process
from benchmarks.http_apps._load import free_port

STEP_S = 60
POINTS = 24 * 60
ROUTES = ("/users/{id}", "/orders", "/orders/{id}", "/search", "/checkout")
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, float("inf"))
HIST_QUERY = (
    "histogram_quantile(0.95, sum by (le, route) (rate(http_request_duration_seconds_bucket[5m])))"
)
QUERIES = [  # (name, query, range?)
    ("p95 latency by route (issue 16's query)", HIST_QUERY, True),
    ("requests/s by service", "sum by (service) (rate(http_requests_total[5m]))", True),
    (
        "error ratio by service",
        'sum by (service) (rate(http_requests_total{status="500"}[5m])) '
        "/ sum by (service) (rate(http_requests_total[5m]))",
        True,
    ),
    ("top 5 routes by traffic", "topk(5, sum by (route) (rate(http_requests_total[5m])))", True),
    ("memory, 10m average", "avg_over_time(process_resident_memory_bytes[10m])", True),
    (
        "requests in the last 24 h by service (instant)",
        "sum by (service) (increase(http_requests_total[24h]))",
        False,
    ),
]

Series = tuple[dict[str, str], np.ndarray]


def history(services: int, end_s: int, seed: int = 16) -> tuple[np.ndarray, list[Series]]:
    """Millisecond timestamps and every series' values (counters cumulative)."""
    rng = np.random.default_rng(seed)
    times = (end_s - STEP_S * np.arange(POINTS)[::-1]) * 1000
    out: list[Series] = []
    for s in range(services):
        service = f"service-{s:02d}"
        base = {"job": service, "service": service, "instance": f"10.0.{s}.1:8000"}
        for r, route in enumerate(ROUTES):
            rate = 1.0 + 4.0 * rng.random()
            counts = rng.poisson(rate * STEP_S, POINTS)
            errors = rng.binomial(counts, 0.02)
            for status, per_step in (("200", counts - errors), ("500", errors)):
                labels = {"__name__": "http_requests_total", **base, "route": route,
                          "status": status}  # fmt: skip
                out.append((labels, np.cumsum(per_step).astype(np.float64)))
            # latency: log-normal around a per-route median, bucketed per step
            median = 0.02 * (1 + r)
            edges = np.array(BUCKETS[:-1])
            p = np.diff(np.concatenate(([0.0], _lognormal_cdf(edges, median, 0.8), [1.0])))
            per_bucket = rng.multinomial(counts, p)  # (POINTS, len(BUCKETS))
            cumulative = np.cumsum(np.cumsum(per_bucket, axis=1), axis=0).astype(np.float64)
            hist = {**base, "route": route}
            for b, bound in enumerate(BUCKETS):
                le = "+Inf" if bound == float("inf") else repr(bound)
                out.append(
                    ({"__name__": "http_request_duration_seconds_bucket", **hist, "le": le},
                     cumulative[:, b])
                )  # fmt: skip
            out.append(({"__name__": "http_request_duration_seconds_count", **hist},
                        cumulative[:, -1]))  # fmt: skip
            sums = np.cumsum(counts * median * 1.3)
            out.append(({"__name__": "http_request_duration_seconds_sum", **hist}, sums))
        memory = 2e8 + np.cumsum(rng.normal(0, 1e6, POINTS))
        out.append(({"__name__": "process_resident_memory_bytes", **base}, np.round(memory)))
    return times, out


def _lognormal_cdf(x: np.ndarray, median: float, sigma: float) -> np.ndarray:
    from math import erf, log, sqrt

    return np.array([0.5 * (1 + erf((log(v) - log(median)) / (sigma * sqrt(2)))) for v in x])


def write_openmetrics(path: Path, times: np.ndarray, series: list[Series]) -> None:
    stamps = [f"{t / 1000:.3f}" for t in times.tolist()]
    by_name: dict[str, list[Series]] = {}
    for labels, values in series:
        by_name.setdefault(labels["__name__"], []).append((labels, values))
    with path.open("w") as fh:
        for name, members in by_name.items():
            fh.write(f"# TYPE {name} unknown\n")
            for labels, values in members:
                text = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()) if k != "__name__")
                head = f"{name}{{{text}}} "
                fh.writelines(
                    f"{head}{v!r} {t}\n" for v, t in zip(values.tolist(), stamps, strict=True)
                )
        fh.write("# EOF\n")


def fill_hub(data_dir: Path, times: np.ndarray, series: list[Series]) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    from berrys_monitoring.hub.store import Batch, Sample, SQLiteStore

    store = SQLiteStore(data_dir)
    try:
        ts = times.tolist()
        batch: list[Sample] = []
        for labels, values in series:
            key = tuple(sorted(labels.items()))
            batch.extend(Sample(key, t, v) for t, v in zip(ts, values.tolist(), strict=True))
            if len(batch) >= 200_000:
                store.submit(Batch(samples=batch)).result(timeout=600)
                batch = []
        store.submit(Batch(samples=batch)).result(timeout=600)
    finally:
        store.close()


@contextmanager
def prometheus_process(data: Path) -> Iterator[str]:
    binary = shutil.which("prometheus")
    assert binary is not None
    port = free_port()
    config = data.parent / "prometheus.yml"
    config.write_text("scrape_configs: []\n")
    url = f"http://127.0.0.1:{port}"
    cmd = [binary, f"--config.file={config}", f"--storage.tsdb.path={data}",
           f"--web.listen-address=127.0.0.1:{port}", "--storage.tsdb.retention.time=100y",
           "--log.level=error"]  # fmt: skip
    with serve(cmd, f"{url}/-/ready", timeout=120, what="Prometheus"):
        yield url


def _timed(http: httpx.Client, url: str, path: str, params: dict[str, Any]) -> float:
    return _call(http, url, path, params)[0]


def _call(
    http: httpx.Client, url: str, path: str, params: dict[str, Any]
) -> tuple[float, dict[str, Any]]:
    t0 = time.perf_counter()
    r = http.post(url + path, data=params)
    elapsed = (time.perf_counter() - t0) * 1000
    body: dict[str, Any] = r.json()
    if body.get("status") != "success":
        raise RuntimeError(f"{url}{path} {params['query']}: {r.status_code} {r.text[:300]}")
    return elapsed, body["data"]


def _shape(data: dict[str, Any]) -> list[tuple[tuple[tuple[str, str], ...], int]]:
    """Each series' labels and number of points: what both sides must agree on for the
    timings to compare the same work."""
    out = []
    for s in data["result"]:
        points = len(s["values"]) if "values" in s else 1
        out.append((tuple(sorted(s["metric"].items())), points))
    return sorted(out)


def _p95(times: list[float]) -> float:
    return statistics.quantiles(times, n=20)[18] if len(times) >= 2 else times[0]


def run(quick: bool) -> list[Comparison]:
    services = int(os.environ.get("BENCH_PROMQL_SERVICES", "5" if quick else "20"))
    repeats = int(os.environ.get("BENCH_PROMQL_REPEATS", "10" if quick else "40"))
    rows: list[Comparison] = []
    promtool = shutil.which("promtool")
    have_prometheus = promtool is not None and shutil.which("prometheus") is not None
    end_s = (int(time.time()) // STEP_S) * STEP_S - 3600
    times, series = history(services, end_s)
    samples = len(series) * POINTS
    with tempfile.TemporaryDirectory(prefix="bench-promql-") as tmp:
        work = Path(tmp)
        t0 = time.monotonic()
        fill_hub(work / "hub", times, series)
        fill_s = time.monotonic() - t0
        if have_prometheus:
            assert promtool is not None
            write_openmetrics(work / "history.om", times, series)
            subprocess.run(
                [promtool, "tsdb", "create-blocks-from", "openmetrics",
                 str(work / "history.om"), str(work / "prom")],
                check=True, capture_output=True, timeout=3600,
            )  # fmt: skip
        start, end = float(times[0] / 1000), float(times[-1] / 1000)
        note = (
            f"{services} services, {len(series):,} series, {samples:,} samples "
            f"(hub filled in {fill_s:.0f} s); {repeats} runs each"
        )
        with hub_process(work / "hub") as (hub, _), httpx.Client(timeout=600) as http:
            prom_cm = prometheus_process(work / "prom") if have_prometheus else None
            prom = prom_cm.__enter__() if prom_cm is not None else None
            try:
                for name, query, ranged in QUERIES:
                    if ranged:
                        path = "/api/v1/query_range"
                        params = {"query": query, "start": repr(start), "end": repr(end),
                                  "step": str(STEP_S)}  # fmt: skip
                    else:
                        path, params = "/api/v1/query", {"query": query, "time": repr(end)}
                    ours: list[float] = []
                    theirs: list[float] = []
                    # warm both caches once, and check both answer the same series
                    _, mine = _call(http, hub, path, params)
                    if prom is not None:
                        _, want = _call(http, prom, path, params)
                        if _shape(mine) != _shape(want):
                            raise RuntimeError(f"the hub and Prometheus disagree on {query}")
                    for _ in range(repeats):
                        ours.append(_timed(http, hub, path, params))
                        if prom is not None:
                            theirs.append(_timed(http, prom, path, params))
                    label = f"{name}{', 24 h range at 60 s' if ranged else ''}, p95"
                    medians = f"; medians {statistics.median(ours):.0f} ms" + (
                        f" vs {statistics.median(theirs):.0f} ms" if theirs else ""
                    )
                    rows.append(
                        Comparison(
                            "promql", label, _p95(ours),
                            "Prometheus 2 (same data)" if theirs else None,
                            _p95(theirs) if theirs else None,
                            target=3.0 if theirs else None, unit="ms", note=note + medians,
                        )
                    )  # fmt: skip
                    if query == HIST_QUERY:
                        rows.append(
                            Comparison(
                                "promql", "p95 latency by route, hub p95 vs the 100 ms target",
                                _p95(ours), "target 100 ms", 100.0, target=1.0, unit="ms",
                                note=note,
                            )
                        )  # fmt: skip
            finally:
                if prom_cm is not None:
                    prom_cm.__exit__(None, None, None)
    return rows


if __name__ == "__main__":
    quick = "--quick" in sys.argv
    for row in run(quick):
        ratio = "-" if row.ratio is None else f"{row.ratio:.2f}x"
        anchor = "-" if row.anchor is None else f"{row.anchor:.1f}"
        print(f"{row.name:<70} {row.ours:>9.1f} {anchor:>9} {ratio:>7}  {row.note}")
