"""Pin the public surface of berrys_monitoring.health; every public name is documented."""

from __future__ import annotations

import inspect

import berrys_monitoring.health as health

EXPECTED = [
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


def test_all_is_pinned() -> None:
    assert health.__all__ == EXPECTED


def test_every_public_name_exists() -> None:
    for name in health.__all__:
        assert hasattr(health, name), name


def test_every_public_callable_has_a_docstring_with_an_example() -> None:
    for name in health.__all__:
        obj = getattr(health, name)
        if not callable(obj):
            continue
        doc = inspect.getdoc(obj) or ""
        assert doc, f"{name} has no docstring"
        assert "Example" in doc or ">>>" in doc, f"{name} docstring has no example"
