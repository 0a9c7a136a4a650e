"""Bind the request id into the logging context for the life of one request.

The logging component keeps its context in a ``contextvars`` variable, so what is bound
here is seen by code in the same task, in thread pools that copy the context (Starlette's
``run_in_threadpool``) and in background tasks run after the response.
"""

from __future__ import annotations

from typing import Any

__all__ = ["bind_request", "unbind_request"]

_MISSING = object()


def bind_request(request_id: str) -> Any:
    """Bind ``request_id``; returns what :func:`unbind_request` needs to restore."""
    from berrys_monitoring.logging import bind_context, get_context

    previous = get_context().get("request_id", _MISSING)
    bind_context(request_id=request_id)
    return (previous,)


def unbind_request(token: Any) -> None:
    """Restore the request id binding that was there before :func:`bind_request`."""
    from berrys_monitoring.logging import bind_context, unbind_context

    previous = token[0]
    if previous is _MISSING:
        unbind_context("request_id")
    else:
        bind_context(request_id=previous)
