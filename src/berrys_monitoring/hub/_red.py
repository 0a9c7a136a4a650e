"""Each service's RED figures and health, read from its scraped metrics through PromQL.

``GET /api/v1/services`` joins these to what the store knows of every service. The figures
come from the same queries a Prometheus user would write, run on the hub's metric backend
(its own store, or the remote Prometheus of ``--prometheus-url``), so the list and the
dashboard's charts never disagree. A service is its scrape ``job``.
"""

from __future__ import annotations

import logging
import math
from typing import Any

from berrys_monitoring.hub.promql import PromQLError, QueryBackend

__all__ = ["service_figures"]

log = logging.getLogger("berrys_monitoring.hub")

_RED = {
    "request_rate": "sum by (job) (rate(http_requests_total[{w}]))",
    "error_rate": 'sum by (job) (rate(http_requests_total{{status=~"5.."}}[{w}]))'
    " / sum by (job) (rate(http_requests_total[{w}]))",
    "p50_seconds": "histogram_quantile(0.5, sum by (job, le) "
    "(rate(http_request_duration_seconds_bucket[{w}])))",
    "p95_seconds": "histogram_quantile(0.95, sum by (job, le) "
    "(rate(http_request_duration_seconds_bucket[{w}])))",
    "p99_seconds": "histogram_quantile(0.99, sum by (job, le) "
    "(rate(http_request_duration_seconds_bucket[{w}])))",
}
_HEALTH = "min by (job) (berrys_health_status)"
_STATUS = {1.0: "pass", 0.5: "warn", 0.0: "fail"}
_HISTORY_S = 24 * 3600.0  # how far back "healthy since" looks
_HISTORY_STEP_S = 15.0


def _number(text: str) -> float | None:
    value = float(text)
    return None if math.isnan(value) else value


def _by_job(backend: QueryBackend, query: str, now_s: float) -> dict[str, float | None]:
    result = backend.instant_query(query, now_s).data
    if result.get("resultType") != "vector":
        return {}
    return {
        str(item["metric"].get("job", "")): _number(item["value"][1])
        for item in result["result"]
        if item["metric"].get("job")
    }


def _health(backend: QueryBackend, now_s: float) -> dict[str, dict[str, Any]]:
    """Each job's current health status and since when it has held it (to the step)."""
    result = backend.range_query(_HEALTH, now_s - _HISTORY_S, now_s, _HISTORY_STEP_S).data
    out: dict[str, dict[str, Any]] = {}
    for item in result.get("result", []):
        job = item["metric"].get("job")
        points = [(float(t), float(v)) for t, v in item["values"]]
        if not job or not points:
            continue
        last_t, last_v = points[-1]
        if now_s - last_t > 2 * _HISTORY_STEP_S + 300:  # no recent probe: unknown
            continue
        since = last_t
        for t, v in reversed(points):
            if v != last_v:
                break
            since = t
        out[job] = {
            "status": _STATUS.get(last_v, "unknown"),
            # the first step it held that status; at the window's start when it always did
            "since": since,
        }
    return out


def service_figures(backend: QueryBackend, now_s: float, window: str = "5m") -> dict[str, Any]:
    """RED figures over ``window`` and health per service (scrape job), at ``now_s``.

    A query that fails (no such metric yet, a remote Prometheus down) leaves its figure
    out; the service list itself never fails because of it.

    Example::

        >>> import tempfile
        >>> from berrys_monitoring.hub.store import SQLiteStore
        >>> from berrys_monitoring.hub.promql import Engine
        >>> store = SQLiteStore(tempfile.mkdtemp())
        >>> service_figures(Engine(store), 1_700_000_000.0)
        {}
        >>> store.close()
    """
    figures: dict[str, dict[str, Any]] = {}
    for key, template in _RED.items():
        try:
            values = _by_job(backend, template.format(w=window), now_s)
        except (PromQLError, OSError, ValueError, KeyError) as exc:
            log.debug("service figure %s unavailable: %s", key, exc)
            continue
        for job, value in values.items():
            figures.setdefault(job, {})[key] = value
    try:
        health = _health(backend, now_s)
    except (PromQLError, OSError, ValueError, KeyError) as exc:
        log.debug("service health unavailable: %s", exc)
        health = {}
    for job, state in health.items():
        figures.setdefault(job, {})["health"] = state
    return figures
