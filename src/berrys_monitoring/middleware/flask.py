"""Flask integration: ``setup_monitoring(app, service_name=...)``.

Example::

    from flask import Flask
    from berrys_monitoring.middleware.flask import setup_monitoring

    app = Flask(__name__)
    setup_monitoring(app, service_name="your-service-name")
"""

from __future__ import annotations

from typing import Any

from typing_extensions import Unpack

try:
    from flask import Flask, Response, got_request_exception, request
except ImportError as exc:  # pragma: no cover - depends on the installed extras
    raise ImportError(
        "berrys_monitoring.middleware.flask needs Flask: pip install 'berrys-monitoring[flask]'"
    ) from exc

from werkzeug.wsgi import ClosingIterator

from berrys_monitoring._internal import report_internal_error
from berrys_monitoring.middleware._core import Observer
from berrys_monitoring.middleware._options import SetupOptions
from berrys_monitoring.middleware._setup import Holder, prepare
from berrys_monitoring.middleware._wsgi import (
    ROUTE_KEY,
    STATE_KEY,
    STREAMED_KEY,
    MonitoringWSGIMiddleware,
)

__all__ = ["MonitoringWSGIMiddleware", "setup_monitoring"]

_EXT = "berrys_monitoring"


def _watch_dispatch(app: Flask) -> None:
    """Wrap ``app.full_dispatch_request`` (a public method, meant to be overridden) to
    tell the middleware the matched route and whether the body is streamed.

    The route is taken before the view runs (routing happened when Flask pushed the
    request context), so it is known however the request ends, also for a
    ``BaseException`` (a gevent or eventlet timeout) that Flask re-raises without running
    its hooks. Rendered bodies are finished when Flask returns; generated ones when they
    end. Error pages and other WSGI responses arrive wrapped in a ``ClosingIterator``
    although they are rendered already; only a generator the view or an error handler
    returned is streamed.

    One wrapper call per request, where two request hooks cost Flask's hook dispatch
    (``ensure_sync`` asks ``inspect`` whether each hook is a coroutine function, on every
    request): about a tenth of the middleware's own work.
    """
    dispatch = app.full_dispatch_request  # bound: a subclass's override included

    def full_dispatch_request() -> Response:
        req = request._get_current_object()  # type: ignore[attr-defined]
        environ = req.environ
        rule = req.url_rule
        if rule is not None:
            environ[ROUTE_KEY] = rule.rule
        try:
            response = dispatch()
        except Exception:
            # Flask's handle_exception answers (see below); if it re-raises instead
            # (PROPAGATE_EXCEPTIONS), there is no body to wait for.
            environ[STREAMED_KEY] = False
            raise
        environ[STREAMED_KEY] = _streams(response)
        return response

    app.full_dispatch_request = full_dispatch_request  # type: ignore[method-assign]

    # An unhandled exception is answered by handle_exception (the app's 500 handler, or
    # Flask's error page), outside full_dispatch_request: a handler that streams its
    # answer is timed to the end of its body like any streamed response.
    handle = app.handle_exception

    def handle_exception(e: Exception) -> Response:
        response = handle(e)
        try:
            request.environ[STREAMED_KEY] = _streams(response)
        except Exception as exc:  # an unusual response object: treated as rendered
            report_internal_error("middleware", exc, "cannot tell whether an error page streams")
        return response

    app.handle_exception = handle_exception  # type: ignore[method-assign]


def _streams(response: Response) -> bool:
    """Whether ``response``'s body is generated while the server sends it: a generator the
    app returned, not a rendered page (which Flask may wrap in a ``ClosingIterator``)."""
    return bool(response.is_streamed) and not isinstance(response.response, ClosingIterator)


def _capture_exception(sender: Any, exception: BaseException, **_: Any) -> None:
    # Flask turns the exception into a 500 itself (and logs it); we record it on the span.
    st = request.environ.get(STATE_KEY)
    if st is not None:
        st.exc = exception


def setup_monitoring(app: Flask, service_name: str, **options: Unpack[SetupOptions]) -> Observer:
    """Observe a Flask app: health and metrics endpoints, request metrics, access logs,
    request ids and server spans, in one call.

    Adds ``GET /health`` (``application/health+json``; 200 pass/warn, 503 fail),
    ``/health/live``, ``/health/ready`` and ``/metrics`` (Prometheus text, OpenMetrics on
    ``Accept``), answered by a WSGI middleware before Flask routing. Every other request is
    counted in ``http_requests_total{method,route,status}`` and
    ``http_request_duration_seconds{method,route}`` with Flask's rule as the route
    (``/users/<int:user_id>``), traced as one server span that continues an incoming
    ``traceparent``, logged as one JSON line on ``berrys_monitoring.access`` and given a
    request id (``X-Request-ID``, echoed; the trace id comes back in ``X-Trace-Id``).
    Streamed responses are timed until the server closes them.

    The keyword options, all optional and typed, are the FastAPI version's:
    :class:`~berrys_monitoring.middleware.SetupOptions`. Calling it again replaces them.

    Example::

        >>> from flask import Flask
        >>> from berrys_monitoring.middleware.flask import setup_monitoring
        >>> app = Flask("users")
        >>> observer = setup_monitoring(app, service_name="users")
        >>> app.test_client().get("/health/live").status_code
        200
    """
    if not isinstance(app, Flask):
        raise TypeError(f"setup_monitoring() needs a Flask app, got {type(app).__name__}")
    observer = prepare(service_name, options)
    observer.framework_logs_exceptions = True
    holder: Holder | None = app.extensions.get(_EXT)
    if holder is not None:
        holder.observer = observer
        return observer
    holder = Holder(observer)
    app.extensions[_EXT] = holder
    app.wsgi_app = MonitoringWSGIMiddleware(app.wsgi_app, holder)  # type: ignore[method-assign]
    _watch_dispatch(app)
    got_request_exception.connect(_capture_exception, app, weak=False)
    return observer
