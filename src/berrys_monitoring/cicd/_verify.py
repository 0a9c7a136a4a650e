"""``verify``: is this deployment healthy, exposing its metrics, and fast enough?"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from berrys_monitoring.cicd._checks import check_health, check_metrics
from berrys_monitoring.cicd._load import LoadSummary, Sample, run_load, summarize
from berrys_monitoring.cicd._progress import ProgressDisplay
from berrys_monitoring.cicd._report import CheckResult, Report
from berrys_monitoring.health._masking import mask_url

__all__ = ["DEFAULT_REQUIRED_METRICS", "validate_url", "verify_deployment"]

#: The request metrics ``setup_monitoring`` exposes (FastAPI and Flask alike).
DEFAULT_REQUIRED_METRICS = ("http_requests_total", "http_request_duration_seconds")

METRICS_SOURCES = ("load", "prometheus", "hub")


def validate_url(url: str, what: str = "--url") -> str:
    """Return ``url`` without a trailing slash, or raise ``ValueError`` saying what is wrong.

    Example::

        >>> validate_url("http://127.0.0.1:8000/")
        'http://127.0.0.1:8000'
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(
            f"{what} must be an http(s) URL like http://127.0.0.1:8000, not {mask_url(url)!r}"
        )
    return url.rstrip("/")


def _load_baseline(baseline: str | Path | dict[str, Any]) -> dict[str, Any]:
    if isinstance(baseline, dict):
        data = baseline
    else:
        try:
            data = json.loads(Path(baseline).read_text())
        except (OSError, ValueError) as exc:
            raise ValueError(f"cannot read the baseline file {baseline}: {exc}") from exc
    perf = data.get("performance") if isinstance(data, dict) else None
    if not isinstance(perf, dict) or perf.get("p95_ms") is None:
        raise ValueError(
            "the baseline must be a `verify --json` report with a performance section "
            "(run verify with --performance --json FILE first)"
        )
    return perf


def _judge_performance(
    s: LoadSummary,
    *,
    max_p95_ms: float | None,
    max_error_rate: float,
    baseline: dict[str, Any] | None,
    threshold: float,
    source: str,
) -> CheckResult:
    details: dict[str, Any] = {"source": source, **asdict(s)}
    if s.p95_ms is None:
        return CheckResult("performance", "fail", "no responses: nothing to measure", details)
    head = (
        f"p50 {s.p50_ms:.1f} ms, p95 {s.p95_ms:.1f} ms, p99 {s.p99_ms or 0:.1f} ms, "
        f"{s.throughput_rps:.1f} req/s, errors {s.error_rate:.2%} of {s.requests}"
    )
    problems: list[str] = []
    if s.error_rate > max_error_rate:
        problems.append(f"error rate {s.error_rate:.2%} > max {max_error_rate:.2%}")
    if max_p95_ms is not None and s.p95_ms > max_p95_ms:
        problems.append(f"p95 {s.p95_ms:.1f} ms > max {max_p95_ms:g} ms")
    if baseline is not None:
        base_p95 = float(baseline["p95_ms"])
        ratio = s.p95_ms / base_p95 if base_p95 > 0 else float("inf")
        details.update(baseline_p95_ms=base_p95, ratio=ratio, threshold=threshold)
        head += f"; p95 {ratio:.2f}x baseline {base_p95:.1f} ms"
        if ratio > threshold:
            problems.append(f"p95 is {ratio:.2f}x the baseline, above the {threshold:g}x threshold")
    details["problems"] = problems
    if problems:
        return CheckResult("performance", "fail", "; ".join(problems) + f" ({head})", details)
    client_errors = [k for k in s.status_counts if k.startswith("4")]
    if s.status_counts and set(s.status_counts) == set(client_errors):
        # Timing 404s measures the router, not the service: say so instead of a clean pass.
        codes = "/".join(client_errors)
        return CheckResult(
            "performance",
            "warn",
            f"every response was {codes}: measure a real route with --path ({head})",
            details,
        )
    return CheckResult("performance", "pass", head, details)


def _per_path(samples: list[Sample], wall: float) -> dict[str, dict[str, Any]]:
    by_path: dict[str, list[Sample]] = {}
    for sample in samples:
        by_path.setdefault(sample.path, []).append(sample)
    out = {}
    for path, group in by_path.items():
        g = summarize(group, wall)
        out[path] = {
            "requests": g.requests,
            "errors": g.errors,
            "p50_ms": g.p50_ms,
            "p95_ms": g.p95_ms,
            "status_counts": g.status_counts,
        }
    return out


def verify_deployment(
    url: str,
    *,
    health: bool = True,
    metrics: bool = True,
    performance: bool = True,
    health_path: str = "/health",
    health_timeout: float = 60.0,
    metrics_path: str = "/metrics",
    require_metrics: Sequence[str] = (),
    default_metrics: bool = True,
    paths: Sequence[str] = ("/",),
    requests: int = 100,
    concurrency: int = 10,
    duration: float | None = None,
    warmup: int = 5,
    timeout: float = 10.0,
    max_p95_ms: float | None = 1000.0,
    max_error_rate: float = 0.01,
    baseline: str | Path | dict[str, Any] | None = None,
    threshold: float = 1.2,
    metrics_source: str = "load",
    metrics_url: str | None = None,
    selector: str | None = None,
    window: str = "5m",
    progress: ProgressDisplay | None = None,
) -> Report:
    """Verify a deployment at ``url``: health, performance, metrics exposition.

    Metrics are checked last, after the load (or ``warmup`` GETs of ``paths`` when there is
    no load phase), because request metrics only exist once a request has been served.

    Configuration errors raise ``ValueError`` before anything is sent; the checks
    themselves never raise, they report. ``report.exit_code`` is 0 pass, 1 fail,
    2 inconclusive.

    Example::

        report = verify_deployment("http://127.0.0.1:8000", paths=["/users"], max_p95_ms=250)
        assert report.verdict == "pass", report.to_markdown()
    """
    base = validate_url(url)
    if requests < 1 or concurrency < 1:
        raise ValueError("--requests and --concurrency must be at least 1")
    if duration is not None and duration <= 0:
        raise ValueError("--duration must be positive")
    if threshold <= 0 or not 0 <= max_error_rate <= 1:
        raise ValueError("--threshold must be > 0 and --max-error-rate within 0..1")
    if metrics_source not in METRICS_SOURCES:
        raise ValueError(f"--metrics-source must be one of {', '.join(METRICS_SOURCES)}")
    if metrics_source == "hub":
        raise ValueError(
            "--metrics-source hub is not available yet: use --metrics-source load (drive "
            "traffic) or prometheus --metrics-url http://prometheus:9090"
        )
    if metrics_source == "prometheus" and not metrics_url:
        raise ValueError("--metrics-source prometheus needs --metrics-url (the Prometheus server)")
    paths = [p if p.startswith("/") else "/" + p for p in paths] or ["/"]
    base_perf = _load_baseline(baseline) if baseline is not None else None
    required = [*(DEFAULT_REQUIRED_METRICS if default_metrics else ()), *require_metrics]

    report = Report("verify", mask_url(base))
    display = progress or ProgressDisplay(enabled=False)
    if health:
        step = display.start("health")
        result = check_health(base + health_path, timeout=health_timeout)
        report.add(result)
        display.finish(step, result.status, result.summary)
    if performance:
        if metrics_source == "prometheus":
            from berrys_monitoring.cicd._prometheus import prometheus_summary

            step = display.start("performance (prometheus)")
            assert metrics_url is not None
            summary, perf_details = prometheus_summary(
                metrics_url, selector=selector or instance_selector(base), window=window
            )
        else:
            step = display.start(
                f"performance ({len(paths)} path(s), concurrency {concurrency})",
                total=None if duration else requests,
            )
            samples, wall = asyncio.run(
                run_load(
                    base,
                    paths,
                    requests=requests,
                    concurrency=concurrency,
                    duration=duration,
                    timeout=timeout,
                    warmup=warmup,
                    on_sample=lambda s: display.advance(step),
                )
            )
            summary = summarize(samples, wall)
            perf_details = {"paths": paths, "per_path": _per_path(samples, wall)}
        result = _judge_performance(
            summary,
            max_p95_ms=max_p95_ms,
            max_error_rate=max_error_rate,
            baseline=base_perf,
            threshold=threshold,
            source=metrics_source,
        )
        result.details.update(perf_details)
        report.add(result)
        report.data["performance"] = result.details
        display.finish(step, result.status, result.summary)
    if metrics:
        # Request metrics only appear once a request was served (labelled series, and
        # multiprocess mode, expose nothing before), and probes are rightly not counted:
        # without a load phase, a few GETs make a fresh deployment show them.
        if (not performance or metrics_source != "load") and warmup > 0:
            asyncio.run(run_load(base, paths, requests=warmup, concurrency=1, timeout=timeout))
        step = display.start("metrics")
        result = check_metrics(base + metrics_path, required)
        report.add(result)
        display.finish(step, result.status, result.summary)
    report.finished_at = time.time()
    return report


def instance_selector(base: str) -> str:
    """The PromQL matcher Prometheus gives a target scraped at ``base``.

    Example::

        >>> instance_selector("http://127.0.0.1:8001")
        'instance="127.0.0.1:8001"'
    """
    # Prometheus labels a scraped target instance="host:port": the deployment's own address.
    parts = urlsplit(base)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return f'instance="{parts.hostname}:{port}"'
