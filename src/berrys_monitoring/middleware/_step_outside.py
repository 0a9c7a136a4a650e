"""Stepping out of a request's context for a moment, and back into it.

The middleware binds two context variables per request: the logging fields (the request
id) and OpenTelemetry's current context (the server span). Code that copies the current
context keeps everything in it alive for as long as the copy lives; the ASGI middleware
steps out while uvicorn sends the last body message (see ``_Exchange._send_last``), and
only when nothing else runs inside that send (:func:`uvicorn_send`): an outer middleware
that wraps ``send``, or another server that logs there, sees the request's context.
"""

from __future__ import annotations

from contextvars import Token
from types import CodeType, FunctionType, MethodType
from typing import TYPE_CHECKING, Any

from opentelemetry.context import Context

from berrys_monitoring.logging._context import EMPTY
from berrys_monitoring.logging._context import _context as _log_var

if TYPE_CHECKING:
    from berrys_monitoring.middleware._core import RequestState

__all__ = ["step_back", "step_outside", "uvicorn_send"]

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
        try:
            ctx_out = ctx_token.var.set(_NO_OTEL if old is _MISSING else old)
        except BaseException:
            if log_out is not None:
                _log_var.reset(log_out)  # all or nothing
            raise
    return log_out, ctx_out


def step_back(outside: tuple[Any, Any]) -> None:
    """Undo :func:`step_outside` (in the same context): the values as they were before it."""
    log_out, ctx_out = outside
    try:
        if ctx_out is not None:
            ctx_out.var.reset(ctx_out)
    finally:
        if log_out is not None:
            _log_var.reset(log_out)


def _error_middleware_send() -> tuple[CodeType | None, int]:
    """The code of the ``send`` wrapper Starlette's ServerErrorMiddleware makes (it only
    notes that the response started) and the closure cell of the ``send`` it wraps."""
    try:
        from starlette.middleware.errors import ServerErrorMiddleware

        for const in ServerErrorMiddleware.__call__.__code__.co_consts:
            if (
                isinstance(const, CodeType)
                and const.co_name == "_send"
                and "send" in const.co_freevars
            ):
                return const, const.co_freevars.index("send")
    except Exception:  # pragma: no cover - another Starlette layout: never stepped out
        pass
    return None, 0


_ERRORS_SEND, _ERRORS_CELL = _error_middleware_send()
# Types owning a bound ``send`` -> whether they are uvicorn's request cycles.
_UVICORN_CYCLES: dict[type, bool] = {}


def uvicorn_send(send: Any) -> bool:
    """Whether ``send`` is uvicorn's own, directly or behind Starlette's error middleware:
    then nothing but uvicorn runs inside it, and what uvicorn does there (write the bytes,
    schedule the keep-alive timer) needs nothing of the request's context.

    Example::

        >>> async def send(message): ...
        >>> uvicorn_send(send)
        False
    """
    if type(send) is FunctionType and send.__code__ is _ERRORS_SEND:
        closure = send.__closure__
        if closure is None:  # pragma: no cover - the code object says otherwise
            return False
        send = closure[_ERRORS_CELL].cell_contents
    if type(send) is not MethodType:
        return False
    kind = type(send.__self__)
    known = _UVICORN_CYCLES.get(kind)
    if known is None:
        known = _UVICORN_CYCLES[kind] = kind.__module__.startswith("uvicorn.protocols.http.")
    return known
