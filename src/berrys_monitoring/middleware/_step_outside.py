"""Stepping out of a request's context for a moment, and back into it.

The middleware binds two context variables per request: the logging fields (the request
id) and OpenTelemetry's current context (the server span). Code that copies the current
context keeps everything in it alive for as long as the copy lives; the ASGI middleware
steps out while the server sends the last body message (see ``_Exchange._send_last``).
"""

from __future__ import annotations

from contextvars import Token
from typing import TYPE_CHECKING, Any

from opentelemetry.context import Context

from berrys_monitoring.logging._context import EMPTY
from berrys_monitoring.logging._context import _context as _log_var

if TYPE_CHECKING:
    from berrys_monitoring.middleware._core import RequestState

__all__ = ["step_back", "step_outside"]

_MISSING = Token.MISSING
_NO_OTEL = Context()
_log_set = _log_var.set


def step_outside(st: RequestState) -> tuple[Any, Any]:
    """Set both variables to the values they had before the request started; returns the
    tokens for :func:`step_back` (None for a variable the request did not bind).

    Example::

        >>> from berrys_monitoring.middleware._core import RequestState
        >>> from berrys_monitoring.logging import get_context
        >>> from berrys_monitoring.logging._bindfield import bind_field
        >>> st = RequestState()
        >>> st.log_token = bind_field("request_id", "r-1")
        >>> outside = step_outside(st)
        >>> "request_id" in get_context()
        False
        >>> step_back(outside)
        >>> get_context()["request_id"]
        'r-1'
    """
    log_token = st.log_token
    ctx_token = st.ctx_token
    log_out = ctx_out = None
    if log_token is not None:
        old = log_token.old_value
        log_out = _log_set(EMPTY if old is _MISSING else old)
    # A runtime context other than the API's ContextVar one hands out other tokens: its
    # context is left as it is.
    if type(ctx_token) is Token:
        old = ctx_token.old_value
        ctx_out = ctx_token.var.set(_NO_OTEL if old is _MISSING else old)
    return log_out, ctx_out


def step_back(outside: tuple[Any, Any]) -> None:
    """Undo :func:`step_outside` (in the same context): the values as they were before it."""
    log_out, ctx_out = outside
    if ctx_out is not None:
        ctx_out.var.reset(ctx_out)
    if log_out is not None:
        _log_var.reset(log_out)
