"""The notifier Protocol and the two notifiers that need no network: in-memory and log."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from typing import Protocol, runtime_checkable

from berrys_monitoring.alerts._delivery import DEFAULT_EVENTS, choose_events
from berrys_monitoring.alerts._model import AlertSeverity, Notification

__all__ = ["InMemoryNotifier", "LogNotifier", "Notifier"]


@runtime_checkable
class Notifier(Protocol):
    """Anything that can deliver a :class:`Notification`.

    ``send`` runs on the notifier's own delivery thread, never on the caller's. Raise to
    have it retried with backoff (raise ``PermanentDeliveryError`` when retrying cannot
    help). Optional attributes: ``name`` (for logs) and ``events``, the notification
    kinds wanted (default ``{"triggered", "escalated", "resolved"}``; ``"repeated"`` and
    ``"acknowledged"`` exist too).

    Example::

        class PrintNotifier:
            events = {"triggered", "resolved"}

            def send(self, notification):
                print(notification.kind, notification.alert.title)
    """

    def send(self, notification: Notification) -> None: ...


class InMemoryNotifier:
    """Keeps every notification in a list: the notifier for tests.

    Example::

        >>> from berrys_monitoring.alerts import AlertManager, InMemoryNotifier
        >>> inbox = InMemoryNotifier()
        >>> m = AlertManager(notifiers=[inbox])
        >>> _ = m.trigger("Cache cold", "hit ratio 12%", "info", {})
        >>> m.flush(), inbox.kinds()
        (True, ['triggered'])
    """

    name = "memory"

    def __init__(self, events: Iterable[str] | None = None) -> None:
        self.notifications: list[Notification] = []
        self.events = choose_events(events, DEFAULT_EVENTS)
        self._lock = threading.Lock()

    def send(self, notification: Notification) -> None:
        with self._lock:
            self.notifications.append(notification)

    def kinds(self) -> list[str]:
        """The kinds received so far, in order."""
        with self._lock:
            return [n.kind for n in self.notifications]

    def clear(self) -> None:
        """Forget what was received."""
        with self._lock:
            self.notifications.clear()


_LEVELS = {
    AlertSeverity.INFO: logging.INFO,
    AlertSeverity.WARNING: logging.WARNING,
    AlertSeverity.ERROR: logging.ERROR,
    AlertSeverity.CRITICAL: logging.CRITICAL,
}


class LogNotifier:
    """Writes one log line per notification, at a level matching the severity.

    Fields go in ``extra`` (``alert_id``, ``alert_title``, ``alert_severity``,
    ``alert_state``, ``alert_kind``, ``alert_context``), so a JSON formatter shows them.
    Resolutions are logged at INFO.

    Example::

        >>> from berrys_monitoring.alerts import AlertManager, LogNotifier
        >>> m = AlertManager(notifiers=[LogNotifier(logger="my_service.alerts")])
        >>> _ = m.trigger("Slow queries", "p95 1.2 s", "warning", {"db": "orders"})
        >>> m.flush()
        True
    """

    name = "log"

    def __init__(
        self,
        logger: str | logging.Logger = "berrys_monitoring.alerts",
        *,
        events: Iterable[str] | None = None,
    ) -> None:
        self.logger = logger if isinstance(logger, logging.Logger) else logging.getLogger(logger)
        self.events = choose_events(events, DEFAULT_EVENTS)

    def send(self, notification: Notification) -> None:
        alert = notification.alert
        level = logging.INFO if not notification.firing else _LEVELS[alert.severity]
        self.logger.log(
            level,
            "alert %s: [%s] %s: %s",
            notification.kind,
            alert.severity.value.upper(),
            alert.title,
            alert.message if notification.firing else (alert.history[-1].message or "resolved"),
            extra={
                "alert_id": alert.id,
                "alert_title": alert.title,
                "alert_severity": alert.severity.value,
                "alert_state": alert.state.value,
                "alert_kind": notification.kind,
                "alert_context": alert.context,
            },
        )
