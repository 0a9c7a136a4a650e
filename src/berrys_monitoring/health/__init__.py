"""Health checks with Kubernetes probe semantics and ``application/health+json`` output.

Register checks (sync or async functions returning ``(bool, message)`` or richer), run
them concurrently under per-check timeouts, and serve the result::

    from berrys_monitoring.health import register_health_check, check_health

    @register_health_check("database")
    def check_database_connection():
        return True, "Database connection is healthy"

    report = check_health()            # HealthReport: .status, .http_status, .to_health_json()
    db = check_health("database")      # CheckResult for one check

Ready-made checks for PostgreSQL, MySQL/MariaDB, SQLite, Redis, HTTP, TCP, disk and
memory return check functions to register. Drivers are imported only when such a check
is created.
"""

from __future__ import annotations

from berrys_monitoring.health._api import (
    check_health,
    check_health_async,
    configure_health,
    get_health_registry,
    register_health_check,
    set_health_registry,
    unregister_health_check,
)
from berrys_monitoring.health._checks_base import DependencyCheck
from berrys_monitoring.health._checks_db import (
    check_database_connection,
    check_mysql,
    check_postgres,
    check_sqlite,
)
from berrys_monitoring.health._checks_net import (
    check_external_service,
    check_http,
    check_redis_connection,
    check_tcp_connection,
)
from berrys_monitoring.health._checks_system import check_disk_space, check_memory
from berrys_monitoring.health._masking import mask_url
from berrys_monitoring.health._registry import HealthRegistry
from berrys_monitoring.health._report import HEALTH_JSON_CONTENT_TYPE, HealthReport
from berrys_monitoring.health._result import CheckResult
from berrys_monitoring.health._spec import HealthCheck
from berrys_monitoring.health._status import HealthStatus, Probe

__all__ = [
    "HEALTH_JSON_CONTENT_TYPE",
    "CheckResult",
    "DependencyCheck",
    "HealthCheck",
    "HealthRegistry",
    "HealthReport",
    "HealthStatus",
    "Probe",
    "check_database_connection",
    "check_disk_space",
    "check_external_service",
    "check_health",
    "check_health_async",
    "check_http",
    "check_memory",
    "check_mysql",
    "check_postgres",
    "check_redis_connection",
    "check_sqlite",
    "check_tcp_connection",
    "configure_health",
    "get_health_registry",
    "mask_url",
    "register_health_check",
    "set_health_registry",
    "unregister_health_check",
]
