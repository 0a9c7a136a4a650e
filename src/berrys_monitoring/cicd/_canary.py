"""``canary``: sample a canary and production side by side and judge every metric."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import Any

from berrys_monitoring.cicd._canary_prometheus import prometheus_verdicts
from berrys_monitoring.cicd._judge import MetricVerdict
from berrys_monitoring.cicd._load import Sample, paced_pairs, summarize
from berrys_monitoring.cicd._progress import ProgressDisplay
from berrys_monitoring.cicd._report import CheckResult, Report
from berrys_monitoring.cicd._sample_judge import (
    CANARY_METRICS,
    DEFAULT_CANARY_METRICS,
    judge_samples,
)
from berrys_monitoring.cicd._verify import instance_selector, validate_url
from berrys_monitoring.health._masking import mask_url

__all__ = ["CANARY_METRICS", "DEFAULT_CANARY_METRICS", "judge_samples", "run_canary"]

INSUFFICIENT_POLICIES = ("fail", "inconclusive")


def _side_summary(samples: list[Sample], wall: float) -> dict[str, Any]:
    s = summarize(samples, wall)
    return {k: v for k, v in vars(s).items() if k != "status_counts"} | {
        "status_counts": s.status_counts
    }


def run_canary(
    canary_url: str,
    production_url: str,
    *,
    performance_threshold: float = 1.2,
    monitor_duration: float = 300.0,
    interval: float = 10.0,
    rate: float = 10.0,
    paths: Sequence[str] = ("/",),
    metrics: Sequence[str] = DEFAULT_CANARY_METRICS,
    alpha: float = 0.05,
    min_samples: int = 20,
    max_error_increase: float = 0.01,
    on_insufficient_data: str = "fail",
    early_stop: bool = True,
    timeout: float = 10.0,
    metrics_source: str = "load",
    metrics_url: str | None = None,
    canary_selector: str | None = None,
    production_selector: str | None = None,
    window: str = "30s",
    progress: ProgressDisplay | None = None,
) -> Report:
    """Compare a canary with production for ``monitor_duration`` seconds.

    Both get ``rate`` GETs per second on the same ``paths``, interleaved; every ``interval``
    seconds all metrics are judged on the samples so far, and a canary that is clearly
    failing (99.8% confidence that the regression exceeds the threshold) stops early.
    No data or too few samples is ``on_insufficient_data`` ("fail" or "inconclusive").

    With ``metrics_source="prometheus"`` nothing is sent to the deployments: their real
    traffic is read from the Prometheus server at ``metrics_url`` (series told apart by
    ``canary_selector``/``production_selector``, default ``instance="host:port"`` of each
    URL), one point per ``interval`` (p95 over ``window``) for latency and size, request
    counts for error rates.

    Example::

        report = run_canary("http://canary:8000", "http://prod:8000",
                            performance_threshold=1.2, monitor_duration=300)
        raise SystemExit(report.exit_code)
    """
    c_url = validate_url(canary_url, "--canary-url")
    p_url = validate_url(production_url, "--production-url")
    unknown = [m for m in metrics if m not in CANARY_METRICS]
    if unknown:
        raise ValueError(
            f"unknown --metric {unknown[0]!r}; choose from {', '.join(CANARY_METRICS)}"
        )
    if on_insufficient_data not in INSUFFICIENT_POLICIES:
        raise ValueError("--on-insufficient-data must be fail or inconclusive")
    if performance_threshold < 1:
        raise ValueError("--performance-threshold is a ratio >= 1 (1.2 = 20% worse allowed)")
    if monitor_duration <= 0 or interval <= 0 or rate <= 0:
        raise ValueError("--monitor-duration, --interval and --rate must be positive")
    if not 0 < alpha < 1 or min_samples < 2:
        raise ValueError("--alpha must be within (0, 1) and --min-samples at least 2")
    if metrics_source == "hub":
        raise ValueError(
            "--metrics-source hub is not available yet for canary analysis: sample both "
            "deployments (--metrics-source load) or read Prometheus (--metrics-source prometheus)"
        )
    if metrics_source not in ("load", "prometheus"):
        raise ValueError("--metrics-source must be load, prometheus or hub")
    if metrics_source == "prometheus" and not metrics_url:
        raise ValueError("--metrics-source prometheus needs --metrics-url (the Prometheus server)")
    selectors = {
        "canary": canary_selector or instance_selector(c_url),
        "production": production_selector or instance_selector(p_url),
    }
    paths = [p if p.startswith("/") else "/" + p for p in paths] or ["/"]
    metrics = list(dict.fromkeys(metrics))
    display = progress or ProgressDisplay(enabled=False)
    report = Report("canary", f"{mask_url(c_url)} vs {mask_url(p_url)}")
    samples: dict[str, list[Sample]] = {"canary": [], "production": []}
    rounds: list[dict[str, Any]] = []
    state: dict[str, Any] = {"stop": False, "reason": ""}

    def judge(
        canary: list[Sample] | None = None, production: list[Sample] | None = None
    ) -> list[MetricVerdict]:
        return judge_samples(
            samples["canary"] if canary is None else canary,
            samples["production"] if production is None else production,
            metrics=metrics,
            threshold=performance_threshold,
            alpha=alpha,
            min_samples=min_samples,
            max_error_increase=max_error_increase,
        )

    started = time.time()

    def judge_prometheus(end: float) -> list[MetricVerdict]:
        assert metrics_url is not None
        return prometheus_verdicts(
            metrics_url,
            selectors,
            start=started,
            end=end,
            step=interval,
            window=window,
            metrics=metrics,
            threshold=performance_threshold,
            alpha=alpha,
            min_samples=min_samples,
            max_error_increase=max_error_increase,
        )

    def judge_now() -> list[MetricVerdict]:
        if metrics_source == "prometheus":
            return judge_prometheus(time.time())
        # On a snapshot: the sampler keeps appending while this runs in a thread.
        return judge(list(samples["canary"]), list(samples["production"]))

    async def watch(duration: float) -> None:
        deadline = time.monotonic() + duration
        while not state["stop"] and time.monotonic() < deadline:
            await asyncio.sleep(min(0.2, max(0.0, deadline - time.monotonic())))

    async def monitor(step: Any) -> float:
        t0 = time.monotonic()
        if metrics_source == "prometheus":
            sampler = asyncio.ensure_future(watch(monitor_duration))
        else:
            sampler = asyncio.ensure_future(
                paced_pairs(
                    {"canary": c_url, "production": p_url},
                    paths,
                    rate=rate,
                    duration=monitor_duration,
                    timeout=timeout,
                    on_sample=lambda s: samples[s.side].append(s),
                    should_stop=lambda: bool(state["stop"]),
                )
            )
        last = t0
        while not sampler.done():
            await asyncio.wait({sampler}, timeout=interval)
            now = time.monotonic()
            display.advance(step, now - last)
            last = now
            if sampler.done():
                break
            # Judging thousands of samples (or querying Prometheus) takes a while: off the
            # event loop, so the sampling ticks keep their pace.
            verdicts = await asyncio.to_thread(judge_now)
            rounds.append(
                {
                    "elapsed_s": round(now - t0, 2),
                    "verdicts": {v.metric: [v.verdict, v.ratio, v.p_value] for v in verdicts},
                }
            )
            failing = [v for v in verdicts if v.clearly_failing]
            note = ", ".join(f"{v.metric} {v.verdict}" for v in verdicts)
            display.advance(step, 0, note=f"[{note}]")
            if early_stop and failing:
                state["stop"] = True
                state["reason"] = "; ".join(f"{v.metric}: {v.reason}" for v in failing)
        await sampler
        return time.monotonic() - t0

    step = display.start("canary vs production", total=monitor_duration)
    wall = asyncio.run(monitor(step))
    final = judge_prometheus(time.time()) if metrics_source == "prometheus" else judge()
    for v in final:
        status = v.verdict
        if status in ("no-data", "too-few-samples"):
            status = on_insufficient_data
        summary = v.reason if v.verdict in ("pass", "fail") else f"{v.verdict}: {v.reason}"
        report.add(CheckResult(v.metric, status, summary, v.as_dict()))
    report.data["canary"] = {
        "canary_url": mask_url(c_url),
        "production_url": mask_url(p_url),
        "metrics_source": metrics_source,
        **(
            {"prometheus": mask_url(metrics_url or ""), "selectors": selectors, "window": window}
            if metrics_source == "prometheus"
            else {"paths": paths, "rate": rate}
        ),
        "interval": interval,
        "monitor_duration": monitor_duration,
        "performance_threshold": performance_threshold,
        "alpha": alpha,
        "min_samples": min_samples,
        "on_insufficient_data": on_insufficient_data,
        "elapsed_s": round(wall, 2),
        "early_stopped": bool(state["stop"]),
        "early_stop_reason": state["reason"],
        "rounds": rounds,
        "sides": {side: _side_summary(s, wall) for side, s in samples.items() if s},
    }
    if state["stop"]:
        report.notes.append(f"stopped early after {wall:.0f}s: {state['reason']}")
    if metrics_source == "load":
        sides = report.data["canary"]["sides"]
        report.notes.append(
            "sampled "
            + ", ".join(f"{side} {info['requests']} requests" for side, info in sides.items())
            + f" over {wall:.0f}s on {', '.join(paths)}"
        )
    report.finished_at = time.time()
    display.finish(step, report.verdict, "stopped early" if state["stop"] else "")
    return report
