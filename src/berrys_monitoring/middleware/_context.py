"""Bind the request id into the logging context for the life of one request.

The logging component keeps its context in a ``contextvars`` variable, so what is bound
here is seen by code in the same task, in thread pools that copy the context (Starlette's
``run_in_threadpool``) and in background tasks run after the response. At the end the
whole context is restored, so fields a handler bound (``bind_context(user_id=...)``) do
not leak into the next request a WSGI thread serves.

This reaches into the logging component's context variable (one ``set`` and one
``reset`` per request instead of three public calls that copy the fields each time).
"""

from __future__ import annotations

from typing import Any

from berrys_monitoring.logging._context import Fields
from berrys_monitoring.logging._context import _context as _var

__all__ = ["bind_request", "unbind_request"]


def bind_request(request_id: str) -> Any:
    """Bind ``request_id``; returns what :func:`unbind_request` needs to restore."""
    previous = _var.get()
    return (_var.set(Fields({**previous, "request_id": request_id})), previous)


def unbind_request(token: Any) -> None:
    """Restore the logging context that was there before :func:`bind_request`."""
    try:
        _var.reset(token[0])
    except ValueError:
        # Finished in another context than it started in (a server that closes the body
        # elsewhere): put the previous fields back explicitly.
        _var.set(token[1])
