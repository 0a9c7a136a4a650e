"""Health status and probe vocabulary, and the coercion of loose user values into them."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from typing import Any

__all__ = ["HealthStatus", "Probe", "coerce_probes", "coerce_status"]


class HealthStatus(str, enum.Enum):
    """The status of one check or of the whole service.

    The values are those of ``application/health+json`` (``"pass"``, ``"warn"``,
    ``"fail"``); the names are the words the guide uses (healthy, degraded, unhealthy).
    ``PASS``/``WARN``/``FAIL`` are aliases. Being a ``str`` enum, a status compares equal
    to its value.

    Example::

        >>> from berrys_monitoring.health import HealthStatus
        >>> HealthStatus.DEGRADED == "warn", HealthStatus.FAIL is HealthStatus.UNHEALTHY
        (True, True)
        >>> HealthStatus.UNHEALTHY.label
        'unhealthy'
    """

    HEALTHY = "pass"
    DEGRADED = "warn"
    UNHEALTHY = "fail"
    PASS = "pass"
    WARN = "warn"
    FAIL = "fail"

    @property
    def label(self) -> str:
        """``"healthy"``, ``"degraded"`` or ``"unhealthy"``."""
        return _LABELS[self.value]

    @property
    def severity(self) -> int:
        """0 for healthy, 1 for degraded, 2 for unhealthy (for ``max()`` aggregation)."""
        return _SEVERITY[self.value]

    def __str__(self) -> str:
        return self.value


_LABELS = {"pass": "healthy", "warn": "degraded", "fail": "unhealthy"}
_SEVERITY = {"pass": 0, "warn": 1, "fail": 2}

# Words people (and other health endpoints) use for the three states.
_WORDS: dict[str, HealthStatus] = {
    **dict.fromkeys(("pass", "ok", "up", "healthy", "true"), HealthStatus.HEALTHY),
    **dict.fromkeys(("warn", "degraded", "warning"), HealthStatus.DEGRADED),
    **dict.fromkeys(("fail", "down", "unhealthy", "error", "false"), HealthStatus.UNHEALTHY),
}


def coerce_status(value: Any) -> HealthStatus | None:
    """A :class:`HealthStatus` for a bool, a status, or a status word; None if not one."""
    if isinstance(value, HealthStatus):
        return value
    if isinstance(value, bool):
        return HealthStatus.HEALTHY if value else HealthStatus.UNHEALTHY
    if isinstance(value, str):
        return _WORDS.get(value.strip().lower())
    return None


class Probe(str, enum.Enum):
    """Kubernetes probe kinds a check can be tagged for.

    *liveness*: is the process itself working (restart it if not) — dependencies do not
    belong here. *readiness*: can it serve traffic now (take it out of the load balancer
    if not) — the default for registered checks. *startup*: has it finished starting.

    Example::

        >>> from berrys_monitoring.health import Probe
        >>> Probe.READINESS == "readiness"
        True
    """

    LIVENESS = "liveness"
    READINESS = "readiness"
    STARTUP = "startup"

    def __str__(self) -> str:
        return self.value


def coerce_probes(probes: str | Probe | Iterable[str | Probe]) -> frozenset[Probe]:
    """Validate probe names at registration time (a typo must not silently drop a check)."""
    items = [probes] if isinstance(probes, (str, Probe)) else list(probes)
    out: set[Probe] = set()
    for item in items:
        try:
            out.add(Probe(str(item).lower()))
        except ValueError:
            valid = ", ".join(p.value for p in Probe)
            raise ValueError(f"unknown probe {item!r}: expected one of {valid}") from None
    if not out:
        raise ValueError("a health check needs at least one probe (liveness, readiness, startup)")
    return frozenset(out)
