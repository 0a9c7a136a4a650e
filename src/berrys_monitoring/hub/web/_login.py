"""``POST /login`` (the token for a session cookie) and ``POST /logout``."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import Response

from berrys_monitoring.hub.web._session import (
    CSRF_COOKIE,
    CSRF_HEADER,
    SESSION_COOKIE,
    SessionSigner,
)

__all__ = ["build_login_router"]

_FAILED_LOGIN_DELAY_S = 0.3  # slows guessing; a token is long enough that it cannot succeed


def _json(body: dict[str, Any], status: int = 200) -> Response:
    return Response(
        orjson.dumps(body),
        status,
        media_type="application/json",
        headers={"Cache-Control": "no-store"},
    )


def build_login_router(signer: SessionSigner | None) -> APIRouter:
    """Login and logout; with ``signer`` None (a hub without a token) login is not needed.

    Example::

        >>> sorted(r.path for r in build_login_router(None).routes)
        ['/login', '/logout']
    """
    router = APIRouter(include_in_schema=False)

    @router.post("/login")
    async def login(request: Request) -> Response:
        if signer is None:
            return _json({"ok": True, "auth": "none"})
        token = ""
        content_type = request.headers.get("content-type", "")
        if content_type.startswith("application/json"):
            try:
                body = orjson.loads(await request.body())
            except orjson.JSONDecodeError:
                return _json({"error": "the body is not JSON"}, 400)
            if isinstance(body, dict) and isinstance(body.get("token"), str):
                token = body["token"]
        else:
            form = await request.form()
            value = form.get("token")
            token = value if isinstance(value, str) else ""
        if not token:
            return _json({"error": "token required"}, 400)
        if not signer.check_token(token):
            await asyncio.sleep(_FAILED_LOGIN_DELAY_S)
            return _json({"error": "wrong token"}, 401)
        value, session = signer.issue()
        secure = request.url.scheme == "https"
        response = _json({"ok": True, "auth": "session", "expires": session.expires})
        max_age = int(signer.lifetime_s)
        response.set_cookie(
            SESSION_COOKIE, value, max_age=max_age, path="/", secure=secure, httponly=True,
            samesite="strict",
        )  # fmt: skip
        response.set_cookie(
            CSRF_COOKIE, session.csrf, max_age=max_age, path="/", secure=secure, httponly=False,
            samesite="strict",
        )  # fmt: skip
        return response

    @router.post("/logout")
    async def logout(request: Request) -> Response:
        if signer is not None:
            value = request.cookies.get(SESSION_COOKIE, "")
            session = signer.verify(value) if value else None
            if session is not None and request.headers.get(CSRF_HEADER) == session.csrf:
                signer.revoke(session)
        response = _json({"ok": True})
        secure = request.url.scheme == "https"
        for name, http_only in ((SESSION_COOKIE, True), (CSRF_COOKIE, False)):
            response.delete_cookie(
                name, path="/", secure=secure, httponly=http_only, samesite="strict"
            )
        return response

    return router
