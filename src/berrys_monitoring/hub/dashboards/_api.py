"""``/api/v1/dashboards``: list, create, read, replace and delete dashboards, and export
one as Grafana dashboard JSON. Built-in dashboards are listed too and are read-only."""

from __future__ import annotations

import re
import secrets
from typing import Annotated, Any

import anyio.to_thread
import orjson
from fastapi import APIRouter, HTTPException, Path, Request
from fastapi.responses import Response

from berrys_monitoring.hub.dashboards._builtin import builtin_dashboards
from berrys_monitoring.hub.dashboards._grafana import to_grafana
from berrys_monitoring.hub.dashboards._model import Dashboard, DashboardError, parse_dashboard
from berrys_monitoring.hub.store import Store, StoreBusyError

__all__ = ["build_dashboards_router", "load_dashboard"]

_MAX_BODY = 1 << 20
_ID_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,39}$"
DashboardId = Annotated[str, Path(pattern=_ID_PATTERN, description="the dashboard's id")]


def _json(value: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(value), status, media_type="application/json", headers=headers)


def _slug(title: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:32].strip("-")
    return f"{slug or 'dashboard'}-{secrets.token_hex(3)}"


def load_dashboard(store: Store, dashboard_id: str) -> tuple[Dashboard, dict[str, Any]] | None:
    """A built-in or saved dashboard and its metadata (``builtin``, ``created``,
    ``updated`` in ns), or None.

    Example::

        >>> import tempfile
        >>> from berrys_monitoring.hub.store import SQLiteStore
        >>> store = SQLiteStore(tempfile.mkdtemp())
        >>> load_dashboard(store, "service")[0].title
        'Service'
        >>> store.close()
    """
    builtin = builtin_dashboards().get(dashboard_id)
    if builtin is not None:
        return builtin, {"builtin": True, "created": None, "updated": None}
    row = store.get_dashboard(dashboard_id)
    if row is None:
        return None
    return parse_dashboard(orjson.loads(row[0])), {
        "builtin": False,
        "created": row[1],
        "updated": row[2],
    }


async def _body(request: Request) -> Dashboard:
    raw = await request.body()
    if len(raw) > _MAX_BODY:
        raise HTTPException(413, f"a dashboard is at most {_MAX_BODY} bytes of JSON")
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise HTTPException(400, f"the body is not JSON: {exc}") from None
    try:
        return parse_dashboard(data)
    except DashboardError as exc:
        raise HTTPException(400, f"invalid dashboard: {exc}") from None


def build_dashboards_router(store: Store) -> APIRouter:
    """The dashboards API over ``store``.

    Example::

        >>> import tempfile
        >>> from berrys_monitoring.hub.store import SQLiteStore
        >>> store = SQLiteStore(tempfile.mkdtemp())
        >>> sorted({r.path for r in build_dashboards_router(store).routes})
        ['/api/v1/dashboards', '/api/v1/dashboards/{dashboard_id}', '/api/v1/dashboards/{dashboard_id}/grafana']
        >>> store.close()
    """
    router = APIRouter(prefix="/api/v1/dashboards", tags=["dashboards"])

    async def save(dashboard: Dashboard) -> bool:
        definition = orjson.dumps(dashboard.to_json()).decode()
        try:
            return bool(
                await anyio.to_thread.run_sync(
                    lambda: store.put_dashboard(dashboard.id, dashboard.title, definition).result()
                )
            )
        except StoreBusyError as exc:
            raise HTTPException(503, f"the hub is busy ({exc}); retry later") from None

    async def load(dashboard_id: str) -> tuple[Dashboard, dict[str, Any]]:
        found = await anyio.to_thread.run_sync(load_dashboard, store, dashboard_id)
        if found is None:
            raise HTTPException(404, f"no dashboard {dashboard_id!r}")
        return found

    @router.get("", summary="every dashboard: the built-in ones first, then the saved ones")
    async def list_dashboards() -> Response:
        rows = await anyio.to_thread.run_sync(store.dashboards)
        out = [
            _summary(d, {"builtin": True, "updated": None}) for d in builtin_dashboards().values()
        ]
        for definition, _created, updated in rows:
            try:
                dashboard = parse_dashboard(orjson.loads(definition))
            except (DashboardError, orjson.JSONDecodeError):
                continue  # saved by a newer version with fields this one does not know
            out.append(_summary(dashboard, {"builtin": False, "updated": updated}))
        return _json({"dashboards": out})

    @router.post("", summary="create (or import) a dashboard; 201 with its definition")
    async def create(request: Request) -> Response:
        dashboard = await _body(request)
        if not dashboard.id:
            dashboard = dashboard.model_copy(update={"id": _slug(dashboard.title)})
        if dashboard.id in builtin_dashboards():
            raise HTTPException(409, f"{dashboard.id!r} is a built-in dashboard: give another id")
        if await anyio.to_thread.run_sync(store.get_dashboard, dashboard.id) is not None:
            raise HTTPException(409, f"a dashboard {dashboard.id!r} exists: PUT replaces it")
        await save(dashboard)
        found = await load(dashboard.id)
        return _json(_full(*found), 201, {"Location": f"/api/v1/dashboards/{dashboard.id}"})

    @router.get("/{dashboard_id}", summary="a dashboard's definition")
    async def get(dashboard_id: DashboardId) -> Response:
        return _json(_full(*await load(dashboard_id)))

    @router.put("/{dashboard_id}", summary="replace a dashboard (or create it with this id)")
    async def put(dashboard_id: DashboardId, request: Request) -> Response:
        dashboard = await _body(request)
        if dashboard.id and dashboard.id != dashboard_id:
            raise HTTPException(400, f"the body's id {dashboard.id!r} is not {dashboard_id!r}")
        if dashboard_id in builtin_dashboards():
            raise HTTPException(
                403, "built-in dashboards are read-only: save a copy under a new id (POST)"
            )
        new = await save(dashboard.model_copy(update={"id": dashboard_id}))
        return _json(_full(*await load(dashboard_id)), 201 if new else 200)

    @router.delete("/{dashboard_id}", summary="delete a saved dashboard", status_code=204)
    async def delete(dashboard_id: DashboardId) -> Response:
        if dashboard_id in builtin_dashboards():
            raise HTTPException(403, "built-in dashboards cannot be deleted")
        try:
            found = await anyio.to_thread.run_sync(
                lambda: store.delete_dashboard(dashboard_id).result()
            )
        except StoreBusyError as exc:
            raise HTTPException(503, f"the hub is busy ({exc}); retry later") from None
        if not found:
            raise HTTPException(404, f"no dashboard {dashboard_id!r}")
        return Response(status_code=204)

    @router.get(
        "/{dashboard_id}/grafana",
        summary="the dashboard as Grafana dashboard JSON (Dashboards > Import in Grafana)",
    )
    async def grafana(dashboard_id: DashboardId) -> Response:
        dashboard, _ = await load(dashboard_id)
        return _json(
            to_grafana(dashboard),
            headers={"Content-Disposition": f'attachment; filename="{dashboard.id}.grafana.json"'},
        )

    return router


def _summary(dashboard: Dashboard, meta: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": dashboard.id,
        "title": dashboard.title,
        "description": dashboard.description,
        "tags": dashboard.tags,
        "panels": len(dashboard.panels),
        **meta,
    }


def _full(dashboard: Dashboard, meta: dict[str, Any]) -> dict[str, Any]:
    return {**dashboard.to_json(), **meta}
