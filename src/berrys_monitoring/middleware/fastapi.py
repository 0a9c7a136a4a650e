"""FastAPI / Starlette integration: ``setup_monitoring(app, service_name=...)``.

Example::

    from fastapi import FastAPI
    from berrys_monitoring.middleware.fastapi import setup_monitoring

    app = FastAPI()
    setup_monitoring(app, service_name="your-service-name")
"""

from __future__ import annotations

from typing_extensions import Unpack

try:
    from starlette.applications import Starlette
except ImportError as exc:  # pragma: no cover - depends on the installed extras
    raise ImportError(
        "berrys_monitoring.middleware.fastapi needs FastAPI/Starlette: "
        "pip install 'berrys-monitoring[fastapi]'"
    ) from exc

from berrys_monitoring._compat.fastapi import turn_off_native_telemetry
from berrys_monitoring.middleware._asgi import MonitoringMiddleware
from berrys_monitoring.middleware._core import Observer
from berrys_monitoring.middleware._options import SetupOptions
from berrys_monitoring.middleware._setup import Holder, prepare

__all__ = ["MonitoringMiddleware", "setup_monitoring"]

_ATTR = "_berrys_monitoring"


def setup_monitoring(
    app: Starlette, service_name: str, **options: Unpack[SetupOptions]
) -> Observer:
    """Observe a FastAPI/Starlette app: health and metrics endpoints, request metrics,
    access logs, request ids and server spans, in one call.

    Adds ``GET /health`` (``application/health+json``; 200 pass/warn, 503 fail),
    ``/health/live``, ``/health/ready`` and ``/metrics`` (Prometheus text, OpenMetrics on
    ``Accept``). Every other request is counted in ``http_requests_total{method,route,
    status}`` and ``http_request_duration_seconds{method,route}`` (route templates, never raw
    paths), traced as one server span ``"METHOD /route"`` that continues an incoming
    ``traceparent``, logged as one JSON line on ``berrys_monitoring.access`` and given a
    request id (``X-Request-ID``, echoed; the trace id comes back in ``X-Trace-Id``).

    The keyword options, all optional and typed, are described by
    :class:`~berrys_monitoring.middleware.SetupOptions` (shared with Flask).

    Calling it again on the same app replaces the options; it never adds a second
    middleware. Bad options raise ``ValueError``/``TypeError`` here.

    Example::

        >>> from fastapi import FastAPI
        >>> from berrys_monitoring.middleware.fastapi import setup_monitoring
        >>> app = FastAPI()
        >>> observer = setup_monitoring(app, service_name="users", excluded_paths=["/docs"])
        >>> observer.opts.metrics_path
        '/metrics'
    """
    if not isinstance(app, Starlette):
        raise TypeError(
            f"setup_monitoring() needs a FastAPI or Starlette app, got {type(app).__name__}; "
            "wrap other ASGI apps with MonitoringMiddleware"
        )
    observer = prepare(service_name, options)
    _yield_native_telemetry(app, observer)
    holder: Holder | None = getattr(app.state, _ATTR, None)
    if holder is not None:
        holder.observer = observer
        return observer
    holder = Holder(observer)
    try:
        app.add_middleware(MonitoringMiddleware, holder=holder)  # type: ignore[arg-type]
    except RuntimeError as exc:
        raise RuntimeError(
            "setup_monitoring() must be called before the app starts serving requests"
        ) from exc
    setattr(app.state, _ATTR, holder)
    return observer


def _yield_native_telemetry(app: Starlette, observer: Observer) -> None:
    """Turn off FastAPI's own request spans/metrics where ours replace them: left on,
    every request would get two server spans and pay for both. With
    ``enable_tracing=False`` FastAPI's native spans are left alone."""
    opts = observer.opts
    turn_off_native_telemetry(app, tracing=opts.enable_tracing, metrics=opts.enable_metrics)
