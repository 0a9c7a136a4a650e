"""Optional export of check results as gauges through :mod:`berrys_monitoring.metrics`,
so alert rules (which read metric values) and dashboards can watch health."""

from __future__ import annotations

from berrys_monitoring._internal import guard
from berrys_monitoring.health._result import CheckResult

__all__ = ["STATUS_VALUE", "export_result"]

STATUS_VALUE = {"pass": 1.0, "warn": 0.5, "fail": 0.0}


def export_result(res: CheckResult) -> None:
    """Set ``health_check_status{check}`` and ``health_check_duration_seconds{check}``."""
    with guard("health", "cannot export a health result as metrics"):
        # Imported here: the metrics package switches prometheus_client to multiprocess
        # mode on import, which a health-only user should not pay for.
        from berrys_monitoring.metrics import gauge

        tags = {"check": res.name}
        gauge("health_check_status", STATUS_VALUE[res.status.value], tags)
        gauge("health_check_duration_seconds", res.duration, tags)
