"""Stepping out of a request's context for a moment, and back into it.

The middleware binds two context variables per request: the logging fields (the request
id) and OpenTelemetry's current context (the server span). Code that copies the current
context keeps everything in it alive for as long as the copy lives; the ASGI middleware
steps out while uvicorn sends the last body message (see ``_Exchange._send_last``), and
only when nothing else runs inside that send (:func:`uvicorn_send`): an outer middleware
that wraps ``send``, or another server that logs there, sees the request's context.
"""

from __future__ import annotations

import asyncio
from contextvars import Token
from types import FunctionType, MethodType
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


# Starlette's ServerErrorMiddleware wraps ``send`` in a local function that only notes
# that the response started; it is told by its public name, not taken apart.
_ERRORS_MODULE = "starlette.middleware.errors"
_ERRORS_SEND = "ServerErrorMiddleware.__call__.<locals>._send"
# Types owning a bound ``send`` -> whether they are uvicorn's request cycles.
_UVICORN_CYCLES: dict[type, bool] = {}
# Code of a request task's outermost coroutine -> whether it is uvicorn's ``run_asgi``.
_UVICORN_TASKS: dict[Any, bool] = {}


def _uvicorn_task() -> bool:
    """Whether the running task is a uvicorn request cycle's (``run_asgi``): then the
    server called the app directly and Starlette's outermost wrapper wraps its send."""
    try:
        task = asyncio.current_task()
    except RuntimeError:  # no running loop
        return False
    if task is None:
        return False
    coro = task.get_coro()
    code = getattr(coro, "cr_code", None)
    known = _UVICORN_TASKS.get(code)
    if known is None:
        module = getattr(getattr(coro, "cr_frame", None), "f_globals", {}).get("__name__", "")
        known = _UVICORN_TASKS[code] = module.startswith("uvicorn.protocols.http.") and (
            getattr(coro, "__qualname__", "") == "RequestResponseCycle.run_asgi"
        )
    return known


def uvicorn_send(send: Any) -> bool:
    """Whether ``send`` is uvicorn's own, directly or behind Starlette's error middleware
    in a request task uvicorn started: then nothing but uvicorn runs inside it, and what
    uvicorn does there (write the bytes, schedule the keep-alive timer) needs nothing of
    the request's context. (An ASGI wrapper put around the whole Starlette app, between
    uvicorn and Starlette, is not seen: its ``send`` wrapper runs outside the context.)

    Example::

        >>> async def send(message): ...
        >>> uvicorn_send(send)
        False
    """
    kind = type(send)
    if kind is FunctionType:
        return (
            send.__qualname__ == _ERRORS_SEND
            and send.__module__ == _ERRORS_MODULE
            and _uvicorn_task()
        )
    if kind is not MethodType:
        return False
    owner = type(send.__self__)
    known = _UVICORN_CYCLES.get(owner)
    if known is None:
        known = _UVICORN_CYCLES[owner] = owner.__module__.startswith("uvicorn.protocols.http.")
    return known
