"""The health and metrics checks of ``verify``, against a deployed service over HTTP."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

import httpx

from berrys_monitoring.cicd._report import CheckResult
from berrys_monitoring.health._masking import mask_url

__all__ = ["check_health", "check_metrics", "failing_components", "health_status"]

_PASS = {"pass", "ok", "up", "healthy"}
_WARN = {"warn", "warning", "degraded"}

# Ask for OpenMetrics first, as Prometheus does; the text format is the fallback.
_METRICS_ACCEPT = "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5"


def health_status(resp: httpx.Response) -> tuple[str, dict[str, Any]]:
    """``pass``/``warn``/``fail`` of a health response and its JSON body ({} if none).

    The HTTP status decides first (Kubernetes semantics: 2xx healthy); an
    ``application/health+json`` ``status`` of fail/warn refines it.
    """
    try:
        body = resp.json()
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    if resp.status_code >= 400:
        return "fail", body
    declared = str(body.get("status", "pass")).lower()
    if declared in _PASS:
        return "pass", body
    if declared in _WARN:
        return "warn", body
    return "fail", body


def failing_components(body: dict[str, Any]) -> list[str]:
    """``name (status): output`` for every non-passing entry of a health+json ``checks``.

    Example::

        >>> failing_components({"checks": {"db:responseTime": [
        ...     {"status": "fail", "output": "timeout"}]}})
        ['db:responseTime (fail): timeout']
    """
    out: list[str] = []
    checks = body.get("checks")
    if not isinstance(checks, dict):
        return out
    for key, entries in checks.items():
        items: Iterable[Any] = entries if isinstance(entries, list) else [entries]
        for item in items:
            if not isinstance(item, dict):
                continue
            status = str(item.get("status", "pass")).lower()
            if status in _PASS:
                continue
            name = key
            cid = item.get("componentId")
            # health+json keys are "component:measurement"; add the id only when it says more.
            if cid and key != cid and not key.startswith(f"{cid}:"):
                name = f"{key}[{cid}]"
            output = item.get("output") or item.get("error") or ""
            out.append(f"{name} ({status})" + (f": {output}" if output else ""))
    return out


def check_health(
    url: str,
    *,
    timeout: float = 60.0,
    request_timeout: float = 5.0,
    initial_backoff: float = 0.25,
    max_backoff: float = 5.0,
    sleep: Callable[[float], None] = time.sleep,
) -> CheckResult:
    """GET ``url`` until it reports healthy or ``timeout`` seconds pass, backing off
    exponentially (a fresh deployment takes a moment to come up). Every failing component
    of an ``application/health+json`` body is named in the summary.

    Example::

        result = check_health("http://127.0.0.1:8000/health", timeout=30)
        print(result.status, result.summary)  # fail ... failing: database:connections (fail)
    """
    deadline = time.monotonic() + timeout
    backoff = initial_backoff
    attempts = 0
    last = "no answer"
    # Reports reach CI logs and step summaries: a basic-auth password in the URL stays out.
    details: dict[str, Any] = {"url": mask_url(url)}
    with httpx.Client(timeout=request_timeout) as client:
        while True:
            attempts += 1
            try:
                resp = client.get(url)
                status, body = health_status(resp)
                failing = failing_components(body)
                details.update(http_status=resp.status_code, health=body.get("status"))
                details["failing_components"] = failing
                if status in ("pass", "warn"):
                    details["attempts"] = attempts
                    summary = f"HTTP {resp.status_code}, status {body.get('status', 'pass')}"
                    if failing:
                        summary += "; warnings: " + "; ".join(failing)
                    return CheckResult("health", status, summary, details)
                last = f"HTTP {resp.status_code}, status {body.get('status', 'unknown')}"
                if failing:
                    last += "; failing: " + "; ".join(failing)
            except httpx.HTTPError as exc:
                last = f"{type(exc).__name__}: {exc}"
                details["error"] = last
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            sleep(min(backoff, remaining))
            backoff = min(backoff * 2, max_backoff)
    details["attempts"] = attempts
    return CheckResult(
        "health", "fail", f"not healthy after {attempts} attempts in {timeout:g}s: {last}", details
    )


def _parse(text: str, content_type: str) -> set[str]:
    if content_type.startswith("application/openmetrics-text"):
        from prometheus_client.openmetrics.parser import (
            text_string_to_metric_families as parse_om,
        )

        families = list(parse_om(text))  # type: ignore[no-untyped-call]
    else:
        from prometheus_client.parser import text_string_to_metric_families

        families = list(text_string_to_metric_families(text))
    names: set[str] = set()
    for fam in families:
        names.add(fam.name)
        # Counters are listed without their _total suffix; accept both spellings.
        if fam.type == "counter":
            names.add(fam.name + "_total")
        names.update(s.name for s in fam.samples)
    return names


def check_metrics(
    url: str, required: Iterable[str], *, request_timeout: float = 10.0
) -> CheckResult:
    """GET ``url``, parse it as Prometheus text or OpenMetrics and check that every
    ``required`` metric family is exposed (counters match with or without ``_total``).

    Example::

        result = check_metrics("http://127.0.0.1:8000/metrics", ["http_requests_total"])
        print(result.status, result.details["missing"])
    """
    required = list(dict.fromkeys(required))
    shown = mask_url(url)
    details: dict[str, Any] = {"url": shown, "required": required}
    try:
        resp = httpx.get(url, timeout=request_timeout, headers={"Accept": _METRICS_ACCEPT})
    except httpx.HTTPError as exc:
        return CheckResult("metrics", "fail", f"cannot fetch {shown}: {exc!r}", details)
    ctype = resp.headers.get("content-type", "")
    details.update(http_status=resp.status_code, content_type=ctype)
    if resp.status_code != 200:
        return CheckResult("metrics", "fail", f"{shown} answered HTTP {resp.status_code}", details)
    try:
        names = _parse(resp.text, ctype)
    except Exception as exc:  # the parsers raise ValueError and friends on bad input
        return CheckResult(
            "metrics", "fail", f"not a valid Prometheus/OpenMetrics exposition: {exc}", details
        )
    missing = [n for n in required if n not in names]
    details.update(missing=missing, series_names=len(names))
    fmt = "OpenMetrics" if "openmetrics" in ctype else "Prometheus text"
    if missing:
        return CheckResult(
            "metrics", "fail", f"missing required metrics: {', '.join(missing)} ({fmt})", details
        )
    return CheckResult(
        "metrics",
        "pass",
        f"{fmt}, {len(names)} names, all {len(required)} required present",
        details,
    )
