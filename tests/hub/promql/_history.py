"""A deterministic synthetic metric history, written both as OpenMetrics (for
``promtool tsdb create-blocks-from openmetrics``) and as the hub's samples, so that a real
Prometheus and the hub hold exactly the same data.

Two hours of 15-second scrapes from two jobs of two instances: request counters with
resets, classic histograms (buckets reset together), gauges with negatives, NaN and huge
values, Unix-time gauges for the date functions, an info metric for joins, a series that
ends half way and one that starts late.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator

from berrys_monitoring.hub.store import Sample

BASE = 1_700_000_000  # 2023-11-14T22:13:20Z; fixed, so every run sees the same data
STEP = 15
POINTS = 480  # two hours
END = BASE + STEP * (POINTS - 1)
JOBS = ("api", "worker")
INSTANCES = ("10.0.0.1:8000", "10.0.0.2:8000")
ROUTES = ("/users", "/orders", "/health")
BUCKETS = ("0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "+Inf")

Series = tuple[dict[str, str], list[tuple[int, float]]]


def _times(rng: random.Random, start: int = 0, stop: int = POINTS) -> list[int]:
    """Scrape times in ms: every 15 s with a per-series offset and a little jitter."""
    offset = rng.randrange(0, 5000)
    return [(BASE + i * STEP) * 1000 + offset + rng.randrange(0, 40) for i in range(start, stop)]


def _counter(rng: random.Random, times: list[int], rate: float, resets: int) -> list[float]:
    at = set(rng.sample(range(20, len(times)), resets))
    value, out = rng.uniform(0, 50), []
    for i in range(len(times)):
        value = 0.0 if i in at else value + rng.expovariate(1 / rate) * STEP
        out.append(round(value, 3))
    return out


def history() -> list[Series]:
    rng = random.Random(16)
    out: list[Series] = []
    for job in JOBS:
        for instance in INSTANCES:
            base = {"job": job, "instance": instance}
            times = _times(rng)
            out.append(({"__name__": "up", **base}, [(t, 1.0) for t in times]))
            resets = 1 if instance.startswith("10.0.0.2") else 0
            for route in ROUTES:
                for status in ("200", "500"):
                    rate = (3.0 if status == "200" else 0.2) * (1 + ROUTES.index(route))
                    t = _times(rng)
                    labels = {"__name__": "http_requests_total", **base, "route": route,
                              "status": status}  # fmt: skip
                    out.append((labels, list(zip(t, _counter(rng, t, rate, resets), strict=True))))
                t = _times(rng)
                reset_at = set(rng.sample(range(20, POINTS), resets))
                counts = [0.0] * len(BUCKETS)
                total = 0.0
                rows: list[list[float]] = []
                sums: list[float] = []
                for i in range(POINTS):
                    if i in reset_at:
                        counts, total = [0.0] * len(BUCKETS), 0.0
                    for _ in range(rng.randrange(0, 30)):
                        latency = rng.lognormvariate(math.log(0.08 * (1 + ROUTES.index(route))), 1)
                        total += latency
                        for b, bound in enumerate(BUCKETS):
                            if latency <= float(bound):
                                counts[b] += 1
                    rows.append(list(counts))
                    sums.append(round(total, 6))
                hist = {**base, "route": route}
                for b, bound in enumerate(BUCKETS):
                    labels = {
                        "__name__": "http_request_duration_seconds_bucket",
                        **hist,
                        "le": bound,
                    }
                    out.append((labels, [(t[i], rows[i][b]) for i in range(POINTS)]))
                out.append(({"__name__": "http_request_duration_seconds_sum", **hist},
                            list(zip(t, sums, strict=True))))  # fmt: skip
                out.append(({"__name__": "http_request_duration_seconds_count", **hist},
                            [(t[i], rows[i][-1]) for i in range(POINTS)]))  # fmt: skip
            t = _times(rng)
            memory = [2e8 + 1e6 * i + rng.uniform(-5e6, 5e6) for i in range(POINTS)]
            out.append(({"__name__": "process_resident_memory_bytes", **base},
                        [(a, round(b)) for a, b in zip(t, memory, strict=True)]))  # fmt: skip
            for queue in ("email", "sms"):
                t = _times(rng)
                depth = [float(rng.randrange(0, 40)) for _ in t]
                out.append(({"__name__": "queue_depth", **base, "queue": queue},
                            list(zip(t, depth, strict=True))))  # fmt: skip
            for sensor in ("cpu", "ambient"):
                t = _times(rng)
                temps = [round(rng.uniform(-15, 85), 2) for _ in t]
                if sensor == "ambient":
                    temps[100] = math.nan  # a failed reading
                out.append(({"__name__": "temperature_celsius", **base, "sensor": sensor},
                            list(zip(t, temps, strict=True))))  # fmt: skip
            t = _times(rng)
            boot = float(BASE - 86400 * (1 + JOBS.index(job)) - 3600 * INSTANCES.index(instance))
            out.append(({"__name__": "node_boot_time_seconds", **base}, [(x, boot) for x in t]))
            t = _times(rng)
            last = [float(BASE + STEP * (i - i % 20)) for i in range(POINTS)]
            out.append(({"__name__": "batch_last_success_timestamp_seconds", **base},
                        list(zip(t, last, strict=True))))  # fmt: skip
            t = _times(rng)
            version = "1.4.2" if job == "api" else "0.9.0"
            info = {"__name__": "build_info", **base, "version": version, "team": "core-" + job}
            out.append((info, [(x, 1.0) for x in t]))
        # a series that ends half way, and one that starts late
        t = _times(rng, 0, POINTS // 2)
        out.append(({"__name__": "vanishing_total", "job": job},
                    list(zip(t, _counter(rng, t, 1.0, 0), strict=True))))  # fmt: skip
        t = _times(rng, POINTS * 3 // 4, POINTS)
        out.append(({"__name__": "late_gauge", "job": job}, [(x, 1e300) for x in t]))
    return out


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _number(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return repr(value)


def openmetrics(series: list[Series]) -> str:
    """The history as OpenMetrics text: one ``unknown`` family per metric name."""
    by_name: dict[str, list[Series]] = {}
    for labels, points in series:
        by_name.setdefault(labels["__name__"], []).append((labels, points))
    lines: list[str] = []
    for name, members in by_name.items():
        lines.append(f"# TYPE {name} unknown")
        for labels, points in members:
            text = ",".join(
                f'{k}="{_escape(v)}"' for k, v in sorted(labels.items()) if k != "__name__"
            )
            head = f"{name}{{{text}}}" if text else name
            lines.extend(f"{head} {_number(v)} {t / 1000:.3f}" for t, v in points)
    lines.append("# EOF")
    return "\n".join(lines) + "\n"


def samples(series: list[Series]) -> Iterator[Sample]:
    """The history as the hub's samples."""
    for labels, points in series:
        key = tuple(sorted(labels.items()))
        for t, v in points:
            yield Sample(key, t, v)
