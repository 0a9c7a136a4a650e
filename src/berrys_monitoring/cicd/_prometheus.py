"""Read a deployment's request performance from a Prometheus server (PromQL over the HTTP
API) instead of driving load: verification against real traffic."""

from __future__ import annotations

import math
from typing import Any

import httpx

from berrys_monitoring.cicd._load import LoadSummary
from berrys_monitoring.health._masking import mask_url

__all__ = ["prometheus_query", "prometheus_summary"]

_DURATION = "http_request_duration_seconds"
_REQUESTS = "http_requests_total"


def prometheus_query(base_url: str, promql: str, *, timeout: float = 10.0) -> float | None:
    """The value of an instant PromQL query returning one scalar or one series; ``None``
    when it returns nothing or NaN (no traffic in the window).

    Example::

        value = prometheus_query("http://127.0.0.1:9090", 'sum(up{job="api"})')
    """
    resp = httpx.get(
        base_url.rstrip("/") + "/api/v1/query", params={"query": promql}, timeout=timeout
    )
    body = resp.json()
    if resp.status_code != 200 or body.get("status") != "success":
        raise ValueError(f"Prometheus rejected {promql!r}: {body.get('error', resp.status_code)}")
    data = body["data"]
    if data["resultType"] == "scalar":
        raw = data["result"][1]
    else:
        if not data["result"]:
            return None
        raw = data["result"][0]["value"][1]
    value = float(raw)
    return None if math.isnan(value) else value


def prometheus_summary(
    base_url: str, *, selector: str, window: str = "5m", timeout: float = 10.0
) -> tuple[LoadSummary, dict[str, Any]]:
    """p50/p95/p99 (``histogram_quantile`` over the request-duration buckets), throughput
    and 5xx error rate of the series matching ``selector`` over ``window``."""
    sel = selector.strip().strip("{}")
    queries = {
        q: f"histogram_quantile({q / 100}, sum by (le) (rate({_DURATION}_bucket{{{sel}}}[{window}])))"
        for q in (50, 95, 99)
    }
    rate_q = f"sum(rate({_REQUESTS}{{{sel}}}[{window}]))"
    err_sel = f'{sel},status=~"5.."' if sel else 'status=~"5.."'
    err_q = f"sum(rate({_REQUESTS}{{{err_sel}}}[{window}]))"
    count_q = f"sum(increase({_REQUESTS}{{{sel}}}[{window}]))"
    details: dict[str, Any] = {
        "prometheus": mask_url(base_url),
        "selector": sel,
        "window": window,
        "queries": {**{f"p{q}": v for q, v in queries.items()}, "rate": rate_q, "errors": err_q},
    }
    try:
        pct = {q: prometheus_query(base_url, v, timeout=timeout) for q, v in queries.items()}
        rps = prometheus_query(base_url, rate_q, timeout=timeout) or 0.0
        errs = prometheus_query(base_url, err_q, timeout=timeout) or 0.0
        count = prometheus_query(base_url, count_q, timeout=timeout) or 0.0
    except (httpx.HTTPError, ValueError, KeyError) as exc:
        details["error"] = f"{type(exc).__name__}: {exc}"
        pct, rps, errs, count = {50: None, 95: None, 99: None}, 0.0, 0.0, 0.0

    def ms(v: float | None) -> float | None:
        return None if v is None else v * 1000

    summary = LoadSummary(
        requests=round(count),
        errors=round(count * errs / rps) if rps else 0,
        error_rate=errs / rps if rps else 0.0,
        p50_ms=ms(pct[50]),
        p95_ms=ms(pct[95]),
        p99_ms=ms(pct[99]),
        mean_ms=None,
        throughput_rps=rps,
    )
    return summary, details
