"""The seed's functions, acting on the default :class:`AlertManager`."""

from __future__ import annotations

from typing import Any

from berrys_monitoring.alerts._default import get_alert_manager
from berrys_monitoring.alerts._model import Alert, AlertSeverity, AlertState

__all__ = ["get_alert", "list_alerts", "resolve_alert", "trigger_alert", "update_alert"]


def trigger_alert(
    title: str,
    message: str,
    severity: AlertSeverity | str = AlertSeverity.WARNING,
    context: dict[str, Any] | None = None,
) -> str:
    """Raise an alert and return its id; an identical active alert (same title and
    context) is updated instead, counting occurrences, and escalated if ``severity`` is
    higher. Notifiers are called on their own threads.

    Example::

        alert_id = trigger_alert(
            "High CPU Usage",
            "CPU usage is above 90%",
            AlertSeverity.WARNING,
            {"service": "api-gateway", "cpu_usage": "95%"},
        )
    """
    return get_alert_manager().trigger(title, message, severity, context)


def update_alert(
    alert_id: str,
    state: AlertState | str | None = None,
    message: str | None = None,
    *,
    severity: AlertSeverity | str | None = None,
) -> Alert | None:
    """Change an alert's state (e.g. acknowledge it) or severity, with ``message`` as the
    note recorded in its history.

    Raises ``AlertNotFoundError`` for an unknown id and ``ValueError`` when reopening a
    resolved alert.

    Example::

        update_alert(alert_id, state=AlertState.ACKNOWLEDGED, message="Working on CPU issue")
    """
    return get_alert_manager().update(alert_id, state, message, severity=severity)


def resolve_alert(alert_id: str, resolution_message: str | None = None) -> Alert | None:
    """Resolve an alert, recording why; resolving twice is harmless.

    Example::

        resolve_alert(alert_id, resolution_message="CPU usage returned to normal")
    """
    return get_alert_manager().resolve(alert_id, resolution_message)


def get_alert(alert_id: str) -> Alert | None:
    """The alert with this id, including its history, or None.

    Example::

        >>> from berrys_monitoring.alerts import get_alert, trigger_alert
        >>> get_alert(trigger_alert("Cert expiring", "in 6 days", "warning", {})).title
        'Cert expiring'
    """
    return get_alert_manager().get(alert_id)


def list_alerts(
    state: AlertState | str | None = None, *, active: bool | None = None, limit: int = 1000
) -> list[Alert]:
    """Alerts of the default manager, newest first, filtered by state or activity.

    Example::

        >>> from berrys_monitoring.alerts import list_alerts, AlertState
        >>> all(a.state is AlertState.RESOLVED for a in list_alerts(AlertState.RESOLVED))
        True
    """
    return get_alert_manager().list(state, active=active, limit=limit)
