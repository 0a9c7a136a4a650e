"""The floor: the least a pure ASGI middleware can do and still meet issue 4's request-id
and status requirements, measured as its own benchmark variant (``BENCH_VARIANT=floor``).

Per HTTP request it wraps ``send`` to see the status, times the request, makes a request
id (the benchmark's requests carry none to take over), binds it in a context variable for the request's lifetime and
echoes it in a response header. No route template, metrics, span, trace header or access
line, no error handling, no exclusions: whatever ours costs above this is the price of
those features; this much any middleware that meets the issue pays.

Example::

    >>> from benchmarks.http_apps.floor import FloorMiddleware
    >>> FloorMiddleware(app=None).app is None
    True
"""

from __future__ import annotations

from contextvars import ContextVar
from random import getrandbits
from time import perf_counter
from typing import Any

REQUEST_ID: ContextVar[str | None] = ContextVar("floor_request_id", default=None)


class FloorMiddleware:
    def __init__(self, app: Any) -> None:
        self.app = app
        self.last: tuple[int, float] = (0, 0.0)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = f"{getrandbits(128):032x}"
        header = (b"x-request-id", request_id.encode("latin-1"))
        status = 0

        async def observed_send(message: Any) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), header]
            await send(message)

        token = REQUEST_ID.set(request_id)
        started = perf_counter()
        try:
            await self.app(scope, receive, observed_send)
        finally:
            # What metrics and an access line would be made of.
            self.last = (status, perf_counter() - started)
            REQUEST_ID.reset(token)
