"""``/health``, ``/health/live``, ``/health/ready`` and ``/metrics``, framework-neutral.

Each function returns ``(status, headers, body)`` so the ASGI and WSGI middleware can
answer these paths themselves, before routing: they never reach the app, so they stay out
of its metrics, traces and access logs, and cannot collide with its routes.
"""

from __future__ import annotations

from typing import Any

import orjson

from berrys_monitoring._internal import is_strict, report_internal_error
from berrys_monitoring.middleware._options import MonitoringOptions

__all__ = ["Answer", "endpoint_kind", "health_answer", "health_answer_async", "metrics_answer"]

Answer = tuple[int, list[tuple[str, str]], bytes]

HEALTH_CT = "application/health+json"
_NO_STORE = ("Cache-Control", "no-store")


def endpoint_kind(opts: MonitoringOptions, path: str) -> str | None:
    """Which built-in endpoint ``path`` is: "health", "live", "ready", "metrics" or None."""
    return opts.endpoints.get(path)


_PROBES = {"health": None, "live": "liveness", "ready": "readiness"}


def _probe(kind: str) -> str | None:
    return _PROBES[kind]


def _render(opts: MonitoringOptions, report: Any, authorization: str | None) -> Answer:
    if not opts.health_authorized(authorization):
        # Behind health_auth, an anonymous caller (a load balancer, a kubelet) learns the
        # status and nothing else: no check names, messages or timings.
        doc: dict[str, Any] = {"status": report.status.value}
    else:
        doc = report.to_health_json()
        doc.setdefault("serviceId", opts.service_name)
        if opts.version:
            doc.setdefault("version", opts.version)
    body = orjson.dumps(doc)
    return int(report.http_status), [("Content-Type", HEALTH_CT), _NO_STORE], body


def _broken(opts: MonitoringOptions, exc: BaseException) -> Answer:
    # The health machinery itself failed: say so (503) instead of answering 500; under
    # the test suite (strict mode) the bug surfaces instead.
    report_internal_error("middleware", exc, "health endpoint failed")
    if is_strict():
        raise exc
    doc = {"status": "fail", "serviceId": opts.service_name, "output": "health check failed"}
    return 503, [("Content-Type", HEALTH_CT), _NO_STORE], orjson.dumps(doc)


def health_answer(opts: MonitoringOptions, kind: str, authorization: str | None = None) -> Answer:
    """Run the registered checks for a probe and render ``application/health+json``:
    in full, or only the status when ``health_auth`` is set and ``authorization`` (the
    request's header) does not satisfy it. Probes answer either way."""
    try:
        from berrys_monitoring.health import check_health

        return _render(opts, check_health(probe=_probe(kind)), authorization)
    except Exception as exc:
        return _broken(opts, exc)


async def health_answer_async(
    opts: MonitoringOptions, kind: str, authorization: str | None = None
) -> Answer:
    """:func:`health_answer` for ASGI: checks run without blocking the event loop."""
    try:
        from berrys_monitoring.health import check_health_async

        return _render(opts, await check_health_async(probe=_probe(kind)), authorization)
    except Exception as exc:
        return _broken(opts, exc)


def metrics_answer(
    opts: MonitoringOptions, accept: str | None, authorization: str | None
) -> Answer:
    """The exposition (Prometheus text or OpenMetrics), behind ``metrics_auth`` if set."""
    if not opts.metrics_authorized(authorization):
        return (
            401,
            [("WWW-Authenticate", opts.metrics_challenge), ("Content-Type", "text/plain")],
            b"unauthorized\n",
        )
    try:
        from berrys_monitoring.metrics import metrics_exposition

        body, content_type = metrics_exposition(accept, registry=opts.registry)
    except Exception as exc:
        # A failing scrape must not look like a failing service: answer 500 to the scraper
        # (Prometheus marks the target down) and count it; strict mode surfaces the bug.
        report_internal_error("middleware", exc, "metrics endpoint failed")
        if is_strict():
            raise
        return 500, [("Content-Type", "text/plain"), _NO_STORE], b"metrics exposition failed\n"
    return 200, [("Content-Type", content_type), _NO_STORE], body


def method_not_allowed() -> Answer:
    """405 for anything but GET/HEAD on a built-in endpoint."""
    return 405, [("Allow", "GET, HEAD"), ("Content-Type", "text/plain")], b"method not allowed\n"
