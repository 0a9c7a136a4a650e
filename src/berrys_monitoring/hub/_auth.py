"""Who may call the hub, as pure ASGI middleware.

With a token: every path but ``/health``, the login page and the dashboard's static assets
needs either ``Authorization: Bearer <token>`` (API clients, exporters) or the dashboard's
session cookie. A cookie-authenticated state-changing request (POST, PUT, PATCH, DELETE) must
also echo the session's CSRF token in ``X-CSRF-Token`` (double submit: the ``bm_csrf`` cookie,
bound to the signed session); Bearer clients are unaffected. An unauthenticated browser
asking for a page is redirected to ``/login``.

With or without a token, a state-changing request that a browser sends from another origin
(its ``Origin`` header names another host) is refused, so a web page elsewhere cannot drive
a hub on localhost.
"""

from __future__ import annotations

import hmac
from urllib.parse import quote

import orjson
from starlette.types import ASGIApp, Receive, Scope, Send

from berrys_monitoring.hub.web._session import (
    CSRF_COOKIE,
    CSRF_HEADER,
    SESSION_COOKIE,
    SessionSigner,
)
from berrys_monitoring.hub.web._static import is_page

__all__ = ["AuthMiddleware", "BearerTokenMiddleware"]

OPEN_PATHS = frozenset({"/health", "/login", "/logout"})
_UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def _cookies(raw: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for part in raw.split(";"):
        name, sep, value = part.strip().partition("=")
        if sep and name not in out:
            out[name] = value
    return out


async def _reply(
    send: Send, status: int, body: dict[str, str], extra: tuple[tuple[bytes, bytes], ...] = ()
) -> None:
    data = orjson.dumps(body)
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(data)).encode()),
                (b"cache-control", b"no-store"),
                *extra,
            ],
        }
    )
    await send({"type": "http.response.body", "body": data})


class AuthMiddleware:
    """Bearer token or session cookie (+ CSRF) when ``token`` is set; the cross-origin
    check always.

    Example::

        >>> from starlette.responses import PlainTextResponse
        >>> guarded = AuthMiddleware(PlainTextResponse("ok"), token="s3cret")
        >>> guarded.signer is not None
        True
    """

    def __init__(
        self, app: ASGIApp, *, token: str | None, signer: SessionSigner | None = None
    ) -> None:
        self.app = app
        self.signer = signer if signer is not None else SessionSigner(token) if token else None
        self._expected = f"Bearer {token}".encode() if token else b""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        method: str = scope["method"]
        headers = dict(scope["headers"])
        unsafe = method in _UNSAFE
        if unsafe and not path.startswith("/v1/") and not self._same_origin(scope, headers):
            await _reply(send, 403, {"error": "cross-origin request refused"})
            return
        if self.signer is None or path in OPEN_PATHS or path.startswith("/assets/"):
            await self.app(scope, receive, send)
            return
        given = headers.get(b"authorization", b"")
        if given and hmac.compare_digest(given, self._expected):
            await self.app(scope, receive, send)
            return
        cookies = _cookies(headers.get(b"cookie", b"").decode("latin-1"))
        session_value = cookies.get(SESSION_COOKIE, "")
        session = self.signer.verify(session_value) if session_value and not given else None
        if session is not None:
            if unsafe:
                header = headers.get(CSRF_HEADER.encode(), b"").decode("latin-1")
                cookie = cookies.get(CSRF_COOKIE, "")
                if not (
                    header
                    and hmac.compare_digest(header, cookie)
                    and hmac.compare_digest(header, session.csrf)
                ):
                    await _reply(send, 403, {"error": "missing or wrong CSRF token"})
                    return
            await self.app(scope, receive, send)
            return
        if method in ("GET", "HEAD") and is_page(path):
            query = scope.get("query_string", b"").decode("latin-1")
            target = path + (f"?{query}" if query else "")
            location = f"/login?next={quote(target, safe='')}"
            await send(
                {
                    "type": "http.response.start",
                    "status": 303,
                    "headers": [(b"location", location.encode()), (b"content-length", b"0")],
                }
            )
            await send({"type": "http.response.body", "body": b""})
            return
        message = "missing or wrong bearer token" if given else "authorization required"
        if session_value and not given:
            message = "the session has expired or was ended: log in again"
        await _reply(
            send,
            401,
            {"error": message},
            ((b"www-authenticate", b'Bearer realm="berrys-monitoring hub"'),),
        )

    @staticmethod
    def _same_origin(scope: Scope, headers: dict[bytes, bytes]) -> bool:
        origin = headers.get(b"origin")
        if origin is None:
            return True  # not a browser's cross-origin request (curl, exporters, same-origin GET)
        # The host only: behind a TLS-terminating proxy the scheme the hub sees differs.
        _, _, netloc = origin.decode("latin-1").partition("://")
        return netloc != "" and netloc == headers.get(b"host", b"").decode("latin-1")


BearerTokenMiddleware = AuthMiddleware  # the name before the dashboard's sessions
