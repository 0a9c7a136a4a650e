"""Custom dashboards: their definition, the API that stores them, the built-in ones and
their export as Grafana dashboard JSON. Importing this package does not import FastAPI;
``build_dashboards_router`` and ``load_dashboard`` do."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from berrys_monitoring.hub.dashboards._builtin import builtin_dashboards
from berrys_monitoring.hub.dashboards._grafana import to_grafana
from berrys_monitoring.hub.dashboards._model import (
    Dashboard,
    DashboardError,
    Panel,
    PanelQuery,
    Variable,
    parse_dashboard,
)

if TYPE_CHECKING:
    from berrys_monitoring.hub.dashboards._api import build_dashboards_router, load_dashboard

__all__ = [
    "Dashboard",
    "DashboardError",
    "Panel",
    "PanelQuery",
    "Variable",
    "build_dashboards_router",
    "builtin_dashboards",
    "load_dashboard",
    "parse_dashboard",
    "to_grafana",
]


def __getattr__(name: str) -> Any:
    if name in ("build_dashboards_router", "load_dashboard"):
        from berrys_monitoring.hub.dashboards import _api

        return getattr(_api, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
