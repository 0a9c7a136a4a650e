"""The single-page app: ``index.html`` for every page route (never cached, so a new hub
version is picked up on reload) and the content-hashed files under ``/assets/`` (cached for
a year: their names change when their content does)."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi import APIRouter, HTTPException
from fastapi.responses import FileResponse, Response

__all__ = ["PAGE_PATTERN", "STATIC_DIR", "build_web_router", "is_page"]

STATIC_DIR = Path(__file__).parent / "static"

# The dashboard's pages (contract 5). Anything else is the API, OTLP or the hub's own paths.
PAGE_PATTERN = re.compile(
    r"^/(?:|services/[^/]+|traces|traces/[^/]+|logs|alerts|dashboards|dashboards/[^/]+|login)/?$"
)
_HASHED = re.compile(r"-[A-Z0-9]{8,}\.(?:js|css|woff2?|svg|png)$")
_ASSET_NAME = re.compile(r"^[A-Za-z0-9._-]+$")
_MEDIA = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".txt": "text/plain; charset=utf-8",
    ".map": "application/json",
}
_NOT_BUILT = (
    "The dashboard's assets are not built. From a source checkout run `make assets` "
    "(needs Node.js and npm); the wheel on PyPI ships them.\n"
)


def is_page(path: str) -> bool:
    """Whether ``path`` is one of the dashboard's page routes.

    Example::

        >>> is_page("/services/checkout"), is_page("/api/v1/services")
        (True, False)
    """
    return PAGE_PATTERN.match(path) is not None


def build_web_router(static_dir: Path = STATIC_DIR) -> APIRouter:
    """The routes serving the dashboard from ``static_dir``.

    Example::

        >>> router = build_web_router()
        >>> "/assets/{name}" in {r.path for r in router.routes}
        True
    """
    router = APIRouter(include_in_schema=False)
    assets = static_dir / "assets"

    async def index() -> Response:
        page = static_dir / "index.html"
        if not page.is_file():
            return Response(_NOT_BUILT, 503, media_type="text/plain; charset=utf-8")
        return FileResponse(
            page,
            media_type="text/html; charset=utf-8",
            headers={"Cache-Control": "no-cache"},
        )

    for path in (
        "/",
        "/services/{name}",
        "/traces",
        "/traces/{trace_id}",
        "/logs",
        "/alerts",
        "/dashboards",
        "/dashboards/{dashboard_id}",
        "/login",
    ):
        router.add_api_route(path, index, methods=["GET", "HEAD"], name=f"page:{path}")

    @router.get("/assets/{name}", name="asset")
    async def asset(name: str) -> Response:
        if not _ASSET_NAME.match(name) or name.startswith("."):
            raise HTTPException(404, "no such asset")
        file = assets / name
        if not file.is_file():
            raise HTTPException(404, "no such asset")
        cache = (
            "public, max-age=31536000, immutable"
            if _HASHED.search(name)
            else "public, max-age=3600"
        )
        return FileResponse(
            file,
            media_type=_MEDIA.get(file.suffix, "application/octet-stream"),
            headers={"Cache-Control": cache},
        )

    return router
