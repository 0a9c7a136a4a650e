"""The alert data model: severities, states, one alert and the history of its changes."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from enum import Enum
from typing import Any

import orjson

__all__ = ["Alert", "AlertEvent", "AlertSeverity", "AlertState", "Notification", "fingerprint"]

_RANK = {"info": 0, "warning": 1, "error": 2, "critical": 3}


class AlertSeverity(str, Enum):
    """How bad an alert is; ordered so that ``CRITICAL > ERROR > WARNING > INFO``.

    The ordering drives escalation: re-triggering an active alert with a higher severity
    raises it and notifies again.

    Example::

        >>> AlertSeverity.CRITICAL > AlertSeverity.WARNING
        True
        >>> AlertSeverity("error") is AlertSeverity.ERROR
        True
    """

    INFO = "info"
    WARNING = "warning"
    ERROR = "error"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        """0 for INFO up to 3 for CRITICAL."""
        return _RANK[self.value]

    # str's lexical ordering would put "critical" < "info"; compare by rank instead.
    def __lt__(self, other: object) -> bool:
        if not isinstance(other, AlertSeverity):
            return NotImplemented
        return self.rank < other.rank

    def __le__(self, other: object) -> bool:
        if not isinstance(other, AlertSeverity):
            return NotImplemented
        return self.rank <= other.rank

    def __gt__(self, other: object) -> bool:
        if not isinstance(other, AlertSeverity):
            return NotImplemented
        return self.rank > other.rank

    def __ge__(self, other: object) -> bool:
        if not isinstance(other, AlertSeverity):
            return NotImplemented
        return self.rank >= other.rank

    def __str__(self) -> str:
        return self.value


class AlertState(str, Enum):
    """Where an alert is in its lifecycle: ``TRIGGERED`` -> ``ACKNOWLEDGED`` -> ``RESOLVED``.

    ``ACTIVE`` is not a state of its own: :meth:`is_active` is true for every state but
    ``RESOLVED``.

    Example::

        >>> AlertState.ACKNOWLEDGED.is_active
        True
        >>> AlertState.RESOLVED.is_active
        False
    """

    TRIGGERED = "triggered"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"

    @property
    def is_active(self) -> bool:
        """True until the alert is resolved."""
        return self is not AlertState.RESOLVED

    def __str__(self) -> str:
        return self.value


def fingerprint(title: str, context: dict[str, Any]) -> str:
    """The de-duplication identity of an alert: a hash of its title and context.

    Example::

        >>> fingerprint("Disk full", {"host": "a"}) == fingerprint("Disk full", {"host": "a"})
        True
    """
    return hashlib.sha256(canonical_json([title, context])).hexdigest()[:16]


_JSON_OPTIONS = orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS


def canonical_json(value: Any) -> bytes:
    """Sorted-key JSON; values JSON cannot hold are written as their ``str()``."""
    return orjson.dumps(value, default=str, option=_JSON_OPTIONS)


def normalise_context(context: dict[str, Any] | None) -> dict[str, Any]:
    """The context as JSON values, so what notifiers see equals what is stored."""
    if not context:
        return {}
    if not isinstance(context, dict):
        raise TypeError(f"alert context must be a dict, got {type(context).__name__}")
    result: dict[str, Any] = orjson.loads(canonical_json(context))
    return result


@dataclass(frozen=True)
class AlertEvent:
    """One timestamped change in an alert's history.

    ``kind`` is one of ``triggered``, ``repeated`` (a duplicate was folded in),
    ``escalated``, ``acknowledged``, ``updated``, ``resolved``.

    Example::

        >>> from datetime import datetime, timezone
        >>> e = AlertEvent(datetime.now(timezone.utc), "acknowledged", AlertState.ACKNOWLEDGED,
        ...                AlertSeverity.WARNING, "on it")
        >>> e.message
        'on it'
    """

    at: datetime
    kind: str
    state: AlertState
    severity: AlertSeverity
    message: str


@dataclass(frozen=True)
class Alert:
    """A snapshot of one alert: identity, current state and its full history.

    Example::

        >>> from berrys_monitoring.alerts import AlertManager, AlertSeverity
        >>> m = AlertManager()
        >>> a = m.get(m.trigger("Disk full", "93% used", AlertSeverity.ERROR, {"host": "db1"}))
        >>> (a.state.value, a.occurrences, a.history[0].kind)
        ('triggered', 1, 'triggered')
    """

    id: str
    title: str
    message: str
    severity: AlertSeverity
    state: AlertState
    context: dict[str, Any]
    fingerprint: str
    created_at: datetime
    updated_at: datetime
    resolved_at: datetime | None = None
    occurrences: int = 1
    rule: str | None = None
    value: float | None = None
    history: tuple[AlertEvent, ...] = field(default_factory=tuple)

    @property
    def is_active(self) -> bool:
        """True until the alert is resolved."""
        return self.state.is_active

    def with_changes(self, **changes: Any) -> Alert:
        """A copy with ``changes`` applied (alerts are immutable snapshots)."""
        return replace(self, **changes)


@dataclass(frozen=True)
class Notification:
    """What a notifier receives: the ``kind`` of change and the alert after it.

    ``kind`` is ``triggered``, ``escalated``, ``resolved`` or ``repeated`` (only for
    notifiers that ask for repeats, such as :class:`AlertmanagerNotifier`).

    Example::

        >>> from berrys_monitoring.alerts import AlertManager, InMemoryNotifier
        >>> inbox = InMemoryNotifier()
        >>> m = AlertManager(notifiers=[inbox])
        >>> _ = m.trigger("Queue stuck", "no progress", "error", {"queue": "mail"})
        >>> m.flush()
        True
        >>> inbox.notifications[0].kind
        'triggered'
    """

    kind: str
    alert: Alert

    @property
    def firing(self) -> bool:
        """False only for a resolve notification."""
        return self.kind != "resolved"


def utc_from_ts(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, tz=timezone.utc)


def coerce_severity(value: AlertSeverity | str) -> AlertSeverity:
    if isinstance(value, AlertSeverity):
        return value
    try:
        return AlertSeverity(str(value).lower())
    except ValueError:
        raise ValueError(
            f"unknown alert severity {value!r}; use one of {[s.value for s in AlertSeverity]}"
        ) from None


def coerce_state(value: AlertState | str) -> AlertState:
    if isinstance(value, AlertState):
        return value
    try:
        return AlertState(str(value).lower())
    except ValueError:
        raise ValueError(
            f"unknown alert state {value!r}; use one of {[s.value for s in AlertState]}"
        ) from None
