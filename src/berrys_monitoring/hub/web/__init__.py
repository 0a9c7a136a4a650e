"""The hub's web dashboard: the single-page app's routes and assets, the login session and
the browser security headers. The assets are built from ``frontend/`` by ``make assets``
into ``static/`` (not in git; the wheel ships them)."""

from __future__ import annotations

from berrys_monitoring.hub.web._headers import SecurityHeadersMiddleware
from berrys_monitoring.hub.web._session import (
    CSRF_COOKIE,
    CSRF_HEADER,
    SESSION_COOKIE,
    SessionSigner,
)
from berrys_monitoring.hub.web._static import PAGE_PATTERN, STATIC_DIR, build_web_router, is_page

__all__ = [
    "CSRF_COOKIE",
    "CSRF_HEADER",
    "PAGE_PATTERN",
    "SESSION_COOKIE",
    "STATIC_DIR",
    "SecurityHeadersMiddleware",
    "SessionSigner",
    "build_web_router",
    "is_page",
]
