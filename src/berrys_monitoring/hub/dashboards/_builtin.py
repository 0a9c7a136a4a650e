"""The five built-in dashboards of the guide's "Dashboard Integration" section, shipped as
definitions in the same JSON format users save (``builtin/*.json``): read-only in the API,
and a starting point to copy."""

from __future__ import annotations

import functools
from importlib import resources

import orjson

from berrys_monitoring.hub.dashboards._model import Dashboard, parse_dashboard

__all__ = ["builtin_dashboards"]

_ORDER = ("system-overview", "service", "request-tracing", "log-explorer", "alerts")


@functools.cache
def builtin_dashboards() -> dict[str, Dashboard]:
    """The built-in dashboards by id, in the guide's order.

    Example::

        >>> [d.title for d in builtin_dashboards().values()]
        ['System Overview', 'Service', 'Request Tracing', 'Log Explorer', 'Alerts']
    """
    folder = resources.files(__package__).joinpath("builtin")
    found = {}
    for name in _ORDER:
        data = orjson.loads(folder.joinpath(f"{name}.json").read_bytes())
        found[name] = parse_dashboard(data)
    return found
