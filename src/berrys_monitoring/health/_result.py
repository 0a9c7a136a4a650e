"""The result of one health check, and the coercion of whatever a check returned into it."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from berrys_monitoring.health._status import HealthStatus, coerce_status

__all__ = ["CheckResult", "coerce_outcome", "utcnow"]


def utcnow() -> _dt.datetime:
    return _dt.datetime.now(_dt.timezone.utc)


@dataclass(frozen=True)
class CheckResult:
    """What one health check found: status, message, duration, timestamp and details.

    A check function may return one of these directly when it wants to report more than
    ``(bool, message)`` — a degraded state, an observed value, details. ``name``,
    ``duration`` and ``timestamp`` are filled in by the registry when left at defaults.
    Dict-style access (``result["status"]``) reads :meth:`to_dict`.

    Example::

        >>> from berrys_monitoring.health import CheckResult, HealthStatus
        >>> r = CheckResult(status=HealthStatus.DEGRADED, message="queue is long",
        ...                 observed_value=950, observed_unit="jobs")
        >>> r.is_healthy, r.status == "warn", r["message"]
        (False, True, 'queue is long')
    """

    status: HealthStatus
    message: str = ""
    name: str = ""
    duration: float = 0.0
    """Seconds the check took (its timeout when it timed out)."""
    timestamp: _dt.datetime = field(default_factory=utcnow)
    """When the check finished (UTC)."""
    details: Mapping[str, Any] = field(default_factory=dict)
    critical: bool = True
    component_type: str | None = None
    measurement: str = "responseTime"
    observed_value: Any = None
    """Defaults to the duration in milliseconds for a ``responseTime`` measurement."""
    observed_unit: str | None = None
    cached: bool = False
    """True when this result came from the check's cache instead of a fresh run."""
    timed_out: bool = False

    @property
    def is_healthy(self) -> bool:
        """True when the check passed."""
        return self.status is HealthStatus.HEALTHY

    @property
    def healthy(self) -> bool:
        """Alias of :attr:`is_healthy`."""
        return self.is_healthy

    def as_tuple(self) -> tuple[bool, str]:
        """``(is_healthy, message)``: the shape the guide's check functions return."""
        return self.is_healthy, self.message

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (timestamp as ISO 8601, duration in seconds)."""
        return {
            "name": self.name,
            "status": self.status.value,
            "state": self.status.label,
            "healthy": self.is_healthy,
            "message": self.message,
            "critical": self.critical,
            "duration": self.duration,
            "timestamp": iso(self.timestamp),
            "details": dict(self.details),
            "component_type": self.component_type,
            "measurement": self.measurement,
            "observed_value": self.observed_value,
            "observed_unit": self.observed_unit,
            "cached": self.cached,
            "timed_out": self.timed_out,
        }

    def __getitem__(self, key: str) -> Any:
        return self.to_dict()[key]

    def __repr__(self) -> str:
        flags = "".join(f", {k}=True" for k in ("cached", "timed_out") if getattr(self, k))
        return (
            f"CheckResult(name={self.name!r}, status={self.status.value!r}, "
            f"message={self.message!r}, duration={self.duration:.6f}{flags})"
        )

    def with_(self, **changes: Any) -> CheckResult:
        """A copy with ``changes`` applied."""
        return replace(self, **changes)


def iso(ts: _dt.datetime) -> str:
    return ts.astimezone(_dt.timezone.utc).isoformat().replace("+00:00", "Z")


def _from_mapping(value: Mapping[str, Any]) -> CheckResult:
    raw = value.get("status", value.get("healthy", value.get("ok")))
    status = coerce_status(raw)
    if status is None:
        raise TypeError(f"a check's dict needs a 'status' (pass/warn/fail or bool), got {raw!r}")
    details = value.get("details") or {}
    return CheckResult(
        status=status,
        message=str(value.get("message", value.get("output", "")) or ""),
        details=dict(details),
        observed_value=value.get("observed_value", value.get("observedValue")),
        observed_unit=value.get("observed_unit", value.get("observedUnit")),
    )


def coerce_outcome(value: Any) -> CheckResult:
    """Turn what a check returned into a :class:`CheckResult`.

    Accepted: a ``CheckResult``; ``None`` (healthy: the check did not raise); a bool; a
    status or status word (``"warn"``); ``(ok, message)`` or ``(ok, message, details)``
    where ``ok`` is a bool or a status; a dict with ``status`` and optionally ``message``,
    ``details``, ``observed_value``, ``observed_unit``. Anything else is a ``TypeError``.
    """
    if isinstance(value, CheckResult):
        return value
    if value is None:
        return CheckResult(status=HealthStatus.HEALTHY)
    status = coerce_status(value)
    if status is not None:
        return CheckResult(status=status)
    if isinstance(value, tuple) and 1 <= len(value) <= 3:
        status = coerce_status(value[0])
        if status is None:
            raise TypeError(f"first item of a check's tuple must be a bool or status: {value[0]!r}")
        message = "" if len(value) < 2 or value[1] is None else str(value[1])
        details = dict(value[2]) if len(value) == 3 and value[2] else {}
        return CheckResult(status=status, message=message, details=details)
    if isinstance(value, Mapping):
        return _from_mapping(value)
    raise TypeError(
        "a health check must return a bool, (bool, message), a status, a dict or a "
        f"CheckResult; got {type(value).__name__}"
    )
