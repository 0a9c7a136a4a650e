"""A registered check: the function plus how to run and report it."""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from berrys_monitoring.health._status import Probe, coerce_probes

__all__ = ["CheckSpec", "HealthCheck", "make_spec"]

DEFAULT_TIMEOUT = 2.0
DEFAULT_PROBES: tuple[str, ...] = ("readiness",)


@runtime_checkable
class HealthCheck(Protocol):
    """What can be registered: any callable taking no arguments, sync or ``async``.

    It returns ``None``/``True``/``(True, message)`` when healthy, ``False`` or
    ``(False, message)`` when not, a status word (``"warn"``), a dict, or a
    :class:`CheckResult`; raising an exception also means unhealthy. Ready-made checks
    may also carry ``component_type``, ``measurement`` and ``secrets`` attributes that
    the registry uses as defaults.

    Example::

        >>> from berrys_monitoring.health import HealthCheck
        >>> def queue_ok():
        ...     return True, "queue depth 3"
        >>> isinstance(queue_ok, HealthCheck)
        True
    """

    def __call__(self) -> Any: ...


@dataclass(frozen=True)
class CheckSpec:
    name: str
    func: Callable[[], Any]
    critical: bool = True
    timeout: float = DEFAULT_TIMEOUT
    probes: frozenset[Probe] = frozenset({Probe.READINESS})
    cache_ttl: float | None = None
    component_type: str | None = None
    measurement: str = "responseTime"
    is_async: bool = False
    degraded_after: float | None = None
    secrets: list[str] = field(default_factory=list)


def _is_async(func: Callable[[], Any]) -> bool:
    if inspect.iscoroutinefunction(func):
        return True
    call = getattr(func, "__call__", None)  # noqa: B004 - an async __call__ on an object
    return call is not None and inspect.iscoroutinefunction(call)


def make_spec(
    name: str,
    func: Callable[[], Any],
    *,
    critical: bool = True,
    timeout: float | None = None,
    probes: str | Probe | Iterable[str | Probe] | None = None,
    cache_ttl: float | None = None,
    component_type: str | None = None,
    measurement: str | None = None,
    degraded_after: float | None = None,
) -> CheckSpec:
    """Validate registration options (configuration errors raise here, not at check time)."""
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"a health check needs a non-empty name, got {name!r}")
    if not callable(func):
        raise TypeError(f"health check {name!r} must be callable, got {type(func).__name__}")
    t = DEFAULT_TIMEOUT if timeout is None else timeout
    if isinstance(t, bool) or not isinstance(t, (int, float)) or not (0 < t < math.inf):
        raise ValueError(f"health check {name!r}: timeout must be a positive number, got {t!r}")
    if cache_ttl is not None and (
        isinstance(cache_ttl, bool) or not isinstance(cache_ttl, (int, float)) or cache_ttl < 0
    ):
        raise ValueError(
            f"health check {name!r}: cache_ttl must be >= 0 or None, got {cache_ttl!r}"
        )
    if degraded_after is not None and (
        isinstance(degraded_after, bool)
        or not isinstance(degraded_after, (int, float))
        or not 0 < degraded_after < t
    ):
        raise ValueError(
            f"health check {name!r}: degraded_after must be a number of seconds between 0 "
            f"and the timeout ({t:g}), got {degraded_after!r}"
        )
    # "component:measurement" names map straight onto health+json keys.
    if ":" in name:
        name_measurement: str | None = name.split(":", 1)[1] or None
    else:
        name_measurement = None
    return CheckSpec(
        name=name,
        func=func,
        critical=bool(critical),
        timeout=float(t),
        probes=coerce_probes(probes if probes is not None else DEFAULT_PROBES),
        cache_ttl=None if cache_ttl is None else float(cache_ttl),
        component_type=component_type or getattr(func, "component_type", None),
        measurement=measurement
        or name_measurement
        or getattr(func, "measurement", None)
        or "responseTime",
        is_async=_is_async(func),
        degraded_after=None if degraded_after is None else float(degraded_after),
        secrets=list(getattr(func, "secrets", None) or []),
    )
