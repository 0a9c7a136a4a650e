"""Bind the request id into the logging context for the life of one request.

The logging component keeps its context in a ``contextvars`` variable, so what is bound
here is seen by code in the same task, in thread pools that copy the context (Starlette's
``run_in_threadpool``) and in background tasks run after the response. At the end the
whole context is restored (``reset_context``), so fields a handler bound
(``bind_context(user_id=...)``) do not leak into the next request a WSGI thread serves.
"""

from __future__ import annotations

from typing import Any

from berrys_monitoring.logging import reset_context
from berrys_monitoring.logging._fastline import bind_field

__all__ = ["bind_request", "unbind_request"]


def bind_request(request_id: str, generated: bool = False) -> Any:
    """Bind ``request_id``; returns what :func:`unbind_request` needs to restore.
    ``generated``: we made the id (see ``new_request_id``), so it needs no redaction."""
    return bind_field("request_id", request_id, generated)


def unbind_request(token: Any) -> None:
    """Restore the logging context that was there before :func:`bind_request`."""
    reset_context(token)
