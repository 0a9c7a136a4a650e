"""Delivery of notifications off the caller's thread: one bounded queue and one daemon
worker per notifier, so a slow or dead receiver delays nobody but itself.

A send that raises is retried with exponential backoff; :class:`PermanentDeliveryError`
(e.g. an HTTP 400: the payload will never be accepted) is not. A full queue drops the
notification and counts it. Failures are logged once and counted through ``_internal``.
"""

from __future__ import annotations

import collections
import os
import threading
import time
from typing import Any

from berrys_monitoring._internal import count_event, report_internal_error
from berrys_monitoring.alerts._model import Notification

__all__ = [
    "ALL_EVENTS",
    "DEFAULT_EVENTS",
    "DeliveryError",
    "PermanentDeliveryError",
    "choose_events",
    "notifier_name",
]

#: The notification kinds a notifier receives unless it sets an ``events`` attribute.
DEFAULT_EVENTS = frozenset({"triggered", "escalated", "resolved"})


#: Every notification kind there is.
ALL_EVENTS = frozenset(
    {"triggered", "escalated", "resolved", "repeated", "acknowledged", "updated"}
)


def choose_events(events: object, default: frozenset[str]) -> frozenset[str]:
    """Validate a notifier's ``events=`` option (None keeps ``default``)."""
    if events is None:
        return default
    if isinstance(events, str):
        raise TypeError("events must be a collection of kinds, e.g. {'triggered', 'resolved'}")
    chosen = frozenset(str(e) for e in events)  # type: ignore[attr-defined]
    unknown = chosen - ALL_EVENTS
    if unknown:
        raise ValueError(f"unknown notification kinds {sorted(unknown)}; use {sorted(ALL_EVENTS)}")
    return chosen


class DeliveryError(Exception):
    """A notifier could not deliver; the delivery worker will retry.

    Example::

        raise DeliveryError("receiver answered 503")
    """


class PermanentDeliveryError(DeliveryError):
    """A notifier could not deliver and retrying cannot help (bad request, bad credentials).

    Example::

        raise PermanentDeliveryError("receiver answered 400: bad payload")
    """


def notifier_name(notifier: Any) -> str:
    return str(getattr(notifier, "name", None) or type(notifier).__name__)


class Delivery:
    """The queue and worker thread for one notifier."""

    def __init__(
        self,
        notifier: Any,
        *,
        queue_size: int,
        max_attempts: int,
        backoff_initial: float,
        backoff_max: float,
    ) -> None:
        self.notifier = notifier
        self.name = notifier_name(notifier)
        self.events = frozenset(getattr(notifier, "events", DEFAULT_EVENTS))
        self._queue_size = queue_size
        self._max_attempts = max_attempts
        self._backoff_initial = backoff_initial
        self._backoff_max = backoff_max
        self._cond = threading.Condition()
        self._abort = threading.Event()
        self._reset()

    def _reset(self) -> None:
        # Also the after-fork path: the parent's worker thread does not exist in a child.
        self._items: collections.deque[Notification] = collections.deque()
        self._pending = 0  # queued + being delivered
        self._thread: threading.Thread | None = None
        self._pid = os.getpid()
        self._closed = False

    def _after_fork(self) -> None:
        # Checked before taking the lock: the parent's lock may be held by a thread that
        # does not exist in this child.
        if self._pid != os.getpid():
            self._cond = threading.Condition()
            self._reset()

    def _ensure_worker(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(
                target=self._run, name=f"berrys-alerts-{self.name}", daemon=True
            )
            self._thread.start()

    def submit(self, notification: Notification) -> bool:
        """Queue ``notification``; False (and counted) when the queue is full or closed."""
        if notification.kind not in self.events:
            return False
        self._after_fork()
        with self._cond:
            self._ensure_worker()
            if self._closed or len(self._items) >= self._queue_size:
                count_event("alerts", "notification_dropped_queue_full")
                report_internal_error(
                    "alerts",
                    message=f"notification queue of {self.name} is full; dropping",
                    key=f"queue_full:{self.name}",
                )
                return False
            self._items.append(notification)
            self._pending += 1
            self._cond.notify_all()
        return True

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._items and not self._closed:
                    self._cond.wait()
                if not self._items:
                    return
                item = self._items.popleft()
            try:
                self._deliver(item)
            finally:
                with self._cond:
                    self._pending -= 1
                    self._cond.notify_all()

    def _deliver(self, item: Notification) -> None:
        delay = self._backoff_initial
        for attempt in range(1, self._max_attempts + 1):
            if self._abort.is_set():
                count_event("alerts", "notification_abandoned_at_shutdown")
                return
            try:
                self.notifier.send(item)
            except Exception as exc:
                last = attempt == self._max_attempts or isinstance(exc, PermanentDeliveryError)
                if last:
                    count_event("alerts", "notification_failed")
                    report_internal_error(
                        "alerts",
                        exc,
                        f"notifier {self.name} failed after {attempt} attempt(s)",
                        key=f"delivery:{self.name}:{type(exc).__name__}",
                    )
                    return
                count_event("alerts", "notification_retried")
                # Waiting on the abort event lets shutdown() cut a long backoff short.
                self._abort.wait(delay)
                delay = min(delay * 2, self._backoff_max)
            else:
                count_event("alerts", "notification_sent")
                return

    def flush(self, timeout: float | None) -> bool:
        """Wait until everything queued so far is delivered (or given up); True if so."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while self._pending and self._pid == os.getpid():
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return False
                self._cond.wait(remaining)
        return True

    def shutdown(self, timeout: float | None) -> bool:
        """Deliver what is queued within ``timeout``, then stop the worker."""
        done = self.flush(timeout)
        self._abort.set()
        with self._cond:
            self._closed = True
            dropped = len(self._items)
            self._items.clear()
            self._pending -= dropped
            self._cond.notify_all()
        if dropped:
            count_event("alerts", "notification_abandoned_at_shutdown", dropped)
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(0.5)
        return done and not dropped
