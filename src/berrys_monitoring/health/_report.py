"""The aggregate of several checks, rendered as ``application/health+json``."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from berrys_monitoring.health._result import CheckResult, iso, utcnow
from berrys_monitoring.health._status import HealthStatus

__all__ = ["HEALTH_JSON_CONTENT_TYPE", "HealthReport", "aggregate"]

HEALTH_JSON_CONTENT_TYPE = "application/health+json"


def aggregate(results: Mapping[str, CheckResult]) -> HealthStatus:
    """Overall status: a failing *critical* check fails the service; a failing
    non-critical check, or any degraded one, only degrades it."""
    worst = HealthStatus.HEALTHY
    for r in results.values():
        s = r.status
        if s is HealthStatus.UNHEALTHY:
            if r.critical:
                return s
            s = HealthStatus.DEGRADED
        if s is HealthStatus.DEGRADED:
            worst = s
    return worst


@dataclass(frozen=True)
class HealthReport(Mapping[str, Any]):
    """The result of :func:`check_health`: overall status plus one result per check.

    * ``status`` — a :class:`HealthStatus` (equal to ``"pass"``, ``"warn"`` or ``"fail"``;
      ``status.label`` is ``"healthy"``, ``"degraded"`` or ``"unhealthy"``).
    * ``is_healthy`` (everything passed), ``is_degraded``, ``ok`` (not failing: what a
      load balancer should see), ``http_status`` (200 for pass/warn, 503 for fail).
    * ``checks`` — ``{name: CheckResult}``; ``failed`` lists the names that did not pass.
    * ``to_health_json()`` — the ``application/health+json`` document.
    * It is also a read-only mapping over :meth:`to_dict`: ``report["status"]``,
      ``report["checks"]["database"]["message"]``, ``dict(report)``.

    Example::

        >>> from berrys_monitoring.health import HealthRegistry
        >>> reg = HealthRegistry()
        >>> _ = reg.register("cache", critical=False)(lambda: (False, "cache down"))
        >>> report = reg.check_health()
        >>> report.status.label, report.http_status, report["checks"]["cache"]["message"]
        ('degraded', 200, 'cache down')
    """

    status: HealthStatus
    checks: Mapping[str, CheckResult]
    timestamp: _dt.datetime = field(default_factory=utcnow)
    duration: float = 0.0
    probe: str | None = None
    service_id: str | None = None
    version: str | None = None
    release_id: str | None = None
    description: str | None = None

    @property
    def is_healthy(self) -> bool:
        """True when every check passed."""
        return self.status is HealthStatus.HEALTHY

    @property
    def is_degraded(self) -> bool:
        """True when the service works but something non-critical is failing or warning."""
        return self.status is HealthStatus.DEGRADED

    @property
    def ok(self) -> bool:
        """True unless a critical check failed (healthy or degraded)."""
        return self.status is not HealthStatus.UNHEALTHY

    @property
    def http_status(self) -> int:
        """200 for pass and warn, 503 for fail (draft-inadarei-api-health-check)."""
        return 503 if self.status is HealthStatus.UNHEALTHY else 200

    @property
    def content_type(self) -> str:
        """``application/health+json``."""
        return HEALTH_JSON_CONTENT_TYPE

    @property
    def failed(self) -> list[str]:
        """Names of the checks that did not pass."""
        return [n for n, r in self.checks.items() if r.status is not HealthStatus.HEALTHY]

    def output(self) -> str:
        """One line naming what is wrong ("" when everything passes)."""
        parts = []
        for name in self.failed:
            r = self.checks[name]
            parts.append(f"{name}: {r.message}" if r.message else name)
        return "; ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        """A plain JSON-ready dict: status, state, timestamp, duration and every check."""
        return {
            "status": self.status.value,
            "state": self.status.label,
            "healthy": self.is_healthy,
            "timestamp": iso(self.timestamp),
            "duration": self.duration,
            "probe": self.probe,
            "checks": {n: r.to_dict() for n, r in self.checks.items()},
        }

    def to_health_json(self) -> dict[str, Any]:
        """The ``application/health+json`` document (draft-inadarei-api-health-check).

        ``checks`` is keyed ``"component:measurement"``; each entry is a list holding
        one object with ``componentType``, ``observedValue``, ``observedUnit``,
        ``status``, ``time`` and, when not passing, ``output``.
        """
        doc: dict[str, Any] = {"status": self.status.value}
        for key, value in (
            ("version", self.version),
            ("releaseId", self.release_id),
            ("serviceId", self.service_id),
            ("description", self.description),
        ):
            if value:
                doc[key] = value
        out = self.output()
        if out:
            doc["output"] = out
        checks: dict[str, list[dict[str, Any]]] = {}
        for name, r in self.checks.items():
            component = name.split(":", 1)[0]
            entry: dict[str, Any] = {"componentId": component}
            if r.component_type:
                entry["componentType"] = r.component_type
            if r.observed_value is not None:
                entry["observedValue"] = r.observed_value
            if r.observed_unit:
                entry["observedUnit"] = r.observed_unit
            entry["status"] = r.status.value
            entry["time"] = iso(r.timestamp)
            if r.status is not HealthStatus.HEALTHY and r.message:
                entry["output"] = r.message
            checks.setdefault(f"{component}:{r.measurement}", []).append(entry)
        doc["checks"] = checks
        return doc

    def __repr__(self) -> str:
        return (
            f"HealthReport(status={self.status.value!r} ({self.status.label}), "
            f"checks={len(self.checks)}, failed={self.failed!r}, http_status={self.http_status})"
        )

    # Mapping protocol over to_dict(), so `health_status["status"]` works as users expect.
    def __getitem__(self, key: str) -> Any:
        return self.to_dict()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.to_dict())

    def __len__(self) -> int:
        return len(self.to_dict())

    def __bool__(self) -> bool:
        # A Mapping is falsy when empty; a report is truthy exactly when it is `ok`.
        return self.ok
