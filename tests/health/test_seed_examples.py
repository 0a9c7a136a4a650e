"""The guide's two health examples, copied verbatim (import prefix changed), and their effect."""

from __future__ import annotations

from berrys_monitoring.health import HealthRegistry, HealthStatus


def test_seed_basic_usage_registers_and_checks_one_and_all(registry: HealthRegistry) -> None:
    ns: dict[str, object] = {}
    exec(
        """
from berrys_monitoring.health import register_health_check, check_health

# Register a health check
@register_health_check("database")
def check_database_connection():
    # Check if database is accessible
    return True, "Database connection is healthy"

# Check health of all registered components
health_status = check_health()

# Get health status for specific component
db_status = check_health("database")
""",
        ns,
    )
    health_status = ns["health_status"]
    db_status = ns["db_status"]
    assert registry.names() == ["database"]
    assert health_status.status is HealthStatus.HEALTHY  # type: ignore[attr-defined]
    assert health_status.is_healthy and health_status.http_status == 200  # type: ignore[attr-defined]
    assert health_status["status"] == "pass"  # type: ignore[index]
    assert health_status["checks"]["database"]["message"] == "Database connection is healthy"  # type: ignore[index]
    assert db_status.name == "database"  # type: ignore[attr-defined]
    assert db_status.is_healthy  # type: ignore[attr-defined]
    assert db_status.message == "Database connection is healthy"  # type: ignore[attr-defined]
    assert db_status.as_tuple() == (True, "Database connection is healthy")  # type: ignore[attr-defined]
    # The decorator leaves the user's function callable as before.
    assert ns["check_database_connection"]() == (True, "Database connection is healthy")  # type: ignore[operator]


def test_seed_common_checks_register_without_connecting_and_report_failures(
    registry: HealthRegistry,
) -> None:
    # The seed's second block uses register_health_check without importing it: supplied here.
    # Its URLs cannot exist on this machine (no database "db" for the OS user, no
    # api.example.com: the network is loopback only); the block must still register
    # without connecting, and running the checks must report them as failing, not raise.
    from berrys_monitoring.health import register_health_check

    ns: dict[str, object] = {"register_health_check": register_health_check}
    exec(
        """
from berrys_monitoring.health import (
    check_database_connection,
    check_redis_connection,
    check_external_service,
)

# Register health checks
register_health_check("database")(check_database_connection("postgresql://localhost/db"))
register_health_check("redis")(check_redis_connection("redis://localhost:6379"))
register_health_check("api")(check_external_service("https://api.example.com/health"))
""",
        ns,
    )
    assert sorted(registry.names()) == ["api", "database", "redis"]
    report = registry.check_health()
    # The local Redis is up; the database "db" and api.example.com are not reachable here.
    assert report.checks["redis"].is_healthy, report.checks["redis"].message
    assert report.checks["database"].status is HealthStatus.UNHEALTHY
    assert "PostgreSQL at postgresql://localhost/db" in report.checks["database"].message
    assert report.checks["api"].status is HealthStatus.UNHEALTHY
    assert "https://api.example.com/health" in report.checks["api"].message
    assert report.status is HealthStatus.UNHEALTHY and report.http_status == 503
    doc = report.to_health_json()
    assert set(doc["checks"]) == {"database:responseTime", "redis:responseTime", "api:responseTime"}
