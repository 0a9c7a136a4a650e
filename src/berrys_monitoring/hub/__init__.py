"""The telemetry hub (``berrys-monitoring hub``): OTLP ingest, an embedded store and a
query API. Importing this package does not import FastAPI; ``create_app`` and ``Hub`` do.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from berrys_monitoring.hub.config import ConfigError, HubConfig

if TYPE_CHECKING:
    from berrys_monitoring.hub._app import Hub, create_app

__all__ = ["ConfigError", "Hub", "HubConfig", "create_app"]


def __getattr__(name: str) -> Any:
    if name in ("Hub", "create_app"):
        try:
            from berrys_monitoring.hub import _app
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise ImportError(
                f"the hub needs its extra: pip install 'berrys-monitoring[hub]' ({exc})"
            ) from exc
        return getattr(_app, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
