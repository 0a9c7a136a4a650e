"""Web framework integrations: one call turns a service into an observed one.

The framework modules are imported explicitly, so importing this package imports no
web framework::

    from berrys_monitoring.middleware.fastapi import setup_monitoring   # FastAPI / Starlette
    from berrys_monitoring.middleware.flask import setup_monitoring     # Flask

Example::

    >>> from berrys_monitoring.middleware import ACCESS_LOGGER, UNMATCHED_ROUTE
    >>> ACCESS_LOGGER, UNMATCHED_ROUTE
    ('berrys_monitoring.access', '<unmatched>')
"""

from __future__ import annotations

from berrys_monitoring.middleware._core import ACCESS_LOGGER, UNMATCHED_ROUTE
from berrys_monitoring.middleware._http_metrics import DURATION_BUCKETS
from berrys_monitoring.middleware._options import MonitoringOptions, SetupOptions

__all__ = [
    "ACCESS_LOGGER",
    "DURATION_BUCKETS",
    "UNMATCHED_ROUTE",
    "MonitoringOptions",
    "SetupOptions",
]
