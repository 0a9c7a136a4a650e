"""Bearer-token authentication for every path but ``/health``, as pure ASGI middleware."""

from __future__ import annotations

import hmac

import orjson
from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = ["BearerTokenMiddleware"]

OPEN_PATHS = frozenset({"/health"})


class BearerTokenMiddleware:
    def __init__(self, app: ASGIApp, *, token: str) -> None:
        self.app = app
        self._expected = f"Bearer {token}".encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in OPEN_PATHS:
            await self.app(scope, receive, send)
            return
        given = b""
        for name, value in scope["headers"]:
            if name == b"authorization":
                given = value
                break
        if hmac.compare_digest(given, self._expected):
            await self.app(scope, receive, send)
            return
        body = orjson.dumps(
            {"error": "missing or wrong bearer token" if given else "authorization required"}
        )
        await send(
            {
                "type": "http.response.start",
                "status": 401,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"www-authenticate", b'Bearer realm="berrys-monitoring hub"'),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
