"""The alert manager: lifecycle, de-duplication, escalation, persistence, notification."""

from __future__ import annotations

import os
import sqlite3
import time
import uuid
from collections.abc import Callable, Iterable
from typing import Any

from berrys_monitoring._internal import count_event, report_internal_error
from berrys_monitoring.alerts._delivery import Delivery
from berrys_monitoring.alerts._model import (
    Alert,
    AlertEvent,
    AlertSeverity,
    AlertState,
    Notification,
    coerce_severity,
    coerce_state,
    fingerprint,
    normalise_context,
    utc_from_ts,
)
from berrys_monitoring.alerts._store import SQLiteAlertStore

__all__ = ["AlertManager", "AlertNotFoundError"]


class AlertNotFoundError(KeyError):
    """No alert has this id (in this manager's store).

    Example::

        try:
            resolve_alert("no-such-id")
        except AlertNotFoundError:
            ...
    """


class AlertManager:
    """Creates, de-duplicates, persists and notifies alerts.

    ``store`` is a :class:`SQLiteAlertStore`, a file path (state survives restarts) or
    None (in memory). Each notifier gets its own delivery queue and worker thread; a
    send that fails is retried ``max_attempts`` times with exponential backoff starting
    at ``backoff_initial`` seconds. ``clock`` returns epoch seconds (inject one in tests).

    Example::

        >>> from berrys_monitoring.alerts import AlertManager, InMemoryNotifier
        >>> inbox = InMemoryNotifier()
        >>> m = AlertManager(notifiers=[inbox])
        >>> a = m.trigger("Disk full", "91%", "warning", {"host": "db1"})
        >>> b = m.trigger("Disk full", "97%", "critical", {"host": "db1"})   # same alert
        >>> a == b, m.get(a).occurrences, m.get(a).severity.value
        (True, 2, 'critical')
        >>> _ = m.resolve(a, "cleaned up")
        >>> m.flush() and [n.kind for n in inbox.notifications]
        ['triggered', 'escalated', 'resolved']
    """

    def __init__(
        self,
        store: SQLiteAlertStore | str | os.PathLike[str] | None = None,
        notifiers: Iterable[Any] = (),
        *,
        clock: Callable[[], float] = time.time,
        queue_size: int = 1000,
        max_attempts: int = 5,
        backoff_initial: float = 0.5,
        backoff_max: float = 30.0,
    ) -> None:
        if queue_size < 1 or max_attempts < 1 or backoff_initial < 0 or backoff_max < 0:
            raise ValueError(
                "queue_size and max_attempts must be >= 1, backoff_initial/backoff_max >= 0"
            )
        self.store = store if isinstance(store, SQLiteAlertStore) else SQLiteAlertStore(store)
        self.clock = clock
        self._delivery_options = {
            "queue_size": queue_size,
            "max_attempts": max_attempts,
            "backoff_initial": backoff_initial,
            "backoff_max": backoff_max,
        }
        self._deliveries: list[Delivery] = []
        self.evaluator: Any = None  # a RuleEvaluator once start_rules() is called
        for notifier in notifiers:
            self.add_notifier(notifier)

    @property
    def notifiers(self) -> list[Any]:
        """The notifiers, in the order they were added."""
        return [d.notifier for d in self._deliveries]

    def add_notifier(self, notifier: Any) -> None:
        """Send future notifications to ``notifier`` too (anything with ``send(notification)``)."""
        if not callable(getattr(notifier, "send", None)):
            raise TypeError(f"{notifier!r} is not a notifier: it has no send(notification) method")
        self._deliveries.append(Delivery(notifier, **self._delivery_options))  # type: ignore[arg-type]

    # -- lifecycle ---------------------------------------------------------------------

    def trigger(
        self,
        title: str,
        message: str,
        severity: AlertSeverity | str = AlertSeverity.WARNING,
        context: dict[str, Any] | None = None,
        *,
        rule: str | None = None,
        value: float | None = None,
    ) -> str:
        """Raise an alert, or fold it into the active one with the same title and context.

        Returns the alert id. A duplicate bumps ``occurrences``; a duplicate with a higher
        severity escalates the alert and notifies again.
        """
        if not isinstance(title, str) or not title:
            raise ValueError("alert title must be a non-empty string")
        sev = coerce_severity(severity)
        ctx = normalise_context(context)
        fp = fingerprint(title, ctx)
        now = utc_from_ts(self.clock())
        kind = "triggered"
        try:
            with self.store.transaction():
                current = self.store.find_active(fp)
                if current is None:
                    alert = Alert(
                        id=uuid.uuid4().hex,
                        title=title,
                        message=message,
                        severity=sev,
                        state=AlertState.TRIGGERED,
                        context=ctx,
                        fingerprint=fp,
                        created_at=now,
                        updated_at=now,
                        rule=rule,
                        value=value,
                        history=(AlertEvent(now, kind, AlertState.TRIGGERED, sev, message),),
                    )
                    self.store.save(alert, alert.history)
                else:
                    kind = "escalated" if sev > current.severity else "repeated"
                    new_sev = max(sev, current.severity)
                    event = AlertEvent(now, kind, current.state, new_sev, message)
                    # A run of repeats is one history entry (the latest), so an alert that
                    # re-fires every evaluation for weeks keeps a short history; the count
                    # lives in ``occurrences``.
                    folded = kind == "repeated" and bool(current.history)
                    folded = folded and current.history[-1].kind == "repeated"
                    kept = current.history[:-1] if folded else current.history
                    alert = current.with_changes(
                        message=message,
                        severity=new_sev,
                        occurrences=current.occurrences + 1,
                        updated_at=now,
                        value=value if value is not None else current.value,
                        history=(*kept, event),
                    )
                    self.store.save(alert, [event], replace_last=folded)
        except sqlite3.Error as exc:
            # A broken store must not silence the alert: notify from memory, count it.
            report_internal_error("alerts", exc, "cannot persist alert", key="store")
            event = AlertEvent(now, kind, AlertState.TRIGGERED, sev, message)
            alert = Alert(
                uuid.uuid4().hex, title, message, sev, AlertState.TRIGGERED, ctx, fp, now, now,
                rule=rule, value=value, history=(event,),
            )  # fmt: skip
        count_event("alerts", f"alert_{kind}")
        self._notify(kind, alert)
        return alert.id

    def update(
        self,
        alert_id: str,
        state: AlertState | str | None = None,
        message: str | None = None,
        *,
        severity: AlertSeverity | str | None = None,
    ) -> Alert | None:
        """Change an alert's state and/or severity; ``message`` is the note recorded with
        the change in the history (the alert's own message, what it is about, stays).

        Raises :class:`AlertNotFoundError` for an unknown id and ``ValueError`` when a
        resolved alert would be reopened (trigger a new one instead). Returns None only
        when the store itself failed (logged and counted).
        """
        new_state = None if state is None else coerce_state(state)
        if new_state is AlertState.RESOLVED:
            return self.resolve(alert_id, message)
        new_sev = None if severity is None else coerce_severity(severity)
        now = utc_from_ts(self.clock())
        try:
            with self.store.transaction():
                current = self._existing(alert_id)
                if not current.is_active:
                    raise ValueError(
                        f"alert {alert_id} is resolved; trigger a new alert instead of reopening it"
                    )
                kind = "updated"
                if new_state is AlertState.ACKNOWLEDGED and current.state is not new_state:
                    kind = "acknowledged"
                elif new_sev is not None and new_sev > current.severity:
                    kind = "escalated"
                alert = current.with_changes(
                    state=new_state or current.state,
                    severity=new_sev or current.severity,
                    updated_at=now,
                )
                event = AlertEvent(now, kind, alert.state, alert.severity, message or "")
                alert = alert.with_changes(history=(*alert.history, event))
                self.store.save(alert, [event])
        except sqlite3.Error as exc:
            report_internal_error("alerts", exc, "cannot update alert", key="store")
            return None
        self._notify(kind, alert)
        return alert

    def acknowledge(self, alert_id: str, message: str = "") -> Alert | None:
        """Shorthand for ``update(alert_id, state=AlertState.ACKNOWLEDGED, message=...)``."""
        return self.update(alert_id, AlertState.ACKNOWLEDGED, message)

    def resolve(self, alert_id: str, resolution_message: str | None = None) -> Alert | None:
        """Resolve an alert; resolving an already resolved alert changes nothing."""
        now = utc_from_ts(self.clock())
        try:
            with self.store.transaction():
                current = self._existing(alert_id)
                if not current.is_active:
                    return current
                alert = current.with_changes(
                    state=AlertState.RESOLVED, updated_at=now, resolved_at=now
                )
                event = AlertEvent(
                    now, "resolved", AlertState.RESOLVED, alert.severity, resolution_message or ""
                )
                alert = alert.with_changes(history=(*alert.history, event))
                self.store.save(alert, [event])
        except sqlite3.Error as exc:
            report_internal_error("alerts", exc, "cannot resolve alert", key="store")
            return None
        count_event("alerts", "alert_resolved")
        self._notify("resolved", alert)
        return alert

    def _existing(self, alert_id: str) -> Alert:
        alert = self.store.get(alert_id)
        if alert is None:
            raise AlertNotFoundError(alert_id)
        return alert

    # -- queries -----------------------------------------------------------------------

    def get(self, alert_id: str) -> Alert | None:
        """The alert with this id (with its full history), or None."""
        return self.store.get(alert_id)

    def find_active(self, title: str, context: dict[str, Any] | None = None) -> Alert | None:
        """The active alert with this title and context, or None."""
        ctx = normalise_context(context)
        return self.store.find_active(fingerprint(title, ctx))

    def list(
        self,
        state: AlertState | str | None = None,
        *,
        active: bool | None = None,
        limit: int = 1000,
    ) -> list[Alert]:
        """Alerts, newest first; filter by ``state`` or by ``active=True/False``."""
        return self.store.list(
            None if state is None else coerce_state(state), active=active, limit=limit
        )

    # -- delivery ----------------------------------------------------------------------

    def _notify(self, kind: str, alert: Alert) -> None:
        notification = Notification(kind, alert)
        for delivery in self._deliveries:
            delivery.submit(notification)

    def flush(self, timeout: float | None = 10.0) -> bool:
        """Wait until queued notifications are delivered or given up; True if all done."""
        deadline = None if timeout is None else time.monotonic() + timeout
        ok = True
        for d in self._deliveries:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            ok = d.flush(left) and ok
        return ok

    def start_rules(
        self,
        rules: Iterable[Any],
        *,
        interval: float = 15.0,
        value_source: Callable[[str, dict[str, str] | None], float | None] | None = None,
    ) -> Any:
        """Evaluate ``rules`` on this manager every ``interval`` seconds in the background.

        Rules created without a ``manager`` are bound to this one. Returns the
        :class:`RuleEvaluator` (also ``manager.evaluator``); :meth:`shutdown` stops it.

        Example::

            manager.start_rules([cpu_rule, disk_rule], interval=30)
        """
        from berrys_monitoring.alerts._evaluator import RuleEvaluator  # import cycle

        rules = list(rules)
        for rule in rules:
            if rule._manager is None:
                rule._manager = self
        if self.evaluator is not None:
            self.evaluator.stop()
        self.evaluator = RuleEvaluator(rules, interval=interval, value_source=value_source)
        return self.evaluator.start()

    def shutdown(self, timeout: float | None = 5.0) -> bool:
        """Stop the rule evaluator, deliver what is queued within ``timeout``, stop the
        delivery workers and close the store."""
        if self.evaluator is not None:
            self.evaluator.stop(timeout)
        deadline = None if timeout is None else time.monotonic() + timeout
        ok = True
        for d in self._deliveries:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            ok = d.shutdown(left) and ok
        self.store.close()
        return ok
