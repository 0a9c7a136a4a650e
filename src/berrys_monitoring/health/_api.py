"""The module-level API over a default :class:`HealthRegistry` (the guide's functions)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, overload

from berrys_monitoring.health._registry import HealthRegistry
from berrys_monitoring.health._report import HealthReport
from berrys_monitoring.health._result import CheckResult
from berrys_monitoring.health._status import Probe

__all__ = [
    "check_health",
    "check_health_async",
    "configure_health",
    "get_health_registry",
    "register_health_check",
    "set_health_registry",
    "unregister_health_check",
]

F = TypeVar("F", bound=Callable[..., Any])

_default = HealthRegistry()


def get_health_registry() -> HealthRegistry:
    """The default registry the module-level functions (and the middleware) use.

    Example::

        >>> from berrys_monitoring.health import get_health_registry
        >>> "database" in get_health_registry() or True
        True
    """
    return _default


def set_health_registry(registry: HealthRegistry) -> HealthRegistry:
    """Replace the default registry (tests, or one registry per app); returns the old one.

    Example::

        >>> from berrys_monitoring.health import HealthRegistry, set_health_registry
        >>> old = set_health_registry(HealthRegistry())
        >>> _ = set_health_registry(old)
    """
    global _default
    if not isinstance(registry, HealthRegistry):
        raise TypeError(f"expected a HealthRegistry, got {type(registry).__name__}")
    old, _default = _default, registry
    return old


def configure_health(
    *,
    service_id: str | None = None,
    version: str | None = None,
    release_id: str | None = None,
    description: str | None = None,
    metrics: bool | None = None,
) -> None:
    """Describe the service in the health+json document (``serviceId``, ``version``, …),
    and with ``metrics=True`` export every check result as the gauges
    ``health_check_status{check}`` (1 pass, 0.5 warn, 0 fail) and
    ``health_check_duration_seconds{check}``. Arguments left at None are unchanged.

    Example::

        >>> from berrys_monitoring.health import configure_health
        >>> configure_health(service_id="api-gateway", version="2.1.0")
    """
    settings = {
        "service_id": service_id,
        "version": version,
        "release_id": release_id,
        "description": description,
        "metrics": metrics,
    }
    _default.configure(**{k: v for k, v in settings.items() if v is not None})


@overload
def register_health_check(name: str, func: None = None, **options: Any) -> Callable[[F], F]: ...
@overload
def register_health_check(name: str, func: F, **options: Any) -> F: ...
def register_health_check(name: str, func: Any = None, **options: Any) -> Any:
    """Register a health check under ``name`` — as a decorator, or called on a function.

    The function takes no arguments, may be ``async``, and returns ``(bool, message)``,
    a bool, a status word, a dict or a :class:`CheckResult` (raising means unhealthy).
    Options: ``critical=True``, ``timeout=2.0``, ``probes=("readiness",)``,
    ``cache_ttl=None``, ``component_type=None``, ``measurement="responseTime"``,
    ``degraded_after=None`` (seconds: a passing check slower than this is degraded).

    Example::

        >>> from berrys_monitoring.health import register_health_check, check_database_connection
        >>> @register_health_check("jobs", critical=False, timeout=1.0)
        ... def jobs_check():
        ...     return True, "worker alive"
        >>> _ = register_health_check("sqlite")(check_database_connection("sqlite:///:memory:"))
    """
    return _default.register(name, func, **options)


def unregister_health_check(name: str) -> bool:
    """Remove a check from the default registry; True if it existed.

    Example::

        >>> from berrys_monitoring.health import unregister_health_check
        >>> unregister_health_check("no-such-check")
        False
    """
    return _default.unregister(name)


@overload
def check_health(
    name: None = None, probe: str | Probe | None = None, *, use_cache: bool = True
) -> HealthReport: ...
@overload
def check_health(
    name: str, probe: str | Probe | None = None, *, use_cache: bool = True
) -> CheckResult: ...
def check_health(
    name: str | None = None, probe: str | Probe | None = None, *, use_cache: bool = True
) -> HealthReport | CheckResult:
    """Run the registered checks concurrently and return a :class:`HealthReport`; with
    ``name``, run that one check and return its :class:`CheckResult`.

    ``probe="liveness"`` / ``"readiness"`` / ``"startup"`` runs only the checks tagged for
    it. Returns within the longest check timeout even if a dependency hangs.

    Example::

        >>> from berrys_monitoring.health import check_health
        >>> report = check_health()
        >>> report.http_status in (200, 503)
        True
    """
    return _default.check_health(name, probe, use_cache=use_cache)


@overload
async def check_health_async(
    name: None = None, probe: str | Probe | None = None, *, use_cache: bool = True
) -> HealthReport: ...
@overload
async def check_health_async(
    name: str, probe: str | Probe | None = None, *, use_cache: bool = True
) -> CheckResult: ...
async def check_health_async(
    name: str | None = None, probe: str | Probe | None = None, *, use_cache: bool = True
) -> HealthReport | CheckResult:
    """Awaitable :func:`check_health` for async code: never blocks the event loop.

    Example::

        >>> import asyncio
        >>> from berrys_monitoring.health import check_health_async
        >>> asyncio.run(check_health_async(probe="liveness")).status
        <HealthStatus.HEALTHY: 'pass'>
    """
    return await _default.check_health_async(name, probe, use_cache=use_cache)
