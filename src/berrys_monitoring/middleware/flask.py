"""Flask integration: ``setup_monitoring(app, service_name=...)``.

Example::

    from flask import Flask
    from berrys_monitoring.middleware.flask import setup_monitoring

    app = Flask(__name__)
    setup_monitoring(app, service_name="your-service-name")
"""

from __future__ import annotations

from typing import Any

try:
    from flask import Flask, Response, got_request_exception, request
except ImportError as exc:  # pragma: no cover - depends on the installed extras
    raise ImportError(
        "berrys_monitoring.middleware.flask needs Flask: pip install 'berrys-monitoring[flask]'"
    ) from exc

from werkzeug.wsgi import ClosingIterator

from berrys_monitoring.middleware._core import Observer
from berrys_monitoring.middleware._setup import Holder, prepare
from berrys_monitoring.middleware._wsgi import (
    ROUTE_KEY,
    STATE_KEY,
    STREAMED_KEY,
    MonitoringWSGIMiddleware,
)

__all__ = ["MonitoringWSGIMiddleware", "setup_monitoring"]

_EXT = "berrys_monitoring"


def _capture_route() -> None:
    # Runs first among before_request hooks: routing has happened, the view has not, so
    # the rule is known however the request ends (also for an exception Flask re-raises
    # without running after_request hooks, a gevent or eventlet timeout included).
    req = request._get_current_object()  # type: ignore[attr-defined]
    rule = req.url_rule
    if rule is not None:
        req.environ[ROUTE_KEY] = rule.rule


def _mark_streamed(response: Response) -> Response:
    # Rendered bodies are finished when Flask returns; generated ones when they end.
    # Error pages and other WSGI responses arrive wrapped in a ClosingIterator although
    # they are rendered already; only a generator the view returned is really streamed.
    request._get_current_object().environ[STREAMED_KEY] = (  # type: ignore[attr-defined]
        response.is_streamed and not isinstance(response.response, ClosingIterator)
    )
    return response


def _capture_exception(sender: Any, exception: BaseException, **_: Any) -> None:
    # Flask turns the exception into a 500 itself (and logs it); we record it on the span.
    st = request.environ.get(STATE_KEY)
    if st is not None:
        st.exc = exception


def setup_monitoring(app: Flask, service_name: str, **options: Any) -> Observer:
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

    Takes the same options as the FastAPI version (``health_path``, ``metrics_path``,
    ``excluded_paths``, ``enable_tracing``, ``sample_rate``, ``log_requests``,
    ``request_id_header``, ``metrics_auth``, ...). Calling it again replaces the options.

    Example::

        >>> from flask import Flask
        >>> from berrys_monitoring.middleware.flask import setup_monitoring
        >>> app = Flask("users")
        >>> observer = setup_monitoring(app, service_name="users")
        >>> app.test_client().get("/health").status_code
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
    app.before_request_funcs.setdefault(None, []).insert(0, _capture_route)
    app.after_request_funcs.setdefault(None, []).append(_mark_streamed)
    got_request_exception.connect(_capture_exception, app, weak=False)
    return observer
