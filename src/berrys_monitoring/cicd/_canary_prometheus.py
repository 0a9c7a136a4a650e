"""Canary analysis from Prometheus instead of sampling: real traffic, both deployments told
apart by label selectors, judged as Kayenta does, on metric *time series*.

Every ``step`` seconds of the monitored range gives one point per side (e.g. the p95
latency over the preceding ``window``); the two sets of points go through the same
Mann-Whitney + effect-size judge as sampled requests. Error rates are judged on the request
and error counts over the whole range (Fisher exact test).
"""

from __future__ import annotations

import math

import httpx

from berrys_monitoring.cicd._judge import MetricVerdict, judge_continuous, judge_rate
from berrys_monitoring.cicd._prometheus import prometheus_query

__all__ = ["prometheus_range", "prometheus_verdicts"]

_DURATION = "http_request_duration_seconds"
_SIZE = "http_response_size_bytes"
_REQUESTS = "http_requests_total"


def prometheus_range(
    base_url: str, promql: str, *, start: float, end: float, step: float, timeout: float = 10.0
) -> list[float]:
    """The values of the first series of a range query (NaN points dropped).

    Example::

        values = prometheus_range("http://127.0.0.1:9090", "up", start=t0, end=t1, step=10)
    """
    resp = httpx.get(
        base_url.rstrip("/") + "/api/v1/query_range",
        params={"query": promql, "start": start, "end": end, "step": max(step, 0.001)},
        timeout=timeout,
    )
    body = resp.json()
    if resp.status_code != 200 or body.get("status") != "success":
        raise ValueError(f"Prometheus rejected {promql!r}: {body.get('error', resp.status_code)}")
    result = body["data"]["result"]
    if not result:
        return []
    values = [float(v) for _, v in result[0]["values"]]
    return [v for v in values if not math.isnan(v)]


def _sel(selector: str, extra: str = "") -> str:
    parts = [p for p in (selector.strip().strip("{}"), extra) if p]
    return "{" + ",".join(parts) + "}"


def prometheus_verdicts(
    base_url: str,
    selectors: dict[str, str],
    *,
    start: float,
    end: float,
    step: float,
    window: str = "30s",
    metrics: list[str],
    threshold: float,
    alpha: float = 0.05,
    min_samples: int = 20,
    max_error_increase: float = 0.01,
) -> list[MetricVerdict]:
    """One verdict per metric for ``selectors["canary"]`` against
    ``selectors["production"]`` over ``start..end``.

    Example::

        verdicts = prometheus_verdicts(
            "http://127.0.0.1:9090",
            {"canary": 'instance="10.0.0.7:8000"', "production": 'instance="10.0.0.5:8000"'},
            start=t0, end=t1, step=10, metrics=["latency", "error_rate"], threshold=1.2,
        )
    """
    out: list[MetricVerdict] = []
    span = max(1, round(end - start))
    for metric in metrics:
        try:
            v = _verdict(
                base_url, selectors, metric, start=start, end=end, step=step, window=window,
                span=span, threshold=threshold, alpha=alpha, min_samples=min_samples,
                max_error_increase=max_error_increase,
            )  # fmt: skip
        except (httpx.HTTPError, ValueError, KeyError) as exc:
            # An unreachable or erroring Prometheus is missing evidence, never a pass.
            v = MetricVerdict(metric, "no-data", f"Prometheus query failed: {exc}")
        out.append(v)
    return out


def _verdict(
    base_url: str,
    selectors: dict[str, str],
    metric: str,
    *,
    start: float,
    end: float,
    step: float,
    window: str,
    span: int,
    threshold: float,
    alpha: float,
    min_samples: int,
    max_error_increase: float,
) -> MetricVerdict:
    if metric in ("latency", "response_size"):
        name, scale, unit = (
            (_DURATION, 1000.0, " ms") if metric == "latency" else (_SIZE, 1.0, " B")
        )
        series = {}
        for side, sel in selectors.items():
            q = f"histogram_quantile(0.95, sum by (le) (rate({name}_bucket{_sel(sel)}[{window}])))"
            pts = prometheus_range(base_url, q, start=start, end=end, step=step)
            series[side] = [v * scale for v in pts]
        v = judge_continuous(
            metric,
            series["canary"],
            series["production"],
            threshold=threshold,
            alpha=alpha,
            min_samples=min_samples,
            unit=unit,
        )
        # Each point is one step's p95 over `window`: say so, these are not single requests.
        v.reason = f"p95 per {step:g}s point over {window} windows: {v.reason}"
    else:
        status = '"5.."' if metric == "error_rate" else '"4.."'
        counts = {}
        for side, sel in selectors.items():
            total = prometheus_query(base_url, f"sum(increase({_REQUESTS}{_sel(sel)}[{span}s]))")
            bad = prometheus_query(
                base_url,
                f"sum(increase({_REQUESTS}{_sel(sel, f'status=~{status}')}[{span}s]))",
            )
            counts[side] = (round(bad or 0), round(total or 0))
        v = judge_rate(
            metric,
            counts["canary"][0],
            counts["canary"][1],
            counts["production"][0],
            counts["production"][1],
            max_increase=max_error_increase,
            alpha=alpha,
            min_samples=min_samples,
        )
    if v.verdict == "no-data":
        v.reason += (
            " (Prometheus returned no series for "
            + ", ".join(f"{side} {_sel(sel)}" for side, sel in selectors.items())
            + ")"
        )
    return v
