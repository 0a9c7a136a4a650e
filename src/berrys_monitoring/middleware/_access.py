"""The middleware's access line: one structured JSON line per request."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from berrys_monitoring._internal import report_internal_error
from berrys_monitoring.logging._context import _context
from berrys_monitoring.logging._fastline import write_access, write_usual_access

if TYPE_CHECKING:
    from berrys_monitoring.middleware._core import Observer, RequestState

__all__ = ["access_line"]

_COMPONENT = "middleware"
_INFO = logging.INFO
_ERROR = logging.ERROR
# Access-line fields that come from the client (and so may carry secrets); the rest are
# numbers, the route template, or values we produced.
_ctx_get = _context.get  # the live context (one C call)
_UNTRUSTED = ("path", "client_ip")
# The longest path written as it is; longer ones are cut and say how much was cut.
MAX_PATH = 2048
_UNTRUSTED_METHOD = ("path", "client_ip", "method")


def access_line(
    observer: Observer, st: RequestState, route: str, status: int, elapsed: float
) -> None:
    """Write the request's structured access line on ``berrys_monitoring.access`` (never
    raises): the logging component's fast path when only our handlers listen, the generic
    path (``capture_logs()``, foreign handlers, an exception with its stack) otherwise.
    """
    exc = st.exc
    level = _ERROR if exc is not None else _INFO
    std = observer.access_std
    if not std.isEnabledFor(level):
        return
    path = st.path
    if len(path) > MAX_PATH:  # a client's 10 KB path must not make 20 KB lines
        path = f"{path[:MAX_PATH]}...[{len(path) - MAX_PATH} more]"
    # Milliseconds to 3 decimals (round(x, 3) converts through a string).
    duration_ms = int(elapsed * 1_000_000.0 + 0.5) / 1000.0
    if exc is None and _ctx_get().get("request_id") == st.request_id:
        # The usual line: straight to the renderer, no fields dict. Our span's ids were
        # formatted once at the start; without our span, whatever span is current (an
        # outer one of the caller's) is looked up.
        untrusted = _UNTRUSTED if st.method == st.method_label else _UNTRUSTED_METHOD
        if not st.generated_id:
            untrusted = (*untrusted, "request_id")
        try:
            if write_usual_access(
                std, st.method, route, path, status, duration_ms, st.client_ip,
                st.response_bytes, untrusted, st.trace_fragment if st.span is not None else None,
            ):  # fmt: skip
                return
        except Exception as err:
            report_internal_error(_COMPONENT, err, "access log handler failed", key="access-log")
            return
    fields: dict[str, Any] = {
        "method": st.method,
        "route": route,
        "path": path,
        "status": status,
        "duration_ms": duration_ms,
        "client_ip": st.client_ip,
        "response_bytes": st.response_bytes,
    }
    # Normally the request id is in the logging context already (bound at start);
    # not when the line is written outside it (a WSGI body closed by the server).
    if _ctx_get().get("request_id") != st.request_id:
        fields["request_id"] = st.request_id
    message = f"{st.method} {path} {status}"
    try:
        if exc is None:
            # Client-controlled strings are redacted; what we produced is not.
            untrusted = _UNTRUSTED if st.method == st.method_label else _UNTRUSTED_METHOD
            if not st.generated_id:
                untrusted = (*untrusted, "request_id")
            # Our span's ids, formatted once at the start; without our span, whatever
            # span is current (an outer one of the caller's) is looked up.
            tfrag = st.trace_fragment if st.span is not None else None
            if write_access(std, level, message, fields, untrusted, tfrag):
                return
            observer.access.info(message, extra=fields)
        else:
            exc_info = None if observer.framework_logs_exceptions else exc
            observer.access.error(message, exc_info=exc_info, extra=fields)
    except Exception as err:
        # A broken handler must never fail the request it describes.
        report_internal_error(_COMPONENT, err, "access log handler failed", key="access-log")
