"""The framework-neutral life of one observed request: start, then finish.

Both the ASGI and the WSGI middleware drive this. It is the hot path, so it keeps to
plain attribute access, cached label children and one small object per request.
"""

from __future__ import annotations

import time
from time import perf_counter
from typing import Any

from opentelemetry import trace as otel_trace
from opentelemetry.trace import SpanKind, Status, StatusCode

from berrys_monitoring._internal import is_strict, report_internal_error
from berrys_monitoring.logging import get_logger
from berrys_monitoring.logging._bindfield import bind_field, reset_field
from berrys_monitoring.middleware._access import access_line
from berrys_monitoring.middleware._http_metrics import METHODS as _METHODS
from berrys_monitoring.middleware._options import MonitoringOptions
from berrys_monitoring.middleware._request_id import (
    new_request_id,
    sane_request_id,
)
from berrys_monitoring.middleware._request_id import (
    take_request_id as _take_request_id,
)
from berrys_monitoring.middleware._span_attributes import span_attributes
from berrys_monitoring.tracing._current_span import attach_span, detach_span
from berrys_monitoring.tracing._server_span import (
    ServerSpan,
    UnsampledSpan,
    server_spans,
    span_ids_hex,
)

__all__ = ["ACCESS_LOGGER", "UNMATCHED_ROUTE", "Observer", "RequestState"]

UNMATCHED_ROUTE = "<unmatched>"
ACCESS_LOGGER = "berrys_monitoring.access"
_COMPONENT = "middleware"
_SCOPE = "berrys_monitoring.middleware"
_ERROR_STATUS = Status(StatusCode.ERROR)


class RequestState:
    """What one request carries from start to finish (one allocation per request)."""

    __slots__ = (
        "client_ip",
        "ctx_token",
        "end",
        "exc",
        "generated_id",
        "log_token",
        "method",
        "method_label",
        "path",
        "progress",
        "request_bytes",
        "request_id",
        "response_bytes",
        "span",
        "start",
        "status",
        "trace_fragment",
        "trace_header",
    )

    # Set by Observer.start().
    method: str
    method_label: str
    path: str
    client_ip: str | None
    request_bytes: int
    request_id: str
    generated_id: bool
    start: float

    def __init__(self) -> None:
        # Only what may be read before start() sets it; start() sets the rest.
        self.status = 0
        self.response_bytes = 0
        self.exc: BaseException | None = None
        self.span: Any = None
        self.ctx_token: Any = None
        self.log_token: Any = None
        self.progress = False
        self.trace_header: str | None = None
        # ``,"trace_id":…,"span_id":…`` of our server span, for the access line.
        self.trace_fragment = ""
        self.end = 0.0

    def response_done(self) -> None:
        """Mark the moment the last byte of the response was handed to the server."""
        self.end = perf_counter()


class Observer:
    """Everything the middleware does around a request, for one app."""

    def __init__(self, opts: MonitoringOptions, instruments: Any) -> None:
        self.opts = opts
        self.instruments = instruments
        # The logging component's logger: its fast path builds the record without the
        # stdlib's findCaller stack walk and generic LogRecord.__init__.
        self.access = get_logger(ACCESS_LOGGER)
        self.access_std = self.access.std
        self._provider: Any = None
        self._tracer: Any = None
        # Flask logs unhandled exceptions (with their stack) itself; Starlette leaves it
        # to the server, outside the request's context, so we log the stack there.
        self.framework_logs_exceptions = False
        # The hub registration (hub_url), which learns our address from a first request.
        self.hub: Any = None

    def _get_tracer(self) -> Any:
        provider = otel_trace.get_tracer_provider()
        if provider is not self._provider:
            from berrys_monitoring._version import __version__

            self._tracer = provider.get_tracer(_SCOPE, __version__)
            self._provider = provider
        return self._tracer

    def start(
        self,
        st: RequestState,
        method: str,
        path: str,
        scheme: str,
        client_ip: str | None,
        request_id: str | None,
        request_bytes: int,
        carrier: dict[str, str] | None,
        host: str | None,
        user_agent: str | None,
        protocol: str | None,
    ) -> None:
        """Begin observing a request (``st``, made by the caller): request id, span,
        logging context, in-progress."""
        st.method = method
        label = st.method_label = method if method in _METHODS else "OTHER"
        st.path = path
        st.client_ip = client_ip
        st.request_bytes = request_bytes
        if request_id:
            st.request_id = sane_request_id(request_id)
            st.generated_id = st.request_id is not request_id
        else:
            try:
                st.request_id = _take_request_id()
            except IndexError:
                st.request_id = new_request_id()
            st.generated_id = True
        st.start = perf_counter()
        try:
            if self.opts.enable_tracing:
                parent = None
                if carrier:
                    from berrys_monitoring.tracing import extract_context_from_headers

                    parent = extract_context_from_headers(carrier)
                lean = server_spans(_SCOPE)
                span: otel_trace.Span
                if lean is not None:
                    # Unsampled requests get a non-recording span without building the
                    # attributes nobody would read.
                    span = lean.begin(parent)
                    if type(span) is ServerSpan:
                        known = label != "OTHER"
                        span.name = method if known else "HTTP"
                        span.attributes = span_attributes(
                            method, known, path, scheme, client_ip, host, user_agent, protocol
                        )
                else:
                    known = label != "OTHER"
                    span = self._get_tracer().start_span(
                        method if known else "HTTP",
                        context=parent,
                        kind=SpanKind.SERVER,
                        attributes=span_attributes(
                            method, known, path, scheme, client_ip, host, user_agent, protocol
                        ),
                    )
                    if parent is not None and not span.get_span_context().is_valid:
                        # No SDK: OpenTelemetry API < 1.40's no-op tracer drops the
                        # caller's trace, later ones keep it; keep it under either.
                        caller = otel_trace.get_current_span(parent)
                        if caller.get_span_context().is_valid:
                            span = caller
                st.span = span
                st.ctx_token = attach_span(span, parent)
                ids = span_ids_hex(span)
                if ids is not None:
                    st.trace_fragment = f',"trace_id":"{ids[0]}","span_id":"{ids[1]}"'
                    if self.opts.trace_response_header:
                        st.trace_header = ids[0]
            # The logging context is a ContextVar: the request id reaches code in this task,
            # in thread pools that copy the context (run_in_threadpool) and in background
            # tasks. The end of the request restores the whole previous context, so fields a
            # handler bound do not leak into the next request a WSGI thread serves.
            st.log_token = bind_field("request_id", st.request_id, st.generated_id)
            if self.instruments is not None:
                self.instruments.begin(label)
                st.progress = True
        except Exception as exc:
            report_internal_error(_COMPONENT, exc, "cannot start observing a request")
            if is_strict():
                raise

    def finish(self, st: RequestState, route: str) -> None:
        """Record metrics, end the span and write the access line (never raises).

        Durations run to the end of the response (``response_done``), not to the end of
        background work the framework runs after it.
        """
        end_ns: int | None = None
        span = st.span
        try:
            status = st.status or 500
            now = perf_counter()
            if st.end:
                elapsed = st.end - st.start
                if span is not None and type(span) is not UnsampledSpan:
                    end_ns = time.time_ns() - int((now - st.end) * 1e9)
            else:
                elapsed = now - st.start
            if self.instruments is not None:
                self.instruments.observe(
                    st.method_label,
                    route,
                    status,
                    elapsed,
                    st.request_bytes,
                    st.response_bytes,
                    st.progress,
                )
            if type(span) is UnsampledSpan or span is None:
                pass
            elif type(span) is ServerSpan and span.end_time is None and st.exc is None:
                # The lean span: our own values, straight into its attribute dict.
                attrs = span.attributes
                if route != UNMATCHED_ROUTE:
                    span.name = f"{st.method if st.method_label != 'OTHER' else 'HTTP'} {route}"
                    attrs["http.route"] = route
                attrs["http.response.status_code"] = status
                if status >= 500:
                    attrs["error.type"] = str(status)
                    span.set_status(_ERROR_STATUS)
            elif span.is_recording():
                if route != UNMATCHED_ROUTE:
                    span.update_name(
                        f"{st.method if st.method_label != 'OTHER' else 'HTTP'} {route}"
                    )
                    # One call, one lock: cheaper than two set_attribute calls.
                    span.set_attributes({"http.route": route, "http.response.status_code": status})
                else:
                    span.set_attribute("http.response.status_code", status)
                if st.exc is not None:
                    span.record_exception(st.exc)
                    span.set_attribute("error.type", type(st.exc).__qualname__)
                    span.set_status(Status(StatusCode.ERROR, str(st.exc)[:200]))
                elif status >= 500:
                    span.set_attribute("error.type", str(status))
                    span.set_status(Status(StatusCode.ERROR))
            if self.opts.log_requests:
                access_line(self, st, route, status, elapsed)
        except Exception as exc:
            report_internal_error(_COMPONENT, exc, "cannot finish observing a request")
            if is_strict():
                raise
        finally:
            if span is not None and type(span) is not UnsampledSpan:
                try:
                    span.end(end_time=end_ns)
                except Exception as exc:
                    report_internal_error(_COMPONENT, exc, "cannot end the server span")
            self.suspend(st)

    def suspend(self, st: RequestState) -> None:
        """Take the request's context off this thread (its span stays open).

        WSGI servers iterate a streamed body after the app returned; between the two the
        thread must not carry the request's trace and log context into other work.
        """
        try:
            token = st.log_token
            if token is not None:
                st.log_token = None
                reset_field(token)
            token = st.ctx_token
            if token is not None:
                st.ctx_token = None
                detach_span(token)
        except Exception as exc:
            report_internal_error(_COMPONENT, exc, "cannot restore the request context")

    def resume(self, st: RequestState) -> None:
        """Put the request's context back (while a streamed body is generated)."""
        try:
            if st.span is not None and st.ctx_token is None:
                st.ctx_token = attach_span(st.span, None)
            if st.log_token is None:
                st.log_token = bind_field("request_id", st.request_id, st.generated_id)
        except Exception as exc:
            report_internal_error(_COMPONENT, exc, "cannot restore the request context")
