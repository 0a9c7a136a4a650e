"""Bind the request id into the logging context for the life of one request.

The logging component keeps its context in a ``contextvars`` variable, so what is bound
here is seen by code in the same task, in thread pools that copy the context (Starlette's
``run_in_threadpool``) and in background tasks run after the response. At the end the
whole context is restored (``reset_context``), so fields a handler bound
(``bind_context(user_id=...)``) do not leak into the next request a WSGI thread serves.
"""

from __future__ import annotations

from typing import Any

from berrys_monitoring.logging import bind_context, reset_context

__all__ = ["bind_request", "unbind_request"]


def bind_request(request_id: str) -> Any:
    """Bind ``request_id``; returns what :func:`unbind_request` needs to restore."""
    return bind_context(request_id=request_id)


def unbind_request(token: Any) -> None:
    """Restore the logging context that was there before :func:`bind_request`."""
    reset_context(token)
