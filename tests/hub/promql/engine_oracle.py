"""Synthetic metric data loaded both into a real Prometheus (through ``promtool tsdb
create-blocks-from openmetrics``) and into the hub's store, and a comparison of the two
engines' answers to the same queries."""

from __future__ import annotations

import contextlib
import math
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import numpy as np
from tests.support.servers import free_port, require_binary, run_server

from berrys_monitoring.hub.promql import Engine, PromQLError
from berrys_monitoring.hub.store import Batch, Sample, SQLiteStore

STEP_S = 15
SPAN_S = 2 * 3600
BUCKETS = ("0.05", "0.1", "0.25", "0.5", "1", "+Inf")

Labels = tuple[tuple[str, str], ...]


@dataclass
class Dataset:
    t0: int  # first sample, Unix seconds
    series: dict[Labels, list[tuple[int, float]]]  # (ms, value)


def _labels(name: str, **kw: str) -> Labels:
    return tuple(sorted({"__name__": name, **kw}.items()))


def build_dataset(t0: int, seed: int = 7) -> Dataset:
    """Counters with resets and gaps, gauges with NaN and infinities, classic
    histograms (one with a bucket that goes down), jittered scrapes."""
    rng = np.random.default_rng(seed)
    n = SPAN_S // STEP_S
    grid = t0 * 1000 + np.arange(n) * STEP_S * 1000
    out: dict[Labels, list[tuple[int, float]]] = {}

    def put(lab: Labels, ts: np.ndarray, vs: np.ndarray) -> None:
        out[lab] = [(int(t), float(v)) for t, v in zip(ts, vs, strict=True)]

    for inst in ("a", "b"):
        for method in ("get", "post"):
            inc = rng.integers(0, 20, n).astype(float)
            vals = np.cumsum(inc)
            if inst == "a" and method == "get":  # two counter resets
                vals[100:] -= vals[99] - 3
                vals[300:] -= vals[299] - 1
            ts = grid.copy()
            keep = np.ones(n, dtype=bool)
            if inst == "b" and method == "post":  # a 12-minute gap in scraping
                keep[200:248] = False
            if inst == "b" and method == "get":  # jittered scrape times
                ts = ts + rng.integers(-3000, 3000, n)
            lab = _labels("http_requests_total", job="api", instance=inst, method=method)
            put(lab, ts[keep], vals[keep])
    for room in ("kitchen", "hall", "attic"):
        vals = np.round(rng.normal(20, 5, n), 3)
        if room == "attic":
            vals[50] = float("nan")
            vals[51] = float("inf")
            vals[200] = float("-inf")
            vals[201:205] = float("nan")
        put(_labels("temperature_celsius", room=room, job="sensors"), grid, vals)
    put(_labels("build_info", job="api", version="1.2.3"), grid, np.ones(n))
    put(_labels("build_info", job="sensors", version="0.9"), grid, np.ones(n))
    put(_labels("gap_a", x="1"), grid[: n // 2], np.arange(n // 2, dtype=float))
    put(_labels("gap_b", x="1"), grid[n // 2 :], np.arange(n - n // 2, dtype=float))
    put(_labels("ends_early", job="api"), grid[: n // 3], rng.normal(5, 1, n // 3))
    for route, mean in (("/a", 0.1), ("/b", 0.4)):
        obs = rng.exponential(mean, (n, 30))
        total = np.zeros(n)
        for le in BUCKETS:
            bound = float(le)
            counts = np.cumsum((obs <= bound).sum(axis=1)).astype(float)
            if route == "/b" and le == "0.25":
                counts[150:] -= 5  # a non-monotonic bucket that histogram_quantile repairs
            put(
                _labels("http_request_duration_seconds_bucket", job="api", route=route, le=le),
                grid,
                counts,
            )
            total = counts
        put(_labels("http_request_duration_seconds_count", job="api", route=route), grid, total)
        put(
            _labels("http_request_duration_seconds_sum", job="api", route=route),
            grid,
            np.cumsum(obs.sum(axis=1)),
        )
    return Dataset(t0, out)


def _om_value(v: float) -> str:
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "+Inf" if v > 0 else "-Inf"
    return repr(v)


def to_openmetrics(ds: Dataset) -> str:
    families: dict[str, list[Labels]] = {}
    for lab in ds.series:
        families.setdefault(dict(lab)["__name__"], []).append(lab)
    lines = []
    for name, members in families.items():
        lines.append(f"# TYPE {name} unknown")
        for lab in members:
            inner = ",".join(f'{k}="{v}"' for k, v in lab if k != "__name__")
            for t, v in ds.series[lab]:
                lines.append(f"{name}{{{inner}}} {_om_value(v)} {t / 1000:.3f}")
    lines.append("# EOF")
    return "\n".join(lines) + "\n"


def load_store(store: SQLiteStore, ds: Dataset) -> None:
    samples = [Sample(lab, t, v) for lab, points in ds.series.items() for t, v in points]
    store.submit(Batch(samples=samples)).result(60)


@contextlib.contextmanager
def real_prometheus(ds: Dataset) -> Iterator[str]:
    """A Prometheus serving ``ds`` from blocks built by promtool; yields its API URL."""
    prometheus = require_binary("prometheus", "apt-get install prometheus")
    promtool = require_binary("promtool", "apt-get install prometheus")
    with tempfile.TemporaryDirectory() as tmp:
        om = Path(tmp) / "data.om"
        om.write_text(to_openmetrics(ds))
        data = Path(tmp) / "tsdb"
        subprocess.run(
            [promtool, "tsdb", "create-blocks-from", "openmetrics", str(om), str(data)],
            check=True,
            capture_output=True,
            timeout=300,
        )
        cfg = Path(tmp) / "prometheus.yml"
        cfg.write_text("global:\n  evaluation_interval: 1m\n  scrape_interval: 1m\n")
        port = free_port()
        cmd = [
            prometheus,
            f"--config.file={cfg}",
            f"--storage.tsdb.path={data}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--storage.tsdb.retention.time=3650d",
            "--query.lookback-delta=5m",
        ]
        with run_server(cmd, ready_url=f"http://127.0.0.1:{port}/-/ready", timeout=90):
            url = f"http://127.0.0.1:{port}/api/v1"
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                r = httpx.get(
                    f"{url}/query", params={"query": "count(build_info)", "time": ds.t0 + 60}
                )
                if r.status_code == 200 and r.json()["data"]["result"]:
                    break
                time.sleep(0.2)
            yield url


# -- comparing answers --------------------------------------------------------------------


def _num(s: str) -> float:
    return float(s.replace("+Inf", "inf").replace("-Inf", "-inf"))


def _close(a: str, b: str, tol: float = 1e-6) -> bool:
    x, y = _num(a), _num(b)
    if math.isnan(x) or math.isnan(y):
        return math.isnan(x) and math.isnan(y)
    if math.isinf(x) or math.isinf(y):
        return x == y
    return abs(x - y) <= tol * max(abs(x), abs(y), 1e-12) or abs(x - y) < 1e-12


def _key(metric: dict[str, str]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(metric.items()))


def compare_data(query: str, want: dict[str, Any], got: dict[str, Any], ordered: bool) -> list[str]:
    """Differences between Prometheus's ``data`` and the engine's, as messages."""
    if want["resultType"] != got["resultType"]:
        return [f"{query}: result type {got['resultType']} != {want['resultType']}"]
    kind = want["resultType"]
    if kind in ("scalar", "string"):
        w, g = want["result"], got["result"]
        ok = abs(w[0] - g[0]) < 1e-9 and (w[1] == g[1] if kind == "string" else _close(w[1], g[1]))
        return [] if ok else [f"{query}: {g} != {w}"]
    field = "value" if kind == "vector" else "values"
    wm = {_key(r["metric"]): r[field] for r in want["result"]}
    gm = {_key(r["metric"]): r[field] for r in got["result"]}
    errors = []
    if set(wm) != set(gm):
        errors.append(
            f"{query}: series differ; missing {sorted(set(wm) - set(gm))[:3]} "
            f"extra {sorted(set(gm) - set(wm))[:3]}"
        )
    if ordered and kind == "vector":
        wo = [_key(r["metric"]) for r in want["result"]]
        go = [_key(r["metric"]) for r in got["result"]]
        if wo != go:
            errors.append(f"{query}: order {go} != {wo}")
    for k in set(wm) & set(gm):
        w, g = wm[k], gm[k]
        if kind == "vector":
            w, g = [w], [g]
        if len(w) != len(g) or any(
            abs(a[0] - b[0]) > 1e-9 or not _close(a[1], b[1]) for a, b in zip(w, g, strict=True)
        ):
            wt = {p[0]: p[1] for p in w}
            gt = {p[0]: p[1] for p in g}
            diff = [
                (t, gt.get(t), wt.get(t))
                for t in sorted(set(wt) | set(gt))
                if t not in wt or t not in gt or not _close(wt[t], gt[t])
            ]
            errors.append(
                f"{query} {dict(k)}: {len(diff)} points differ (t, got, want): {diff[:4]}"
            )
    return errors


def _prom(url: str, path: str, params: dict[str, Any]) -> dict[str, Any]:
    r = httpx.get(f"{url}/{path}", params=params, timeout=60)
    body: dict[str, Any] = r.json()
    return body


def compare(
    url: str,
    engine: Engine,
    query: str,
    *,
    time_s: float | None = None,
    start_s: float | None = None,
    end_s: float | None = None,
    step_s: float | None = None,
) -> list[str]:
    """Run ``query`` on both; an empty list when they agree (errors agree on their type)."""
    if time_s is not None:
        want = _prom(url, "query", {"query": query, "time": time_s})
        call = lambda: engine.instant_query(query, time_s)  # noqa: E731
        where = f"@{time_s}"
    else:
        want = _prom(
            url, "query_range", {"query": query, "start": start_s, "end": end_s, "step": step_s}
        )
        call = lambda: engine.range_query(query, start_s, end_s, step_s)  # type: ignore[arg-type]  # noqa: E731
        where = f"[{start_s}..{end_s}/{step_s}]"
    try:
        got = call().data
    except PromQLError as e:
        if want["status"] == "error" and want["errorType"] == e.error_type:
            return []
        return [
            f"{query} {where}: engine raised {e.error_type}: {e}; prometheus: {want.get('error') or 'success'}"
        ]
    if want["status"] == "error":
        return [
            f"{query} {where}: prometheus failed ({want['errorType']}: {want['error']}), engine answered"
        ]
    ordered = query.startswith("sort")
    return [f"{m} {where}" for m in compare_data(query, want["data"], got, ordered)]
